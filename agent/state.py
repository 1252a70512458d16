"""The agent's state (one typed object, checkpointed per session) and the public reply models."""

from __future__ import annotations

import operator
from statistics import median
from typing import Annotated, Any, Literal, TypedDict, get_args, get_type_hints

from pydantic import BaseModel, Field, model_validator

from agent.llm import FallbackReason
from agent.planner import PlanStep
from agent.request import Request
from memory.preferences import UserProfile
from tools.catalog import item_label
from tools.constraints import Constraints
from tools.retrievers import Candidate


class Applied(BaseModel):
    """What one request changed, with references to the shown list resolved into item ids."""

    liked: list[int] = Field(default_factory=list)
    disliked: list[int] = Field(default_factory=list)
    genres_out: list[str] = Field(default_factory=list, description="genres newly excluded")


# a session's constraint fields before the one Constraints model -> that model's fields
OLD_CONSTRAINT_FIELDS = {"genres_in": "genres", "genres_out": "genres_none", "year_min": "year_min",
                         "year_max": "year_max", "popularity": "popularity"}


class SessionPrefs(BaseModel):
    """What this session has established so far; each turn refines it."""

    liked_items: list[int] = Field(default_factory=list)
    disliked_items: list[int] = Field(default_factory=list)
    constraints: Constraints = Field(default_factory=Constraints, description="what the person asked of the films")
    vibe: str = ""
    tone: list[str] = Field(default_factory=list, description="tones wanted (agent/tones.py): soft, never a filter")
    tone_none: list[str] = Field(default_factory=list, description="tones not wanted")
    seen: list[int] = Field(default_factory=list, description="films the person said they have seen: never shown")
    shown: list[int] = Field(default_factory=list, description="every item shown this session")
    last_shown: list[int] = Field(default_factory=list, description="the last list, in order")
    last_years: list[int] = Field(default_factory=list, description="years of the last list: 'older' pivots on them")
    turns: int = 0
    questions: list[str] = Field(default_factory=list, description="kinds of question asked this session (once each)")
    memory_said: list[str] = Field(default_factory=list, description="what memory did, said this session (once each)")

    @model_validator(mode="before")
    @classmethod
    def _constraints_from_before_one_model(cls, data: Any) -> Any:
        """A session checkpointed before the one ``Constraints`` model (issue 24) kept its
        constraints as fields of its own (``genres_in``, ``genres_out``, years, popularity): they
        move into ``constraints``, so the session resumes with them."""
        if not isinstance(data, dict) or "constraints" in data or not OLD_CONSTRAINT_FIELDS.keys() & data.keys():
            return data
        data = dict(data)
        old = {new: data.pop(name) for name, new in OLD_CONSTRAINT_FIELDS.items() if name in data}
        return {**data, "constraints": {k: v for k, v in old.items() if v not in (None, [])}}

    def apply(self, req: Request) -> Applied:
        """Merge one request into the session; the only place session constraints change.

        - items: liked and disliked accumulate (one cancels the other); ``mode='replace'`` with
          liked items starts the liked list afresh; ``items_drop`` forgets without disliking.
        - genres: new wanted genres replace the old ones, or join them with ``mode='add'``
          ("also a drama", "funnier", "but still horror"); an excluded genre leaves the wanted
          ones; ``genres_drop`` ("no more X") un-wants X, or excludes it when it was not wanted.
        - years: a request giving both bounds replaces both; one bound replaces its side and
          keeps the other while they are compatible; "older"/"newer" pivot on the median year of
          the last list and yield to an explicit bound on the same side ("older, before 1980").
        - any other constraint (popularity, audience, directors, rating, runtime, acclaim): a value
          given replaces the session's; one not given keeps it (an empty list gives nothing), so
          "for children" or the directors named stay until lifted.
        - ``clear`` lifts a kind of constraint ("any year", "any director", "not just for children").
        """
        liked = _dedup(req.liked_items + [self.last_shown[p] for p in req.shown_liked if p < len(self.last_shown)])
        disliked = _dedup(req.disliked_items + [self.last_shown[p] for p in req.shown_disliked if p < len(self.last_shown)])
        if req.mode == "replace" and liked:
            self.liked_items = []
        self.liked_items = _merge(self.liked_items, liked, drop=disliked + req.items_drop)
        self.disliked_items = _merge(self.disliked_items, disliked, drop=liked)
        asked = req.constraints
        new_out = [g for g in asked.genres_none if g not in self.constraints.genres_none]
        kept = self.constraints.lifted(*req.clear)
        genres, genres_none = self._merged_genres(kept, req)
        year_min, year_max = self._merged_years(kept, req)
        rest = {f: getattr(asked if f in asked.given else kept, f)
                for f in Constraints.model_fields if f not in ("genres", "genres_none", "year_min", "year_max")}
        self.constraints = Constraints(genres=genres, genres_none=genres_none, year_min=year_min, year_max=year_max,
                                       **rest)
        self.tone = _merge(self.tone, req.tone, drop=req.tone_none)
        self.tone_none = _merge(self.tone_none, req.tone_none, drop=req.tone)
        self.seen = _merge(self.seen, req.seen_items + [self.last_shown[p] for p in req.seen_shown
                                                        if p < len(self.last_shown)])
        # a film outside the catalog still says something: its title's words join the vibe
        words = " ".join([*req.unknown_liked, req.vibe.strip()]).strip()
        if words:
            self.vibe = words
        self.turns += 1
        return Applied(liked=liked, disliked=disliked, genres_out=new_out)

    @staticmethod
    def _merged_genres(kept: Constraints, req: Request) -> tuple[list[str], list[str]]:
        asked = req.constraints
        genres, genres_none = list(kept.genres), list(kept.genres_none)
        if asked.genres:
            genres = _merge(genres, asked.genres) if req.mode == "add" else list(asked.genres)
        for g in req.genres_drop:
            if g in genres:
                genres.remove(g)
            elif g not in genres_none:
                genres_none.append(g)
        genres_none = _merge(genres_none, asked.genres_none, drop=asked.genres)
        return [g for g in genres if g not in asked.genres_none], genres_none

    def _merged_years(self, kept: Constraints, req: Request) -> tuple[int | None, int | None]:
        year_min, year_max = kept.year_min, kept.year_max
        lo, hi = req.constraints.year_min, req.constraints.year_max
        if req.relative_year and self.last_years:
            # "the first one is close but too recent": older than that film, not than the list
            aligned = len(self.last_years) == len(self.last_shown)
            near = [self.last_years[p] for p in req.shown_liked if aligned and p < len(self.last_years)]
            pivot = int(median(near or self.last_years))
            rel = (None, pivot - 1) if req.relative_year == "older" else (pivot + 1, None)
            return lo if lo is not None else rel[0], hi if hi is not None else rel[1]
        if lo is not None and hi is not None:
            return lo, hi
        if lo is not None:
            return lo, year_max if year_max is not None and year_max >= lo else None
        if hi is not None:
            return year_min if year_min is not None and year_min <= hi else None, hi
        return year_min, year_max

    def show(self, items: list[RecItem]) -> None:
        """Record a list shown (the only place shown items change): what "the second one" and
        "older" refer to next, and what is never shown again this session."""
        self.last_shown = [r.item_id for r in items]
        self.last_years = [r.year for r in items if r.year]
        self.shown = list(dict.fromkeys(self.shown + self.last_shown))

    @property
    def has_signal(self) -> bool:
        return bool(self.liked_items or self.constraints.says_what_is_wanted or self.vibe or self.tone)


