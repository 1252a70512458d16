"""The graph's nodes: thin adapters ``(state, tools) -> partial update`` over the tool registry.

Session changes happen in ``SessionPrefs.apply``; item logic behind the registry's tools
(``agent/registry.py``, over ``tools.Recommender``); the nodes read the state, call them, and say
what happened. The offline planner is a fixed sequence of tool calls (recall: ``memory_read``;
retrieve: ``recommend``; rerank: ``rerank``; remember: ``memory_write``); with an LLM,
``llm_plan`` / ``act`` / ``compose`` run a bounded tool-calling loop instead, and any fault sends
the turn back to ``retrieve``. ``agent/graph.py`` wires them.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from agent import taste
from agent.llm import MIN_CALL_SECONDS, Deadline, FallbackReason, LLMUnavailable
from agent.planner import LLMPlanner, PlanRejected, PlanStep
from agent.registry import REGISTRY, ItemList, ToolContext, ToolError, result_items
from agent.request import Request
from agent.state import Applied, RecItem, Reply, SessionPrefs, TurnState
from agent.vocabulary import MAX_MESSAGE
from tools.catalog import Catalog, ItemFilter
from tools.recommend import Recommender, Retrieval, describe
from tools.retrievers import Candidate

log = logging.getLogger(__name__)
LOOSEN_NAME = {"genres": "genre", "years": "year", "popularity": "popularity"}
LOOSEN_PHRASE = {"genres": "any genre", "years": "any year", "popularity": "popular or not"}
CAN_FILTER_BY = ("genre, years and popularity, or find films like a title you name "
                 "(\u201csomething like Fargo\u201d)")


class Understander(Protocol):
    def parse(self, message: str, shown: list[int] = ...) -> Request: ...


@dataclass
class Toolbox:
    """Everything the nodes call. Built once by ``ConvRec.load``; shared by all sessions."""

    recommender: Recommender
    understander: Understander
    histories: dict[str, list[int]] = field(default_factory=dict)  # known user id -> item ids, oldest first
    memory: Any = None  # memory.PreferenceMemory, or None for the no-memory ablation
    planner: LLMPlanner | None = None  # the LLM planner, or None offline
    # ablations and baselines switch these off (see agent.api.SYSTEMS)
    use_cf: bool = True
    use_text: bool = True
    use_dialogue: bool = True
    k: int = 10

    @property
    def catalog(self) -> Catalog:
        return self.recommender.catalog


def _session(state: TurnState) -> SessionPrefs:
    return SessionPrefs(**(state.get("session") or {}))


def _request(state: TurnState) -> Request:
    return Request(**state["request"])


def context(state: TurnState, tools: Toolbox, **fields: Any) -> ToolContext:
    """What the turn's tool calls may use: this user, their memory and history, the flags."""
    return ToolContext(recommender=tools.recommender, user_id=state["user_id"], session_id=state.get("session_id"),
                       memory=tools.memory, use_cf=tools.use_cf, use_text=tools.use_text, **fields)


