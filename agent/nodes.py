"""The graph's nodes. Each is ``(state, tools) -> partial update``; ``agent/graph.py`` wires them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from agent.request import Request
from agent.state import RecItem, Reply, SessionPrefs, TurnState
from tools.catalog import Catalog, Item, ItemFilter
from tools.retrievers import Candidate, CFRetriever, ItemIndex, SemanticRetriever, fuse

log = logging.getLogger(__name__)


class Understander(Protocol):
    def parse(self, message: str, shown: list[int] = ...) -> Request: ...


class Reranker(Protocol):
    def rerank(self, history_iidx, candidates_iidx, retrieval_scores, k: int) -> list[tuple[int, float]]: ...


@dataclass
class Toolbox:
    """Everything the nodes call. Built once by ``ConvRec.load``; shared by all sessions."""

    catalog: Catalog
    index: ItemIndex
    cf: CFRetriever
    semantic: SemanticRetriever
    understander: Understander
    popularity: np.ndarray  # train interactions per iidx
    histories: dict[str, list[int]] = field(default_factory=dict)  # known user id -> item ids, oldest first
    memory: Any = None  # memory.PreferenceMemory, or None for the no-memory ablation
    reranker: Reranker | None = None
    llm: Any = None  # agent.llm.LLMClient, or None offline
    # ablations and baselines switch these off (see agent.api.SYSTEMS)
    use_cf: bool = True
    use_text: bool = True
    use_dialogue: bool = True
    k: int = 10
    n_candidates: int = 100


def _session(state: TurnState) -> SessionPrefs:
    return SessionPrefs(**(state.get("session") or {}))


def _request(state: TurnState) -> Request:
    return Request(**state["request"])


# ---- understand -----------------------------------------------------------------------------

def understand(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    session = _session(state)
    request = None
    if tools.llm is not None:
        request = tools.llm.understand(state["message"], tools.catalog.get(session.last_shown))
    source = "llm" if request is not None else "offline"
    if request is None:
        request = tools.understander.parse(state["message"], shown=session.last_shown)
    if request.intent == "reset":
        session = SessionPrefs()
    return {
        "request": request.model_dump(), "session": session.model_dump(), "notes": list(request.warnings),
        "_detail": f"{source}: intent={request.intent} liked={request.liked_items} "
                   f"genres+={request.genres_in} genres-={request.genres_out} years={request.year_min}-{request.year_max}",
    }  # fmt: skip


# ---- recall ---------------------------------------------------------------------------------

def recall(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    user = state["user_id"]
    history = tools.histories.get(user, [])
    if tools.memory is None:
        return {"profile": {}, "history": history, "_detail": f"memory off; history={len(history)}"}
    from memory import UserProfile

    records = tools.memory.all(user)
    profile = UserProfile.from_records(user, records)
    # the relevance query costs an embedding; only worth it when there is something to find
    relevant = tools.memory.recall(user, state["message"][:1000], k=3) if records and state["message"].strip() else []
    return {
        "profile": profile.model_dump(),
        "history": history,
        "_detail": f"history={len(history)} liked={len(profile.liked_items)} disliked={len(profile.disliked_items)} "
                   f"genres-={profile.genres_disliked} relevant={[r.text for r in relevant]}",
    }  # fmt: skip


# ---- plan -----------------------------------------------------------------------------------

def plan(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    """Merge this turn's request into the session, then decide: answer, ask or retrieve."""
    req, session, notes = _request(state), _session(state), list(state.get("notes", []))
    if not tools.use_dialogue:  # baselines that ignore what is said: always a fresh list
        session.turns += 1
        return {"session": session.model_dump(), "action": "retrieve", "_detail": "dialogue ignored"}
    for pos in req.shown_liked:
        if pos < len(session.last_shown):
            req.liked_items.append(session.last_shown[pos])
    for pos in req.shown_disliked:
        if pos < len(session.last_shown):
            req.disliked_items.append(session.last_shown[pos])
    session.liked_items = _merge(session.liked_items, req.liked_items, drop=req.disliked_items)
    session.disliked_items = _merge(session.disliked_items, req.disliked_items, drop=req.liked_items)
    if req.genres_in:
        session.genres_in = list(req.genres_in)
    session.genres_out = _merge(session.genres_out, req.genres_out, drop=session.genres_in)
    session.genres_in = [g for g in session.genres_in if g not in req.genres_out]
    if req.year_min is not None or req.year_max is not None:
        session.year_min, session.year_max = req.year_min, req.year_max
    if req.relative_year and session.last_shown:
        years = [i.year for i in tools.catalog.get(session.last_shown) if i.year]
        if years:
            pivot = int(np.median(years))
            if req.relative_year == "older":
                session.year_min, session.year_max = None, pivot - 1
            else:
                session.year_min, session.year_max = pivot + 1, None
    if req.popularity:
        session.popularity = req.popularity
    if req.vibe.strip():
        session.vibe = req.vibe.strip()
    for title in req.unknown_titles:
        notes.append(f"I couldn't find \u201c{title[:60]}\u201d in the catalog.")
    session.turns += 1

    profile = state.get("profile") or {}
    has_long_term = bool(state.get("history") or profile.get("liked_items"))
    if req.intent in ("smalltalk", "ask_item") or (req.intent == "reset" and not req.has_signal):
        action = "answer"
    elif req.ambiguous_titles and not (session.has_signal or has_long_term):
        action = "ask"
    elif session.has_signal or has_long_term:
        action = "retrieve"
    else:
        action = "ask"
    return {"session": session.model_dump(), "request": req.model_dump(), "notes": notes, "action": action,
            "_detail": f"action={action}"}