def _merge(old: list, new: list, drop: list = ()) -> list:
    out = [x for x in old if x not in drop]
    return out + [x for x in _dedup(new) if x not in out and x not in drop]


def _dedup(xs: list) -> list:
    return list(dict.fromkeys(xs))


# what ConvRec.chat's guard caught (Reply.error)
TurnError = Literal["internal error", "outside catalog"]


class TraceStep(BaseModel):
    node: str
    ms: float
    detail: str = ""


class RecItem(BaseModel):
    item_id: int
    title: str
    year: int | None
    genres: list[str]
    score: float
    reason: str

    @property
    def label(self) -> str:
        return item_label(self.title, self.year)


class Reply(BaseModel):
    """What one turn returns: text, items (empty when asking), an optional question, the trace."""

    text: str
    items: list[RecItem] = Field(default_factory=list)
    question: str | None = None
    question_kind: str | None = Field(None, description="what the question asks about (agent/questions.py), if any")
    trace: list[TraceStep] = Field(default_factory=list)
    session_id: str
    warnings: list[str] = Field(default_factory=list)
    planner: Literal["offline", "llm", "llm-fallback"] = Field(
        "offline", description="who chose the tool calls: the rules, the LLM, or the rules after an LLM fault")
    llm_ms: float = Field(0.0, description="time spent waiting for the LLM in this turn")
    fallback_reason: FallbackReason | None = Field(
        None, description="why the LLM's plan was given up (planner 'llm-fallback'); the trace says it in words")
    error: TurnError | None = Field(
        None, description="set only by ConvRec.chat's guard, which logged it: the turn raised inside the "
                          "agent, or its reply held items outside the catalog (then text is an apology)")
    dropped_outside_catalog: int = Field(
        0, description="items outside the catalog the guard found in the turn's reply and dropped (0 normally)")


