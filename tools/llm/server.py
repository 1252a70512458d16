"""An OpenAI-compatible HTTP front for the transformers engine, with llama-server's request forms.

``/v1/completions`` and ``/v1/chat/completions`` take a JSON schema either as llama.cpp's
top-level ``json_schema`` or as OpenAI's ``response_format`` ({"type": "json_schema",
"json_schema": {"schema": ...}}, or {"type": "json_object", "schema": ...}); the text returned
then parses and validates under it, unless ``max_tokens`` cuts it (``finish_reason`` "length", as
llama-server does; ``stop`` applies to free text only). A schema the decoder cannot compile is a
400 naming why. Decoding is greedy whatever the temperature; streaming is refused. ``tools`` on a
chat request are accepted and not called: this base model does not make tool calls.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from tools.llm.constrained import SchemaError, compile_schema
from tools.llm.install import MODEL_ID

MAX_TOKENS = 512


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400, code: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.code = status, code


class _Request(BaseModel):
    model_config = ConfigDict(extra="allow")  # OpenAI clients send fields we do not use

    model: str | None = None
    max_tokens: int | None = Field(None, ge=1)
    temperature: float | None = None
    stop: str | list[str] | None = None
    json_schema: dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None


class CompletionRequest(_Request):
    prompt: str | list[str]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(_Request):
    messages: list[ChatMessage] = Field(min_length=1)
    tools: list[dict[str, Any]] | None = None


def _schema_of(request: _Request) -> dict[str, Any] | None:
    schema = request.json_schema
    fmt = request.response_format
    if fmt is not None:
        kind = fmt.get("type")
        if kind == "json_schema":
            inner = fmt.get("json_schema") or {}
            schema = inner.get("schema", inner) if isinstance(inner, dict) else None
            if not isinstance(schema, dict):
                raise BadRequest("response_format.json_schema.schema must be an object")
        elif kind == "json_object":
            schema = fmt.get("schema") or {"type": "object"}
        elif kind != "text":
            raise BadRequest(f"response_format.type {kind!r} is not one of text, json_object, json_schema")
    if schema is not None:
        try:
            compile_schema(schema)
        except SchemaError as e:
            raise BadRequest(f"unsupported JSON schema: {e}") from e
    return schema


def _check_model(request: _Request) -> None:
    if getattr(request, "stream", False):
        raise BadRequest("stream=true is not supported by this engine; send stream=false")
    if (getattr(request, "n", None) or 1) != 1:
        raise BadRequest("n must be 1")
    if request.model not in (None, "", MODEL_ID):
        raise BadRequest(f"model {request.model!r} is not served here; use {MODEL_ID!r}", 404, "model_not_found")


def _stops(request: _Request) -> list[str]:
    return [request.stop] if isinstance(request.stop, str) else list(request.stop or [])


def _text_of(content: str | list[dict[str, Any]] | None) -> str:
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if part.get("type") == "text")
    return content or ""


def build_app(engine) -> FastAPI:
    app = FastAPI(title="convrec local LLM")

    @app.exception_handler(BadRequest)
    async def _bad(request: Request, exc: BadRequest):
        return JSONResponse({"error": {"message": str(exc), "type": exc.code}}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"error": {"message": f"invalid request: {where}", "type": "invalid_request_error"}},
                            status_code=400)

    @app.get("/health")
    def health():
        return {"status": "ok"}

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "owned_by": "convrec",
                                            "created": 0}]}

    def _usage(g) -> dict[str, int]:
        return {"prompt_tokens": g.prompt_tokens, "completion_tokens": g.completion_tokens,
                "total_tokens": g.prompt_tokens + g.completion_tokens}

    @app.post("/v1/completions")
    async def completions(request: CompletionRequest):
        _check_model(request)
        schema = _schema_of(request)
        prompts = [request.prompt] if isinstance(request.prompt, str) else request.prompt
        if len(prompts) != 1:
            raise BadRequest("exactly one prompt per request")
        g = await run_in_threadpool(engine.generate, prompts[0], request.max_tokens or MAX_TOKENS,
                                    _stops(request), schema)
        return {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()),
                "model": MODEL_ID,
                "choices": [{"index": 0, "text": g.text, "finish_reason": g.finish_reason, "logprobs": None}],
                "usage": _usage(g), "timings": g.timings()}

    @app.post("/v1/chat/completions")
    async def chat(request: ChatRequest):
        _check_model(request)
        schema = _schema_of(request)
        messages = [{"role": m.role, "content": _text_of(m.content)} for m in request.messages]
        try:
            prompt = engine.chat_prompt(messages)
        except Exception as e:  # the template refuses e.g. roles out of order
            raise BadRequest(f"messages do not fit the chat template: {e}") from e
        g = await run_in_threadpool(engine.generate, prompt, request.max_tokens or MAX_TOKENS,
                                    _stops(request), schema, True)
        return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
                "model": MODEL_ID,
                "choices": [{"index": 0, "finish_reason": g.finish_reason,
                             "message": {"role": "assistant", "content": g.text}}],
                "usage": _usage(g), "timings": g.timings()}

    return app
