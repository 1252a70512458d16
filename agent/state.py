"""The agent's state (one typed object, checkpointed per session) and the public reply models."""

from __future__ import annotations

from statistics import median
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, Field

from agent.llm import FallbackReason
from agent.request import Request
from tools.catalog import item_label


class Applied(BaseModel):
    """What one request changed, with references to the shown list resolved into item ids."""

    liked: list[int] = Field(default_factory=list)
    disliked: list[int] = Field(default_factory=list)
    genres_out: list[str] = Field(default_factory=list, description="genres newly excluded")


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
    last_years: list[int] = Field(default_factory=list, description="years of the last list: 'older' pivots on them")
    turns: int = 0

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
        - ``clear`` lifts genres, years or popularity ("any year").
        """
        liked = _dedup(req.liked_items + [self.last_shown[p] for p in req.shown_liked if p < len(self.last_shown)])
        disliked = _dedup(req.disliked_items + [self.last_shown[p] for p in req.shown_disliked if p < len(self.last_shown)])
        if req.mode == "replace" and liked:
            self.liked_items = []
        self.liked_items = _merge(self.liked_items, liked, drop=disliked + req.items_drop)
        self.disliked_items = _merge(self.disliked_items, disliked, drop=liked)
        new_out = [g for g in req.genres_out if g not in self.genres_out]
        self._apply_genres(req)
        self._apply_years(req)
        if "popularity" in req.clear:
            self.popularity = None
        if req.popularity:
            self.popularity = req.popularity
        # a film outside the catalog still says something: its title's words join the vibe
        words = " ".join([*req.unknown_liked, req.vibe.strip()]).strip()
        if words:
            self.vibe = words
        self.turns += 1
        return Applied(liked=liked, disliked=disliked, genres_out=new_out)

    def _apply_genres(self, req: Request) -> None:
        if "genres" in req.clear:
            self.genres_in, self.genres_out = [], []
        if req.genres_in:
            self.genres_in = _merge(self.genres_in, req.genres_in) if req.mode == "add" else list(req.genres_in)
        for g in req.genres_drop:
            if g in self.genres_in:
                self.genres_in.remove(g)
            elif g not in self.genres_out:
                self.genres_out.append(g)
        self.genres_out = _merge(self.genres_out, req.genres_out, drop=req.genres_in)
        self.genres_in = [g for g in self.genres_in if g not in req.genres_out]

    def _apply_years(self, req: Request) -> None:
        if "years" in req.clear:
            self.year_min = self.year_max = None
        lo, hi = req.year_min, req.year_max
        if req.relative_year and self.last_years:
            pivot = int(median(self.last_years))
            rel = (None, pivot - 1) if req.relative_year == "older" else (pivot + 1, None)
            self.year_min = lo if lo is not None else rel[0]
            self.year_max = hi if hi is not None else rel[1]
        elif lo is not None and hi is not None:
            self.year_min, self.year_max = lo, hi
        elif lo is not None:
            self.year_min = lo
            self.year_max = self.year_max if self.year_max is not None and self.year_max >= lo else None
        elif hi is not None:
            self.year_max = hi
            self.year_min = self.year_min if self.year_min is not None and self.year_min <= hi else None

    @property
    def has_signal(self) -> bool:
        return bool(self.liked_items or self.genres_in or self.vibe or self.year_min or self.year_max
                    or self.popularity)


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
    applied: dict[str, Any]  # agent.state.Applied: what this turn's request changed (for remember)
    constraints: dict[str, Any]  # the hard filter actually applied
    candidates: list[dict[str, Any]]
    preferred: list[int]  # candidates with every genre of a blend, kept first through reranking
    rerank_weight: float  # the evidence's share of the reranker's order (tools.recommend.WEIGHTS)
    ranked: list[dict[str, Any]]
    reply: dict[str, Any]  # Reply
    notes: list[str]  # things to tell the user (warnings, memory used, constraints unmet)
    trace: list[dict[str, Any]]
    llm: dict[str, Any]  # the LLM planner's loop: deadline, messages, pending calls, pool, fallback
