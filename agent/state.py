"""The agent's state (one typed object, checkpointed per session) and the public reply models."""

from __future__ import annotations

from typing import Any, TypedDict

from pydantic import BaseModel, Field


class SessionPrefs(BaseModel):
    """What this session has established so far; each turn refines it."""

    liked_items: list[int] = Field(default_factory=list)
    disliked_items: list[int] = Field(default_factory=list)
    genres_in: list[str] = Field(default_factory=list)
    genres_out: list[str] = Field(default_factory=list)
    year_min: int | None = None
    year_max: int | None = None
    popularity: str | None = None
    vibe: str = ""
    shown: list[int] = Field(default_factory=list, description="every item shown this session")
    last_shown: list[int] = Field(default_factory=list, description="the last list, in order")
    turns: int = 0

    @property
    def has_signal(self) -> bool:
        return bool(self.liked_items or self.genres_in or self.vibe or self.year_min or self.year_max
                    or self.popularity)


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


class Reply(BaseModel):
    """What one turn returns: text, items (empty when asking), an optional question, the trace."""

    text: str
    items: list[RecItem] = Field(default_factory=list)
    question: str | None = None
    trace: list[TraceStep] = Field(default_factory=list)
    session_id: str
    warnings: list[str] = Field(default_factory=list)


class TurnState(TypedDict, total=False):
    """LangGraph state. ``session`` persists across turns through the checkpointer; the rest is
    rewritten every turn. Values are plain JSON so any checkpointer can store them."""

    user_id: str
    session_id: str
    message: str
    request: dict[str, Any]  # agent.request.Request
    session: dict[str, Any]  # SessionPrefs
    profile: dict[str, Any]  # long-term memory merged in this turn
    history: list[int]  # the user's known interactions (ml-100k users), item ids
    action: str  # plan's decision: ask | retrieve | answer
    constraints: dict[str, Any]  # the hard filter actually applied
    candidates: list[dict[str, Any]]
    ranked: list[dict[str, Any]]
    reply: dict[str, Any]  # Reply
    notes: list[str]  # things to tell the user (warnings, memory used, constraints unmet)
    trace: list[dict[str, Any]]
