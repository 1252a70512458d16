"""The REST API (FastAPI): chat, feedback and memory over HTTP, for any number of replicas.

``create_api(rec, auth)`` builds the app; ``convrec serve`` runs it under uvicorn. It speaks to the
agent only through ``ConvRec``, holds nothing between requests (dialogue state is in the
checkpointer, memory in Chroma), so replicas sharing PostgreSQL and a Chroma server are
interchangeable. OpenAPI docs at ``/docs``.
"""

# no `from __future__ import annotations`: FastAPI reads the endpoints' annotations, some local

import logging
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from agent import MAX_MESSAGE, ConvRec, Reply, TurnFailed
from ui.auth import Auth

log = logging.getLogger(__name__)

# the agent's own limits on ids (agent.api): 1-128 characters, not blank, no unit separator
NO_BLANK_NO_SEP = r"^[^\x1f]*[^\x1f\s][^\x1f]*$"
Id = Annotated[str, Field(min_length=1, max_length=128, pattern=NO_BLANK_NO_SEP)]
PathId = Annotated[str, Path(min_length=1, max_length=128, pattern=NO_BLANK_NO_SEP)]


class ChatRequest(BaseModel):
    user_id: Id
    session_id: Id | None = Field(None, description="omitted: the user's default session")
    message: str = Field(min_length=1, max_length=MAX_MESSAGE, description="at most the characters the agent reads")


class FeedbackRequest(BaseModel):
    user_id: Id
    item_id: int
    liked: bool
    session_id: Id | None = None


class Memory(BaseModel):
    """One remembered fact about the user."""

    id: str
    user_id: str
    kind: str
    text: str
    item_id: int | None = None
    genre: str | None = None
    session_id: str | None = None
    created_at: float


class Memories(BaseModel):
    user_id: str
    memories: list[Memory]


class Deleted(BaseModel):
    user_id: str
    deleted: int


class Health(BaseModel):
    status: str = Field(description="ok, or unavailable (with status 503)")
    parts: dict[str, str] = Field(description="dialogue state and memory: ok or the error")
    system: str
    items: int


class Error(BaseModel):
    detail: str


ERRORS = {s: {"model": Error} for s in (400, 401, 403, 404, 503)}


def create_api(rec: ConvRec, auth: Auth | None = None) -> FastAPI:
    """The API over one loaded ConvRec. With ``auth`` every /v1 call needs a bearer token and may
    only act as that token's user; without it anyone may act as any user (the open demo)."""
    api = FastAPI(title="convrec", version="1", description=(
        "A conversational movie recommender. Dialogue state is kept per (user_id, session_id); "
        "long-term memory per user_id." + (" Every /v1 call needs `Authorization: Bearer <token>`."
                                           if auth else " Open demo: no authentication.")))

    def caller(authorization: Annotated[str | None, Header()] = None) -> str | None:
        """The user id the bearer token acts as (None in the open demo); 401 without a valid one."""
        if auth is None:
            return None
        scheme, _, token = (authorization or "").partition(" ")
        user = auth.user_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        if user is None:
            raise HTTPException(401, "missing or invalid bearer token" if authorization else
                                "authentication required: send Authorization: Bearer <token>",
                                headers={"WWW-Authenticate": "Bearer"})
        return user

    def acting_as(user_id: str, who: str | None) -> str:
        if who is not None and user_id != who:
            raise HTTPException(403, "this token may only act as its own user")
        return user_id

    Caller = Annotated[str | None, Depends(caller)]

    def unavailable(e: Exception, what: str) -> HTTPException:
        """503 when dialogue state or memory is down (nothing was stored; retry), else 500."""
        broken = {part: status for part, status in rec.health().items() if status != "ok"}
        if broken:
            log.warning("%s failed, backends down: %s", what, broken)
            return HTTPException(503, f"{what} failed: {', '.join(broken)} unavailable; nothing was "
                                 "stored, please retry", headers={"Retry-After": "1"})
        log.error("%s failed", what, exc_info=e)
        return HTTPException(500, f"{what} failed: internal error (logged)")

    @api.post("/v1/chat", response_model=Reply, responses=ERRORS, tags=["chat"])
    def chat(body: ChatRequest, who: Caller) -> Reply:
        """One turn of the conversation: the reply text, the items with a reason each, or a question."""
        user = acting_as(body.user_id, who)
        try:
            return rec.chat(user, body.message, session_id=body.session_id, raise_errors=True)
        except (ValueError, TypeError) as e:
            raise HTTPException(400, str(e)) from None
        except TurnFailed as e:
            raise unavailable(e, "the turn") from None

    @api.post("/v1/feedback", response_model=Memory, responses=ERRORS, tags=["memory"])
    def feedback(body: FeedbackRequest, who: Caller) -> Memory:
        """Like or dislike a catalog item; remembered for this user's next answers."""
        user = acting_as(body.user_id, who)
        if not rec.in_catalog(body.item_id):
            raise HTTPException(404, f"item {body.item_id} is not in the catalog")
        try:
            record = rec.feedback(user, body.item_id, body.liked, session_id=body.session_id)
        except ValueError as e:
            raise HTTPException(400, str(e)) from None
        except Exception as e:  # noqa: BLE001 - classified: 503 or 500
            raise unavailable(e, "storing feedback") from None
        return Memory(**record.model_dump())

    @api.get("/v1/memories/{user_id}", response_model=Memories, responses=ERRORS, tags=["memory"])
    def memories(user_id: PathId, who: Caller) -> Memories:
        """Everything remembered about the user, oldest first."""
        user = acting_as(user_id, who)
        try:
            records = rec.memories(user)
        except Exception as e:  # noqa: BLE001
            raise unavailable(e, "reading memory") from None
        return Memories(user_id=user, memories=[Memory(**r.model_dump()) for r in records])

    @api.delete("/v1/memories/{user_id}", response_model=Deleted, responses=ERRORS, tags=["memory"])
    def forget(user_id: PathId, who: Caller) -> Deleted:
        """Forget everything remembered about the user."""
        user = acting_as(user_id, who)
        try:
            return Deleted(user_id=user, deleted=rec.forget(user))
        except Exception as e:  # noqa: BLE001
            raise unavailable(e, "forgetting") from None

    @api.delete("/v1/memories/{user_id}/{memory_id}", response_model=Deleted, responses=ERRORS,
                tags=["memory"])
    def forget_one(user_id: PathId, memory_id: Annotated[str, Path(min_length=1, max_length=128)],
                   who: Caller) -> Deleted:
        """Forget one memory (its ``id`` from GET /v1/memories); 404 when the user has no such memory."""
        user = acting_as(user_id, who)
        try:
            found = rec.forget_memory(user, memory_id)
        except Exception as e:  # noqa: BLE001
            raise unavailable(e, "forgetting") from None
        if not found:
            raise HTTPException(404, f"user {user!r} has no memory {memory_id!r}")
        return Deleted(user_id=user, deleted=1)

    @api.get("/healthz", response_model=Health, responses={503: {"model": Health}}, tags=["ops"])
    def healthz() -> JSONResponse:
        """For load balancers: 200 when dialogue state and memory answer, else 503. No auth."""
        parts = rec.health()
        ok = all(v == "ok" for v in parts.values())
        body = Health(status="ok" if ok else "unavailable", parts=parts, system=rec.system,
                      items=rec.catalog_size)
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own 422 body, minus the echoed input (it may be a 100 kB message)
        errors = [{k: v for k, v in e.items() if k not in ("input", "ctx", "url")} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @api.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"detail": "internal error (logged)"}, status_code=500)

    return api