def _merge(old: list, new: list, drop: list = ()) -> list:
    out = [x for x in old if x not in drop]
    out += [x for x in new if x not in out and x not in drop]
    return out


def route(state: TurnState) -> str:
    return state["action"]


# ---- ask ------------------------------------------------------------------------------------

def ask(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    req = _request(state)
    if req.ambiguous_titles:
        title, ids = next(iter(req.ambiguous_titles.items()))
        options = ", ".join(f"{i.title} ({i.year})" for i in tools.catalog.get(ids[:4]))
        question = f"Which \u201c{title[:60]}\u201d do you mean: {options}?"
    else:
        question = ("What are you in the mood for? Tell me a film you liked, a genre, or a decade "
                    "(for example: \u201csomething like Fargo, but funnier\u201d).")
    text = " ".join([*state.get("notes", []), question])
    return {"reply": {"text": text, "question": question, "items": []}, "ranked": []}


# ---- answer (no retrieval: reset, small talk, a question about one item) ----------------------

def answer(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    req = _request(state)
    if req.intent == "reset":
        text = "Starting over. What would you like to watch?"
    elif req.intent == "ask_item" and req.ask_about is not None and req.ask_about in tools.catalog:
        item = tools.catalog.get([req.ask_about])[0]
        vec = tools.cf.user_vector([item.item_id])
        similar = []
        if vec is not None:
            scores = tools.cf.scores(vec)
            scores[tools.index.to_iidx([item.item_id])] = -np.inf
            similar = tools.catalog.get(tools.index.to_ids(np.argsort(-scores)[:3]))
        text = (f"{_label(item)} is {_genres(item)}; {item.popularity} people in the data watched it."
                + (f" People who liked it often watch {', '.join(_label(s) for s in similar)}." if similar else ""))
    elif req.intent == "ask_item":
        text = "I couldn't tell which film you mean; could you give its title?"
    else:
        text = "Happy to help. Tell me a film you liked, a genre or a decade, and I'll suggest some."
    return {"reply": {"text": " ".join([*state.get("notes", []), text]), "items": []}, "ranked": []}


# ---- retrieve -------------------------------------------------------------------------------

def constraints_for(session: SessionPrefs, profile: dict, history: list[int], popularity: np.ndarray) -> ItemFilter:
    """The hard filter for this turn: the session's constraints plus memory's dislikes."""
    remembered_out = [g for g in profile.get("genres_disliked", []) if g not in session.genres_in]
    flt = ItemFilter(
        genres_any=session.genres_in,
        genres_none=_merge(session.genres_out, remembered_out),
        year_min=session.year_min,
        year_max=session.year_max,
        exclude=sorted(set(history) | set(session.disliked_items) | set(profile.get("disliked_items", []))
                       | set(session.shown) | set(session.liked_items) | set(profile.get("liked_items", []))),
    )
    if session.popularity == "popular":
        flt.min_popularity = int(np.percentile(popularity, 90))
    elif session.popularity == "obscure":
        flt.max_popularity = max(1, int(np.percentile(popularity, 50)))
    return flt


def retrieve(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    session, profile, history = _session(state), state.get("profile") or {}, state.get("history") or []
    notes = list(state.get("notes", []))
    flt = constraints_for(session, profile, history, tools.popularity)
    if len(flt.genres_any) > 1:  # "a funny horror film": prefer items with every genre asked
        both = flt.model_copy(update={"genres_all": flt.genres_any})
        if len(tools.catalog.filter(both, limit=tools.k)) >= tools.k:
            flt = both
    allowed = tools.index.to_iidx(tools.catalog.filter(flt))
    if len(allowed) == 0:
        notes.append(f"No film in the catalog is {_describe(flt)}; try loosening one of those constraints.")
        return {"constraints": flt.model_dump(), "candidates": [], "notes": notes, "_detail": "0 allowed"}
    # what this session says weighs most; remembered likes count like the long-term history
    remembered_likes = [i for i in profile.get("liked_items", []) if i not in session.liked_items]
    user_vec = tools.cf.user_vector(session.liked_items, history + remembered_likes) if tools.use_cf else None
    cf_scores = tools.cf.scores(user_vec) if user_vec is not None else None
    text_query = tools.semantic.query_vector(session.vibe, session.liked_items) if tools.use_text else None
    text_scores = tools.semantic.scores(text_query) if text_query is not None else None
    # CF carries taste; text carries what was said. Without a vibe, text only adds "like X" content.
    text_weight = 1.0 if session.vibe else 0.5
    candidates = fuse(allowed, tools.index, tools.n_candidates, cf_scores, text_scores, tools.popularity,
                      text_weight=text_weight)
    remembered = [g for g in flt.genres_none if g in profile.get("genres_disliked", []) and g not in session.genres_out]
    if remembered:
        notes.append(f"You told me before that you dislike {', '.join(remembered)}, so I left those out.")
    return {
        "constraints": flt.model_dump(), "candidates": [c.model_dump() for c in candidates], "notes": notes,
        "_detail": f"allowed={len(allowed)} cf={'yes' if cf_scores is not None else 'no'} "
                   f"text={'yes' if text_scores is not None else 'no'} candidates={len(candidates)}",
    }  # fmt: skip


# ---- rerank ---------------------------------------------------------------------------------

def rerank(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    candidates = [Candidate(**c) for c in state.get("candidates", [])]
    if tools.reranker is None or len(candidates) < 2:
        return _llm_rerank(state, tools, candidates, "retrieval order")
    session = _session(state)
    history = tools.index.to_iidx((state.get("history") or []) + session.liked_items)
    cand_iidx = tools.index.to_iidx([c.item_id for c in candidates])
    ranked = tools.reranker.rerank(history, cand_iidx, [c.score for c in candidates], k=len(candidates))
    by_iidx = dict(zip(cand_iidx.tolist(), candidates, strict=True))
    # the reranker's contract is a subset of the candidates; enforce it here as well
    out, seen = [], set()
    for iidx, score in ranked:
        if iidx in by_iidx and iidx not in seen:
            seen.add(iidx)
            out.append(by_iidx[iidx].model_copy(update={"score": float(score)}))
    return _llm_rerank(state, tools, out, f"generative rerank of {len(out)}")


def _llm_rerank(state: TurnState, tools: Toolbox, ranked: list[Candidate], detail: str) -> dict[str, Any]:
    """With an LLM configured, a listwise rerank of the top of the list (constrained to it)."""
    top = tools.k * 2
    if tools.llm is not None and len(ranked) > 1:
        order = tools.llm.rerank(state["message"], tools.catalog.get([c.item_id for c in ranked[:top]]))
        if order is not None:
            by_id = {c.item_id: c for c in ranked[:top]}
            ranked = [by_id[i] for i in order if i in by_id] + ranked[top:]
            detail += f"; llm listwise top {top}"
    return {"ranked": [c.model_dump() for c in ranked], "_detail": detail}


# ---- respond --------------------------------------------------------------------------------

def respond(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    session, profile, history = _session(state), state.get("profile") or {}, state.get("history") or []
    ranked = [Candidate(**c) for c in state.get("ranked", [])][: tools.k]
    items = tools.catalog.get([c.item_id for c in ranked])
    flt = ItemFilter(**state["constraints"]) if state.get("constraints") else ItemFilter()
    anchors = _merge(session.liked_items, profile.get("liked_items", [])) or history[-30:]
    recs = [
        RecItem(item_id=it.item_id, title=it.title, year=it.year, genres=it.genres, score=round(c.score, 4),
                reason=_reason(it, c, flt, anchors, session, tools))
        for it, c in zip(items, ranked, strict=True)
    ]  # fmt: skip
    notes = state.get("notes", [])
    if recs:
        head = f"Here are {len(recs)} picks" + (f" ({_describe(flt)})" if _describe(flt) else "") + "."
    else:
        head = "I have nothing to show for that."
    text = " ".join([*notes, head])
    if tools.llm is not None and recs:
        text = tools.llm.write_reply(state["message"], recs, notes) or text
    session.last_shown = [r.item_id for r in recs]
    session.shown = _merge(session.shown, session.last_shown)
    # the per-turn lists are dropped here so the checkpoint written at the end of the turn stays small
    return {"reply": {"text": text, "items": [r.model_dump() for r in recs]}, "session": session.model_dump(),
            "candidates": [], "ranked": []}


def _reason(item: Item, c: Candidate, flt: ItemFilter, anchors: list[int], session: SessionPrefs,
            tools: Toolbox) -> str:
    parts = []
    neighbours = tools.cf.neighbours_of(item.item_id, anchors, k=2) if c.cf is not None else []
    if neighbours:
        names = " and ".join(_label(n) for n in tools.catalog.get(neighbours))
        parts.append(f"people who liked {names} often watch this")
    if c.text is not None and c.text > 1.0:
        parts.append(f"close to \u201c{session.vibe[:40]}\u201d" if session.vibe else "similar in content to what you liked")
    matched = [g for g in item.genres if g in flt.genres_any]
    if matched or flt.year_min or flt.year_max:
        parts.append(f"a {'/'.join(matched) or 'film'} from {item.year}, as asked")
    if not parts:
        parts.append(f"popular: {item.popularity} viewers in the data")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _label(item: Item) -> str:
    return f"{item.title} ({item.year})" if item.year else item.title


def _genres(item: Item) -> str:
    return ", ".join(item.genres) if item.genres else "of unknown genre"


def _describe(flt: ItemFilter) -> str:
    parts = []
    if flt.genres_any:
        parts.append(" or ".join(flt.genres_any))
    if flt.genres_none:
        parts.append("without " + ", ".join(flt.genres_none))
    if flt.year_min and flt.year_max:
        parts.append(f"from {flt.year_min}-{flt.year_max}")
    elif flt.year_min:
        parts.append(f"from {flt.year_min} on")
    elif flt.year_max:
        parts.append(f"up to {flt.year_max}")
    if flt.min_popularity:
        parts.append("popular")
    if flt.max_popularity:
        parts.append("lesser-known")
    return ", ".join(parts)


# ---- remember -------------------------------------------------------------------------------

def remember(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    """Store what the user said about their taste: liked/disliked items, excluded genres."""
    if tools.memory is None:
        return {"_detail": "memory off"}
    from memory import MemoryRecord

    req, session, user = _request(state), _session(state), state["user_id"]
    sid = state.get("session_id")
    # shown references were resolved into ids by plan; read them back from the merged request
    records = []
    for item in tools.catalog.get(req.liked_items):
        records.append(MemoryRecord(user_id=user, kind="like", item_id=item.item_id, text=f"likes {_label(item)}", session_id=sid))
    for item in tools.catalog.get(req.disliked_items):
        records.append(MemoryRecord(user_id=user, kind="dislike", item_id=item.item_id, text=f"dislikes {_label(item)}", session_id=sid))
    for g in req.genres_out:
        records.append(MemoryRecord(user_id=user, kind="genre_dislike", genre=g, text=f"dislikes {g} films", session_id=sid))
    if records and len(state["message"]) <= 500:
        records.append(MemoryRecord(user_id=user, kind="statement", text=state["message"].strip(), session_id=sid))
    if records:
        tools.memory.add_many(records)
    return {"_detail": f"stored {len(records)} (session turns={session.turns})"}


def final_reply(state: TurnState) -> Reply:
    r = state.get("reply") or {"text": "", "items": []}
    return Reply(text=r["text"], items=r.get("items", []), question=r.get("question"),
                 trace=state.get("trace", []), session_id=state["session_id"], warnings=state.get("notes", []))