def understand(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    session = _session(state)
    request = tools.understander.parse(state["message"], shown=session.last_shown)
    if request.intent == "reset":
        session = SessionPrefs()
    return {
        "request": request.model_dump(), "session": session.model_dump(), "notes": list(request.warnings),
        "_detail": f"offline: intent={request.intent} mode={request.mode} liked={request.liked_items} "
                   f"genres+={request.genres_in} genres-={request.genres_out} drop={request.genres_drop} "
                   f"years={request.year_min}-{request.year_max}",
    }  # fmt: skip


def recall(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    """Long-term memory for this turn: one Chroma query returns the user's records and how close
    each is to what was just said (the query is the request's free text, else the message)."""
    user = state["user_id"]
    history = tools.histories.get(user, [])
    if tools.memory is None:
        return {"profile": {}, "history": history, "_detail": f"memory off; history={len(history)}"}
    from memory import UserProfile

    req = _request(state)
    t0 = time.perf_counter()
    read = REGISTRY.call("memory_read", {"query": (req.vibe.strip() or state["message"] or " ")[:MAX_MESSAGE]},
                         context(state, tools))
    profile = UserProfile.from_records(user, read.records, read.relevance)
    return {
        "profile": profile.model_dump(), "history": history,
        "_detail": f"read {len(read.records)} in {(time.perf_counter() - t0) * 1000:.1f}ms; history={len(history)} "
                   f"liked={len(profile.liked_items)} disliked={len(profile.disliked_items)} "
                   f"genres+={profile.genres_liked} genres-={profile.genres_disliked} eras+={profile.eras_liked}",
    }  # fmt: skip


def plan(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    """Merge this turn's request into the session (``SessionPrefs.apply``), then route."""
    req, session, notes = _request(state), _session(state), list(state.get("notes", []))
    if not tools.use_dialogue:  # baselines that ignore what is said: always a fresh list
        session.turns += 1
        return {"session": session.model_dump(), "action": "retrieve", "_detail": "dialogue ignored"}
    applied = session.apply(req)
    notes += [f"I couldn't find \u201c{title[:60]}\u201d in the catalog"
              + ("; the picks below go by its title's words and the rest of what you said."
                 if title in req.unknown_liked and tools.use_text else ".") for title in req.unknown_titles]
    if req.unfilterable:
        notes.append(_unfilterable_note(req, session, tools.recommender))
    profile = state.get("profile") or {}
    has_long_term = bool(state.get("history") or profile.get("liked_items") or profile.get("genres_liked")
                         or profile.get("eras_liked"))
    if req.intent in ("smalltalk", "ask_item") or (req.intent == "reset" and not req.has_signal):
        action = "answer"
    elif req.unfilterable and not req.has_signal:
        action = "answer"  # nothing we can search by was asked: say so rather than show a list
    else:  # with nothing to go on (an ambiguous title alone included), ask
        action = "retrieve" if session.has_signal or has_long_term else "ask"
    return {"session": session.model_dump(), "applied": applied.model_dump(), "notes": notes, "action": action,
            "_detail": f"action={action}"}


def _unfilterable_note(req: Request, session: SessionPrefs, rec: Recommender) -> str:
    asked = ", ".join(f"{u.kind} (\u201c{u.text}\u201d)" for u in req.unfilterable)
    note = f"I can't search by {asked}: the catalog has no cast or director data. I can filter by {CAN_FILTER_BY}."
    if req.has_signal:
        return note + " The list below is not filtered by that."
    earlier = describe(_filter(session, {}, [], rec))
    return note + (f" What you asked before still applies ({earlier}); say \u201cstart over\u201d to clear it."
                   if earlier else "")


def route(state: TurnState, tools: Toolbox) -> str:
    """The plan's action; a retrieval goes to the LLM planner when there is one."""
    if state["action"] == "retrieve" and tools.planner is not None and tools.use_dialogue:
        return "llm_plan"
    return state["action"]


def ask(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    req = _request(state)
    if req.ambiguous_titles:
        title, ids = next(iter(req.ambiguous_titles.items()))
        options = ", ".join(i.label for i in tools.catalog.get(ids[:4]))
        question = f"Which \u201c{title[:60]}\u201d do you mean: {options}?"
    else:
        question = ("What are you in the mood for? Tell me a film you liked, a genre, or a decade "
                    "(for example: \u201csomething like Fargo, but funnier\u201d).")
    text = " ".join([*state.get("notes", []), question])
    return {"reply": {"text": text, "question": question, "items": []}, "ranked": []}


def answer(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    """No retrieval: reset, small talk, a question about one item, or a request we cannot filter by."""
    req, notes = _request(state), state.get("notes", [])
    if req.intent == "reset":
        text = "Starting over. What would you like to watch?"
    elif req.intent == "ask_item" and req.ask_about is not None and req.ask_about in tools.catalog:
        item = tools.catalog.get([req.ask_about])[0]
        near = REGISTRY.call("similar_items", {"item": item.item_id, "k": 3}, context(state, tools))
        similar = tools.catalog.get([c.item_id for c in near.items])
        genres = ", ".join(item.genres) if item.genres else "of unknown genre"
        text = (f"{item.label} is {genres}; {item.popularity} people in the data watched it."
                + (f" People who liked it often watch {', '.join(s.label for s in similar)}." if similar else ""))
    elif req.intent == "ask_item":
        text = "I couldn't tell which film you mean; could you give its title?"
    elif req.unfilterable:
        text = ""  # the note already says what we can and cannot do
    else:
        text = "Happy to help. Tell me a film you liked, a genre or a decade, and I'll suggest some."
    return {"reply": {"text": " ".join([*notes, text]).strip(), "items": []}, "ranked": []}


def _filter(session: SessionPrefs, profile: dict, history: list[int], rec: Recommender) -> ItemFilter:
    """The session's constraints plus memory's dislikes; everything seen, rated or shown excluded."""
    remembered_out = [g for g in profile.get("genres_disliked", []) if g not in session.genres_in]
    exclude = (set(history) | set(session.disliked_items) | set(profile.get("disliked_items", []))
               | set(session.shown) | set(session.liked_items) | set(profile.get("liked_items", [])))
    return rec.constraints(genres=session.genres_in, genres_none=session.genres_out + remembered_out,
                           year_min=session.year_min, year_max=session.year_max,
                           popularity=session.popularity, exclude=exclude)  # type: ignore[arg-type]


def _ranking_context(state: TurnState, tools: Toolbox, flt: ItemFilter) -> ToolContext:
    """What ranks for this person this turn (``retrieve`` and the LLM's ``act`` alike): what this
    session says weighs most; a remembered like as much when it is close to the message, else like
    the long-term history. Liked films the person picked from lists we showed ("more like the third
    one") resemble what is wanted on their face and say less of a taste than a film named unprompted."""
    session, profile, history = _session(state), state.get("profile") or {}, state.get("history") or []
    strong, weak = taste.remembered_likes(session, profile)
    shown = set(session.shown)
    return context(state, tools, history=history + weak, liked=session.liked_items + strong, must=flt,
                   turn=session.turns, remembered=strong + weak, picked=[i for i in session.liked_items if i in shown],
                   vibe=" ".join([session.vibe, *taste.relevant_notes(profile)]).strip())


def retrieve(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    session, profile, history = _session(state), state.get("profile") or {}, state.get("history") or []
    rec, notes = tools.recommender, list(state.get("notes", []))
    flt = _filter(session, profile, history, rec)
    ctx = _ranking_context(state, tools, flt)
    found: Retrieval = REGISTRY.call("recommend", {"k": rec.n_candidates}, ctx)
    extra = taste.taste_candidates(flt, session, profile, rec, ctx.signals())
    have = {c.item_id for c in found.candidates}
    found.candidates += [c for c in extra if c.item_id not in have]
    if not found.candidates:
        notes.append(_nothing_left(flt, session, rec))
    elif found.blend and found.blend_available < tools.k:
        both, either = " and ".join(found.blend), " or ".join(found.blend)
        notes.append(f"Only {_films(found.blend_available)} left {'is' if found.blend_available == 1 else 'are'} "
                     f"{both}; they come first, then films that are {either}." if found.blend_available else
                     f"No film left is {both}, so these are {either}.")
    notes += _memory_notes(flt, session, profile, rec.catalog)
    return {"constraints": flt.model_dump(), "candidates": [c.model_dump() for c in found.candidates],
            "preferred": found.preferred, "notes": notes, "rerank_weight": found.rerank_weight,
            "_detail": f"allowed={found.available} blend={found.blend_available if found.blend else '-'} "
                       f"candidates={len(found.candidates)} evidence={found.evidence.regime}"}  # fmt: skip


def _memory_notes(flt: ItemFilter, session: SessionPrefs, profile: dict, catalog: Catalog) -> list[str]:
    """What the reply says about remembered dislikes: applied, or set aside because asked for now."""
    notes = []
    remembered = [g for g in flt.genres_none if g in profile.get("genres_disliked", []) and g not in session.genres_out]
    if remembered:
        notes.append(f"You told me before that you dislike {', '.join(remembered)}, so I left those out.")
    asked_again = [g for g in profile.get("genres_disliked", []) if g in session.genres_in]
    if asked_again:
        notes.append(f"You told me before that you dislike {', '.join(asked_again)}, but you asked for it now, "
                     "so I included it.")
    items_again = [i for i in profile.get("disliked_items", []) if i in session.liked_items]
    if items_again:
        names = ", ".join(i.label for i in catalog.get(items_again))
        notes.append(f"You told me before that you disliked {names}; I'm going by what you say now.")
    return notes


def _nothing_left(flt: ItemFilter, session: SessionPrefs, rec: Recommender) -> str:
    """Why the list is empty, truthfully: nothing matches, or everything that matches was shown."""
    wanted = describe(flt) or "what you asked for"
    unexcluded = flt.model_copy(update={"exclude": []})
    matched = rec.count(unexcluded)
    if matched == 0:
        text = f"No film in the catalog is {wanted}."
    elif rec.count(unexcluded.model_copy(update={"include_only": session.shown})) == matched:
        text = f"{'The only film' if matched == 1 else f'All {matched} films'} that {_be(matched)} {wanted} " \
               f"{'has' if matched == 1 else 'have'} been shown already."
    else:
        text = (f"{'The only film' if matched == 1 else f'All {matched} films'} that {_be(matched)} {wanted} "
                f"{_be(matched)} ones you have seen, rated or been shown.")
    loosen = rec.loosest(flt)
    if loosen is not None:
        more = f"{loosen.available} more film" + ("" if loosen.available == 1 else "s")
        text += (f" Without the {LOOSEN_NAME[loosen.constraint]} limit, {more} would match: "
                 f"say \u201c{LOOSEN_PHRASE[loosen.constraint]}\u201d to drop it.")
    return text


def _films(n: int) -> str:
    return f"{n} film" + ("" if n == 1 else "s")


def _be(n: int) -> str:
    return "is" if n == 1 else "are"


def rerank(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    candidates = [Candidate(**c) for c in state.get("candidates", [])]
    session, profile = _session(state), state.get("profile") or {}
    strong, weak = taste.remembered_likes(session, profile)
    ranked = _reranked(candidates, state, tools, history=(state.get("history") or []) + weak,
                       liked=strong + session.liked_items, preferred=state.get("preferred", []),
                       weight=state.get("rerank_weight", 1.0))
    detail = "retrieval order" if tools.recommender.reranker is None else f"generative rerank of {len(ranked)}"
    boost = taste.affinity(tools.catalog.get([c.item_id for c in ranked]), profile)
    if any(boost):  # remembered genre and era tastes: a share of the list, never a filter
        ranked = taste.make_room(ranked, boost, tools.k, keep=set(state.get("preferred", [])))
        detail += f"; remembered tastes: {sum(b > 0 for b in boost)} candidates"
    return {"ranked": [c.model_dump() for c in ranked], "_detail": detail}


def _reranked(candidates: list[Candidate], state: TurnState, tools: Toolbox, **ctx_fields: Any) -> list[Candidate]:
    """The ``rerank`` tool over candidates, keeping their retrieval scores and signals."""
    if not candidates:
        return []
    preferred, weight = ctx_fields.pop("preferred", []), ctx_fields.pop("weight", 1.0)
    out: ItemList = REGISTRY.call("rerank", {"item_ids": [c.item_id for c in candidates],
                                             "scores": [c.score for c in candidates], "preferred": preferred,
                                             "weight": weight}, context(state, tools, **ctx_fields))
    by_id = {c.item_id: c for c in candidates}
    return [by_id[c.item_id].model_copy(update={"score": c.score}) for c in out.items]


def respond(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    session, profile, history = _session(state), state.get("profile") or {}, state.get("history") or []
    ranked = [Candidate(**c) for c in state.get("ranked", [])][: tools.k]
    flt = ItemFilter(**state["constraints"]) if state.get("constraints") else ItemFilter()
    anchors = list(dict.fromkeys(session.liked_items + profile.get("liked_items", []))) or history[-30:]
    reasons = tools.recommender.explain(ranked, anchors=anchors, flt=flt, vibe=session.vibe)
    recs = [RecItem(item_id=it.item_id, title=it.title, year=it.year, genres=it.genres, score=round(c.score, 4),
                    reason=reason)
            for it, c, reason in zip(tools.catalog.get([c.item_id for c in ranked]), ranked, reasons, strict=True)]
    notes = state.get("notes", [])
    if len(flt.genres_any) > 1 and recs and all(set(flt.genres_any) <= set(r.genres) for r in recs):
        flt = flt.model_copy(update={"genres_all": flt.genres_any})  # the blend held for the whole list
    wanted = describe(flt)
    head = (f"Here are {len(recs)} picks" + (f" ({wanted})" if wanted else "") + ".") if recs else ""
    text = " ".join([*notes, head]).strip() or "I have nothing to show for that."
    session.last_shown = [r.item_id for r in recs]
    session.last_years = [r.year for r in recs if r.year]
    session.shown = list(dict.fromkeys(session.shown + session.last_shown))
    # the per-turn lists are dropped here so the checkpoint written at the end of the turn stays small
    loop = state.get("llm") or {}  # its summary stays for the reply; messages and pool go
    return {"reply": {"text": text, "items": [r.model_dump() for r in recs]}, "session": session.model_dump(),
            "candidates": [], "ranked": [], "preferred": [],
            "llm": {k: loop[k] for k in ("fallback", "fallback_reason", "llm_ms", "calls", "accepted") if k in loop}}


# ---- the LLM planner: llm_plan -> act (-> llm_plan ...) -> compose -> respond ---------------------
def llm_plan(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    """Ask the LLM for the next tool calls. The first call of a turn starts the turn's deadline."""
    assert tools.planner is not None
    loop = dict(state.get("llm") or {})
    if not loop:
        loop = {"deadline": tools.planner.client.deadline().end, "calls": 0,
                "pool": [], "llm_ms": 0.0, "messages": tools.planner.first_messages(state["message"], _session(state))}
    deadline = Deadline.at(loop["deadline"])
    t0 = time.perf_counter()
    try:
        steps = tools.planner.next_steps(loop["messages"], deadline, loop["calls"])
    except (LLMUnavailable, PlanRejected) as e:
        return _fall_back(loop, f"{type(e).__name__}: {e}", e.reason, t0)
    loop["llm_ms"] += (time.perf_counter() - t0) * 1000
    loop["pending"] = [s.model_dump() for s in steps]
    return {"llm": loop, "_detail": f"llm asked for {[s.tool for s in steps] or 'no more tools'} "
                                    f"in {(time.perf_counter() - t0) * 1000:.0f}ms"}


def _fall_back(loop: dict[str, Any], why: str, reason: FallbackReason, t0: float | None = None) -> dict[str, Any]:
    """Give the turn to the offline planner: ``why`` goes to the trace, ``reason`` to the reply."""
    if t0 is not None:
        loop["llm_ms"] += (time.perf_counter() - t0) * 1000
    log.warning("LLM planner fell back to the offline planner (%s): %s", reason, why[:300])
    loop.update(pending=[], fallback=why[:300], fallback_reason=reason, messages=[])
    return {"llm": loop, "_detail": f"fallback to the offline planner (llm {loop['llm_ms']:.0f}ms): {why[:240]}"}


def act(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    """Run the LLM's tool calls through the registry (arguments validated by each tool's model)
    under the person's own constraints; the items they return make the pool a reply draws from."""
    assert tools.planner is not None
    loop = dict(state["llm"])
    session, profile, history = _session(state), state.get("profile") or {}, state.get("history") or []
    ctx = _ranking_context(state, tools, _filter(session, profile, history, tools.recommender))
    pool, done, dropped = list(loop["pool"]), [], []
    native = tools.planner.mode == "tools"
    for raw in loop.pop("pending", []):
        step = PlanStep(**raw)
        try:  # the LLM's arguments as it wrote them first; then only what the person said stays
            REGISTRY.specs[step.tool].args.model_validate(step.args)
            grounded, ungrounded = tools.planner.grounded(step, state["message"], session)
            dropped += ungrounded
            if grounded is None:  # a native tool call is still answered, or the next request is malformed
                if native:
                    loop["messages"].append(tools.planner.result_message(step, "skipped: the person named no such film"))
                continue
            result = REGISTRY.call(grounded.tool, grounded.args, ctx)
        except (ValidationError, ToolError, KeyError) as e:
            return _fall_back(loop, f"tool {step.tool} rejected its arguments: {str(e)[:200]}", "invalid arguments")
        loop["calls"] += 1
        items = result_items(result)
        pool += [c.model_dump() for c in items]
        if native:  # only a native tool-calling loop reads the results back; a JSON plan is one round
            loop["messages"].append(tools.planner.result_message(step, tools.planner.describe(step, result)))
        done.append(f"{step.tool}({json.dumps(grounded.args)[:120]})->{len(items)}")
    loop["pool"] = pool
    return {"llm": loop, "_detail": f"called {done}; pool={len({c['item_id'] for c in pool})}"
                                    + (f"; dropped what was not said: {dropped}" if dropped else "")}


def after_plan(state: TurnState) -> str:
    loop = state["llm"]
    if loop.get("fallback"):
        return "retrieve"
    return "act" if loop.get("pending") else "compose"


def after_act(state: TurnState, tools: Toolbox) -> str:
    """Native tool calls loop while calls and time are left; a JSON plan is one round."""
    loop = state["llm"]
    if loop.get("fallback"):
        return "retrieve"
    assert tools.planner is not None
    more = (tools.planner.mode == "tools" and loop["calls"] < tools.planner.max_calls
            and Deadline.at(loop["deadline"]).remaining() > MIN_CALL_SECONDS)
    return "llm_plan" if more else "compose"


def compose(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    """The reply's candidates: every item the tools returned (nothing else), each meeting the
    person's constraints, reranked for them by the ``rerank`` tool."""
    loop = dict(state["llm"])
    session, profile, history = _session(state), state.get("profile") or {}, state.get("history") or []
    flt = _filter(session, profile, history, tools.recommender)
    seen: dict[int, Candidate] = {}
    for c in (Candidate(**c) for c in loop["pool"]):
        seen.setdefault(c.item_id, c)
    ok = tools.catalog.satisfies(list(seen), flt)
    pool = [c for c, good in zip(seen.values(), ok, strict=True) if good]
    if not pool:
        return {**_fall_back(loop, "the tools the LLM chose found no film", "no film found"), "candidates": []}
    strong, weak = taste.remembered_likes(session, profile)
    preferred = []
    if len(flt.genres_any) > 1:  # a blend ("a funny horror film"): films with every genre first, as offline
        every = tools.catalog.satisfies([c.item_id for c in pool], flt.model_copy(update={"genres_all": flt.genres_any}))
        preferred = [c.item_id for c, good in zip(pool, every, strict=True) if good]
    ranked = _reranked(pool, state, tools, history=history + weak, liked=strong + session.liked_items,
                       preferred=preferred)
    notes = list(state.get("notes", [])) + _memory_notes(flt, session, profile, tools.catalog)
    return {"llm": {**loop, "accepted": True, "messages": []}, "ranked": [c.model_dump() for c in ranked],
            "constraints": flt.model_dump(), "notes": notes,
            "_detail": f"llm plan accepted: {loop['calls']} tool calls, {len(pool)} films in the pool, "
                       f"llm {loop['llm_ms']:.0f}ms"}


def after_compose(state: TurnState) -> str:
    return "retrieve" if state["llm"].get("fallback") else "respond"


def remember(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    """Store the durable tastes this turn revealed; a session critique only as evidence.

    - liked and disliked items are durable (a like by button or by "more like that one" is one record);
      "not that one" (a reference to the list, no durable marker) is a critique;
    - an excluded genre is durable with a marker ("never", "I hate", "can't stand") or when a critique
      of it was made in an earlier session; otherwise it is a critique, which filters nothing later;
    - a wanted genre or decade is durable with a marker ("I love", "always");
    - the free text of a message with a marker becomes a note ("loves clever plot twists").
    The same subject keeps one record, the newest (``MemoryRecord.key``).
    """
    if tools.memory is None:
        return {"_detail": "memory off"}
    applied = Applied(**(state.get("applied") or {}))  # shown-list references already resolved by plan
    records = taste.turn_records(_request(state), applied, state["message"], state["user_id"],
                                 state.get("session_id"), state.get("profile") or {}, tools.catalog)
    t0 = time.perf_counter()
    if records:
        notes = [{"kind": r.kind, "text": r.text[:300], "item": r.item_id, "genre": r.genre, "era": r.era}
                 for r in records]
        REGISTRY.call("memory_write", {"memories": notes}, context(state, tools))
    return {"_detail": f"stored {[r.kind for r in records]} in {(time.perf_counter() - t0) * 1000:.1f}ms"}


def final_reply(state: TurnState) -> Reply:
    r, loop = state.get("reply") or {"text": "", "items": []}, state.get("llm") or {}
    planner = "offline" if not loop else "llm-fallback" if loop.get("fallback") else "llm"
    return Reply(text=r["text"], items=r.get("items", []), question=r.get("question"),
                 trace=state.get("trace", []), session_id=state["session_id"], warnings=state.get("notes", []),
                 planner=planner, llm_ms=round(loop.get("llm_ms", 0.0), 1), fallback_reason=loop.get("fallback_reason"))