class TurnContext(BaseModel):
    """What this turn filters and ranks by, built once by ``plan`` from the session, memory and
    history; ``retrieve``, ``rerank`` and the LLM's ``act`` and ``compose`` read it."""

    asked: Constraints = Field(default_factory=Constraints, description="the session's constraints and memory's dislikes")
    exclude: list[int] = Field(default_factory=list, description="seen, rated, shown, liked or disliked: never shown")
    strong: list[int] = Field(default_factory=list, description="remembered likes close to the message (as if said now)")
    weak: list[int] = Field(default_factory=list, description="remembered films watched and not liked, and the other remembered likes (join the history)")
    vibe: str = Field("", description="the session's words and the remembered notes close to them")
    lean: dict[str, float] = Field(default_factory=dict, description="genre -> how the tones asked lean to it (-1..1)")
    applied: Applied = Field(default_factory=Applied, description="what this turn's request changed (for remember)")


class LLMLoop(BaseModel):
    """The LLM planner's loop for one turn: its deadline, the chat so far, the calls asked for and made,
    and the items they returned; ``fallback`` says why the turn went to the offline planner."""

    deadline: float
    calls: int = 0
    llm_ms: float = 0.0
    messages: list[dict[str, Any]] = Field(default_factory=list)
    pending: list[PlanStep] = Field(default_factory=list)
    pool: list[Candidate] = Field(default_factory=list)
    fallback: str | None = None
    fallback_reason: FallbackReason | None = None
    accepted: bool = False


class TurnState(TypedDict, total=False):
    """LangGraph state. ``session`` persists across turns through the checkpointer; the rest is
    rewritten every turn (``ConvRec.chat`` resets it). Values are pydantic models, which LangGraph's
    serializer checkpoints; ``trace`` and ``notes`` add up: a node returns only its new entries."""

    user_id: str
    session_id: str
    message: str
    session: SessionPrefs
    request: Request
    profile: UserProfile  # long-term memory merged in this turn (empty with memory off)
    history: list[int]  # the user's known interactions (ml-100k users), item ids
    action: str  # plan's decision: ask | answer | retrieve
    turn: TurnContext | None  # built by plan
    ranked: list[Candidate]  # the reply's candidates, best first (retrieve, or the LLM's compose)
    question: str | None  # the kind of question to ask beside the list (agent/questions.py), from retrieve
    reply: Reply | None  # text, items and question; final_reply adds the rest
    llm: LLMLoop | None  # None: the offline planner
    notes: Annotated[list[str], operator.add]  # things to tell the user (warnings, memory used, constraints unmet)
    trace: Annotated[list[TraceStep], operator.add]


def state_models() -> list[type[BaseModel]]:
    """The pydantic models ``TurnState`` holds: what a checkpoint hands back."""
    found: dict[type[BaseModel], None] = {}
    todo = list(get_type_hints(TurnState).values())
    while todo:
        t = todo.pop(0)
        if isinstance(t, type) and issubclass(t, BaseModel):
            found[t] = None
        todo += get_args(t)
    return list(found)
