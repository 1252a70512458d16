"""The graph's nodes: thin adapters ``(state, tools) -> partial update`` over the tool registry.

Session changes happen in ``SessionPrefs.apply`` and ``SessionPrefs.show``; item logic behind the
registry's tools (``agent/registry.py``, over ``tools.Recommender``); the nodes read the state's
models (``agent/state.py``; ``plan`` builds the turn's ``TurnContext`` once), call them, and return
only what they change, new notes and trace steps included. The offline planner is a fixed sequence of tool calls (recall: ``memory_read``;
retrieve: ``recommend``, candidates and the reranker's order in one call); ``remember`` writes what
the turn revealed to memory itself (no message can ask for a write); with an LLM,
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

from agent import taste, tones
from agent.llm import MIN_CALL_SECONDS, Deadline, FallbackReason, LLMUnavailable
from agent.planner import LLMPlanner, PlanRejected
from agent.questions import BY_KIND, QuestionPolicy, Situation, choose, may_ask
from agent.registry import REGISTRY, ItemList, ToolContext, ToolError, result_items
from agent.request import Request
from agent.state import Applied, LLMLoop, RecItem, Reply, SessionPrefs, TurnContext, TurnState
from agent.vocabulary import MAX_MESSAGE
from memory.preferences import UserProfile
from tools.catalog import Catalog, Item
from tools.constraints import KINDS, Constraints, filterable
from tools.recommend import Recommender, Retrieval
from tools.retrievers import Candidate

log = logging.getLogger(__name__)
CAN_FILTER_BY = f"{filterable()}, or find films like a title you name (\u201csomething like Fargo\u201d)"


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
    questions: QuestionPolicy = field(default_factory=QuestionPolicy)  # ask or recommend (ConvRec sets it from Config)
    k: int = 10

    @property
    def catalog(self) -> Catalog:
        return self.recommender.catalog


def context(state: TurnState, tools: Toolbox, **fields: Any) -> ToolContext:
    """What the turn's tool calls may use: this user, their memory and history, the flags."""
    return ToolContext(recommender=tools.recommender, user_id=state["user_id"], session_id=state.get("session_id"),
                       memory=tools.memory, use_cf=tools.use_cf, use_text=tools.use_text, **fields)


def understand(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    # model_validate passes a checkpointed SessionPrefs through and reads a session stored as a dict
    session = SessionPrefs.model_validate(state.get("session") or {})
    request = tools.understander.parse(state["message"], shown=session.last_shown)
    asked = request.constraints
    if request.intent == "reset":
        session = SessionPrefs()
    return {
        "request": request, "session": session, "notes": list(request.warnings),
        "_detail": f"offline: intent={request.intent} mode={request.mode} liked={request.liked_items} "
                   f"genres+={asked.genres} genres-={asked.genres_none} drop={request.genres_drop} "
                   f"years={asked.year_min}-{asked.year_max}",
    }  # fmt: skip


def recall(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    """Long-term memory for this turn: one Chroma query returns the user's records and how close
    each is to what was just said (the query is the request's free text, else the message)."""
    user = state["user_id"]
    history = tools.histories.get(user, [])
    if tools.memory is None:
        return {"profile": UserProfile(user_id=user), "history": history, "_detail": f"memory off; history={len(history)}"}
    t0 = time.perf_counter()
    read = REGISTRY.call("memory_read", {"query": (state["request"].vibe.strip() or state["message"] or " ")[:MAX_MESSAGE]},
                         context(state, tools))
    profile = UserProfile.from_records(user, read.records, read.relevance)
    return {
        "profile": profile, "history": history,
        "_detail": f"read {len(read.records)} in {(time.perf_counter() - t0) * 1000:.1f}ms; history={len(history)} "
                   f"liked={len(profile.liked_items)} disliked={len(profile.disliked_items)} "
                   f"genres+={profile.genres_liked} genres-={profile.genres_disliked} eras+={profile.eras_liked}",
    }  # fmt: skip


def plan(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    """Merge this turn's request into the session (``SessionPrefs.apply``), build the turn's
    context (what later nodes filter and rank by), then route."""
    req, session = state["request"], state["session"].model_copy(deep=True)
    profile, history = state["profile"], state.get("history") or []
    if not tools.use_dialogue:  # baselines that ignore what is said: always a fresh list
        session.turns += 1
        return {"session": session, "turn": _turn_context(session, profile, history, Applied()), "action": "retrieve",
                "_detail": "dialogue ignored"}
    applied = session.apply(req)
    notes = [f"I couldn't find \u201c{title[:60]}\u201d in the catalog"
             + ("; the picks below go by its title's words and the rest of what you said."
                if title in req.unknown_liked and tools.use_text else ".") for title in req.unknown_titles]
    if req.unfilterable:
        notes.append(_unfilterable_note(req, session, tools.catalog))
    has_long_term = bool(history or profile.liked_items or profile.genres_liked or profile.eras_liked)
    if req.intent in ("smalltalk", "ask_item") or (req.intent == "reset" and not req.has_signal):
        action = "answer"
    elif req.unfilterable and not req.has_signal:
        action = "answer"  # nothing we can search by was asked: say so rather than show a list
    else:  # with nothing to go on (an ambiguous title alone included), ask
        action = "retrieve" if session.has_signal or has_long_term or req.anything else "ask"
    return {"session": session, "turn": _turn_context(session, profile, history, applied), "notes": notes,
            "action": action, "_detail": f"action={action}"}


def _turn_context(session: SessionPrefs, profile: UserProfile, history: list[int], applied: Applied) -> TurnContext:
    """What ranks and filters for this person this turn: the session's constraints plus memory's
    dislikes; everything seen, rated or shown left out; the remembered films that count now."""
    asked = session.constraints
    remembered_out = [g for g in profile.genres_disliked if g not in asked.genres]
    exclude = (set(history) | set(session.disliked_items) | set(profile.disliked_items) | set(session.seen)
               | set(session.shown) | set(session.liked_items) | set(profile.liked_items))
    strong, weak = taste.remembered_films(session, profile)
    return TurnContext(asked=asked.model_copy(update={"genres_none": asked.genres_none + remembered_out}),
                       exclude=sorted(exclude), strong=strong, weak=weak, applied=applied,
                       vibe=" ".join([session.vibe, *taste.relevant_notes(profile)]).strip(),
                       lean=tones.genre_leaning(session.tone, session.tone_none, asked.audience))


def _unfilterable_note(req: Request, session: SessionPrefs, catalog: Catalog) -> str:
    asked = ", ".join(f"\u201c{u.text}\u201d" if u.kind == "person" else f"{u.kind} (\u201c{u.text}\u201d)"
                      for u in req.unfilterable)
    lacks = "no cast data" + (f"; it knows the directors of {catalog.known('director'):,} of its {len(catalog):,} films, "
                              "and not this one's" if any(u.kind != "cast" for u in req.unfilterable) else "")
    note = f"I can't search by {asked}: the catalog has {lacks}. I can filter by {CAN_FILTER_BY}."
    if req.has_signal:
        return note + " The list below is not filtered by that."
    earlier = session.constraints.describe()
    return note + (f" What you asked before still applies ({earlier}); say \u201cstart over\u201d to clear it."
                   if earlier else "")


def route(state: TurnState, tools: Toolbox) -> str:
    """The plan's action; a retrieval goes to the LLM planner when there is one."""
    if state["action"] == "retrieve" and tools.planner is not None and tools.use_dialogue:
        return "llm_plan"
    return state["action"]


def ask(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    req = state["request"]
    if req.ambiguous_titles:
        title, ids = next(iter(req.ambiguous_titles.items()))
        options = ", ".join(i.label for i in tools.catalog.get(ids[:4]))
        question = f"Which \u201c{title[:60]}\u201d do you mean: {options}?"
    else:
        question = ("What are you in the mood for? Tell me a film you liked, a genre, or a decade "
                    "(for example: \u201csomething like Fargo, but funnier\u201d).")
    text = " ".join([*state.get("notes", []), question])
    return {"reply": Reply(text=text, question=question, session_id=state["session_id"]), "ranked": []}


def answer(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    """No retrieval: reset, small talk, a question about one item, or a request we cannot filter by."""
    req, notes = state["request"], state.get("notes", [])
    if req.intent == "reset":
        text = "Starting over. What would you like to watch?"
    elif req.intent == "ask_item" and req.ask_about is not None and req.ask_about in tools.catalog:
        item = tools.catalog.get([req.ask_about])[0]
        text = answer_about(item, req.question, tools.catalog)
        if req.question in (None, "plot", "genre", "reviews"):
            near = REGISTRY.call("similar_items", {"item": item.item_id, "k": 3}, context(state, tools))
            similar = tools.catalog.get([c.item_id for c in near.items])
            text += f" People who liked it often watch {', '.join(s.label for s in similar)}." if similar else ""
    elif req.intent == "ask_item":
        text = "I couldn't tell which film you mean; could you give its title?"
    elif req.unfilterable:
        text = ""  # the note already says what we can and cannot do
    else:
        text = "Happy to help. Tell me a film you liked, a genre or a decade, and I'll suggest some."
    return {"reply": Reply(text=" ".join([*notes, text]).strip(), session_id=state["session_id"]), "ranked": []}


def answer_about(item: Item, question: str | None, catalog: Catalog) -> str:
    """A question about one film, answered from what the catalog knows of it, and honestly when
    it knows nothing of the kind (ml-100k has no plots or cast; the film knowledge covers a minority)."""

    def share(field: str) -> str:
        return f"the catalog knows it for {catalog.known(field):,} of its {len(catalog):,} films"

    genres = "/".join(item.genres) or "of no listed genre"
    facts = [f"a {genres} film from {item.year}" if item.year else f"a {genres} film"]
    if item.director:
        facts.append(f"directed by {item.director}")
    if item.mpaa:
        facts.append(f"rated {item.mpaa}")
    if item.runtime:
        facts.append(f"{item.runtime} minutes long")
    known = f"{item.label} is " + ", ".join(facts) + "."
    scores = [s for s in (f"IMDb {item.imdb_rating:.1f}/10" if item.imdb_rating else "",
                          f"Rotten Tomatoes {item.rt_rating}%" if item.rt_rating is not None else "") if s]
    if question == "director":
        return f"{item.label} was directed by {item.director}." if item.director else \
            f"I don't know who directed {item.label}: {share('director')}. {known}"
    if question == "runtime":
        return f"{item.label} runs {item.runtime} minutes." if item.runtime else \
            f"I don't know how long {item.label} is: {share('runtime')}. {known}"
    if question == "rating":
        return f"{item.label} is rated {item.mpaa}." if item.mpaa else \
            f"I don't know {item.label}'s MPAA rating: {share('mpaa')}. {known}"
    if question == "year":
        return f"{item.label} came out in {item.year}." if item.year else f"I don't know when {item.label} came out."
    if question == "scary":
        scary = [g for g in item.genres if g in ("Horror", "Thriller")]
        return (f"It is listed as {' and '.join(scary)}, so expect it to be scary or tense. {known}" if scary else
                f"It is not listed as Horror or Thriller. {known}")
    if question == "cast":
        return f"I can't say who is in {item.label}: the catalog has no cast data. {known}"
    if question == "reviews":
        return (f"Critics and viewers: {', '.join(scores)}; {item.popularity} people in the data watched it. {known}"
                if scores else f"I have no review scores for {item.label}; {item.popularity} people in the data watched it. {known}")
    if question == "plot":
        return f"I have no plot summaries, only what the catalog knows: {known[0].lower()}{known[1:]}"
    return f"{known} {item.popularity} people in the data watched it."


def _ranking_context(state: TurnState, tools: Toolbox) -> ToolContext:
    """What ranks for this person this turn (``retrieve`` and the LLM's ``act`` alike): what this
    session says weighs most; a remembered like as much when it is close to the message, else like
    the long-term history. Liked films the person picked from lists we showed ("more like the third
    one") resemble what is wanted on their face and say less of a taste than a film named unprompted."""
    session, turn, history = state["session"], state["turn"], state.get("history") or []
    shown = set(session.shown)
    ctx = context(state, tools, history=history + turn.weak, liked=turn.strong + session.liked_items,
                  asked=turn.asked, exclude=turn.exclude, turn=session.turns, remembered=turn.strong + turn.weak,
                  picked=[i for i in session.liked_items if i in shown], vibe=turn.vibe, lean=turn.lean)
    ctx.also = taste.taste_filters(ctx.must, session, state["profile"])
    return ctx


def retrieve(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    """The offline planner's one ``recommend`` call (candidates in the reranker's order), then the
    remembered genre and era tastes' share of the list."""
    session, profile, turn = state["session"], state["profile"], state["turn"]
    rec, notes = tools.recommender, []
    found: Retrieval = REGISTRY.call("recommend", {"k": rec.n_candidates}, _ranking_context(state, tools))
    ranked = found.candidates
    boost = taste.affinity(tools.catalog.get([c.item_id for c in ranked]), profile)
    if any(boost):  # remembered genre and era tastes: a share of the list, never a filter
        ranked = taste.make_room(ranked, boost, tools.k, keep=set(found.preferred))
    if not found.candidates:
        notes.append(_nothing_left(turn, session, rec))
    elif found.blend and found.blend_available < tools.k:
        both, either = " and ".join(found.blend), " or ".join(found.blend)
        notes.append(f"Only {_films(found.blend_available)} left {'is' if found.blend_available == 1 else 'are'} "
                     f"{both}; they come first, then films that are {either}." if found.blend_available else
                     f"No film left is {both}, so these are {either}.")
    notes += _memory_notes(turn.asked, session, profile, rec.catalog) + _knowledge_notes(turn.asked, rec.catalog)
    order = "retrieval order" if rec.reranker is None else "reranked"
    question = _question(ranked, state, tools)
    return {"ranked": ranked, "notes": notes, "question": question and question[0].kind,
            "_detail": f"allowed={found.available} blend={found.blend_available if found.blend else '-'} "
                       f"candidates={len(found.candidates)} ({order}) evidence={found.evidence.regime}"
                       + (f"; remembered tastes: {sum(b > 0 for b in boost)} candidates" if any(boost) else "")
                       + (f"; ask {question[0].kind} ({question[1]:.2f} bits)" if question else "")}  # fmt: skip


def _question(ranked: list[Candidate], state: TurnState, tools: Toolbox):
    """The question to ask beside this list, with its worth in bits, or None (agent/questions.py)."""
    policy, session, profile, asked = tools.questions, state["session"], state["profile"], state["turn"].asked
    said = {kind for kind, yes in (("era", asked.year_min or asked.year_max),
                                   ("popularity", asked.popularity), ("mood", session.tone or session.tone_none),
                                   ("genre", asked.genres)) if yes}
    situation = Situation(turn=session.turns, asked_before=session.questions,
                          named_films=bool(session.liked_items or profile.liked_items),
                          history=bool(state.get("history")), said=frozenset(said))
    if not ranked or not may_ask(policy, situation):  # known people's turns read no items for it
        return None
    items = tools.catalog.get([c.item_id for c in ranked[: policy.top]])
    return choose(policy, situation, items, tools.recommender.popular_min_)


def _knowledge_notes(asked: Constraints, catalog: Catalog) -> list[str]:
    """What a filter on film knowledge leaves out: the films whose director, rating, length or
    reviews the catalog does not know (its knowledge covers a minority of the films)."""
    return [f"The catalog knows the {spec.name} of {catalog.known(*spec.knows):,} of its {len(catalog):,} films, "
            "so only those can be listed." for kind, spec in KINDS.items() if spec.knows and asked.constrains(kind)]


def _memory_notes(asked: Constraints, session: SessionPrefs, profile: UserProfile, catalog: Catalog) -> list[str]:
    """What the reply says about remembered dislikes: applied, or set aside because asked for now;
    each once a session (``respond`` records them in ``SessionPrefs.memory_said``)."""
    notes = []
    remembered = [g for g in asked.excluded_genres if g in profile.genres_disliked
                  and g not in session.constraints.genres_none]
    if remembered:
        notes.append(f"You told me before that you dislike {', '.join(remembered)}, so I left those out.")
    asked_again = [g for g in profile.genres_disliked if g in session.constraints.genres]
    if asked_again:
        notes.append(f"You told me before that you dislike {', '.join(asked_again)}, but you asked for it now, "
                     "so I included it.")
    items_again = [i for i in profile.disliked_items if i in session.liked_items]
    if items_again:
        names = ", ".join(i.label for i in catalog.get(items_again))
        notes.append(f"You told me before that you disliked {names}; I'm going by what you say now.")
    return [n for n in notes if n not in session.memory_said]


def _nothing_left(turn: TurnContext, session: SessionPrefs, rec: Recommender) -> str:
    """Why the list is empty, truthfully: nothing matches, or everything that matches was shown."""
    wanted = turn.asked.describe() or "what you asked for"
    unexcluded = turn.asked.to_filter(rec)
    matched = rec.count(unexcluded)
    if matched == 0:
        text = f"No film in the catalog is {wanted}."
    elif rec.count(unexcluded.model_copy(update={"include_only": session.shown})) == matched:
        text = f"{'The only film' if matched == 1 else f'All {matched} films'} that {_be(matched)} {wanted} " \
               f"{'has' if matched == 1 else 'have'} been shown already."
    else:
        text = (f"{'The only film' if matched == 1 else f'All {matched} films'} that {_be(matched)} {wanted} "
                f"{_be(matched)} ones you have seen, rated or been shown.")
    loosen = rec.loosest(turn.asked, turn.exclude)
    if loosen is not None:
        more = f"{loosen.available} more film" + ("" if loosen.available == 1 else "s")
        kind = KINDS[loosen.constraint]
        text += f" Without the {kind.name} limit, {more} would match: say \u201c{kind.lift}\u201d to drop it."
    return text


def _films(n: int) -> str:
    return f"{n} film" + ("" if n == 1 else "s")


def _be(n: int) -> str:
    return "is" if n == 1 else "are"


def _reranked(candidates: list[Candidate], state: TurnState, tools: Toolbox, **ctx_fields: Any) -> list[Candidate]:
    """The ``rerank`` tool over candidates, keeping their retrieval scores and signals."""
    if not candidates:
        return []
    preferred, weight = ctx_fields.pop("preferred", []), ctx_fields.pop("weight", None)
    out: ItemList = REGISTRY.call("rerank", {"item_ids": [c.item_id for c in candidates],
                                             "scores": [c.score for c in candidates], "preferred": preferred,
                                             "weight": weight}, context(state, tools, **ctx_fields))
    by_id = {c.item_id: c for c in candidates}
    return [by_id[c.item_id].model_copy(update={"score": c.score}) for c in out.items]


def respond(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    session, profile, history = state["session"].model_copy(deep=True), state["profile"], state.get("history") or []
    ranked, asked = state.get("ranked", [])[: tools.k], state["turn"].asked
    anchors = list(dict.fromkeys(session.liked_items + profile.liked_items)) or history[-30:]
    reasons = tools.recommender.explain(ranked, anchors=anchors, asked=asked, vibe=session.vibe)
    recs = [RecItem(item_id=it.item_id, title=it.title, year=it.year, genres=it.genres, score=round(c.score, 4),
                    reason=reason)
            for it, c, reason in zip(tools.catalog.get([c.item_id for c in ranked]), ranked, reasons, strict=True)]
    # the blend held for the whole list: "Comedy and Horror"
    wanted = ", ".join(filter(None, [asked.describe(every_genre=len(asked.genres) > 1 and bool(recs)
                                                    and all(set(asked.genres) <= set(r.genres) for r in recs)),
                                     tones.describe(session.tone, session.tone_none)]))
    count = "Here is 1 pick" if len(recs) == 1 else f"Here are {len(recs)} picks"
    head = (count + (f" ({wanted})" if wanted else "") + ".") if recs else ""
    text = " ".join([*state.get("notes", []), head]).strip() or "I have nothing to show for that."
    session.show(recs)
    # what memory did was said in this reply (retrieve or compose, from the same session): not again
    session.memory_said += _memory_notes(asked, state["session"], profile, tools.catalog)
    kind = state.get("question") if recs else None
    question = BY_KIND[kind].text if kind else None
    if kind:
        session.questions.append(kind)
        text = f"{text} {question}"
    # the per-turn lists are dropped here so the checkpoint written at the end of the turn stays small
    loop = state.get("llm")  # its summary stays for the reply; messages and pool go
    return {"reply": Reply(text=text, items=recs, question=question, question_kind=kind, session_id=state["session_id"]),
            "session": session,
            "ranked": [],
            "llm": loop and loop.model_copy(update={"messages": [], "pending": [], "pool": []})}


# ---- the LLM planner: llm_plan -> act (-> llm_plan ...) -> compose -> respond ---------------------
def llm_plan(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    """Ask the LLM for the next tool calls. The first call of a turn starts the turn's deadline."""
    assert tools.planner is not None
    loop = state.get("llm")
    loop = loop.model_copy() if loop is not None else LLMLoop(
        deadline=tools.planner.client.deadline().end,
        messages=tools.planner.first_messages(state["message"], state["session"]))
    t0 = time.perf_counter()
    try:
        steps = tools.planner.next_steps(loop.messages, Deadline.at(loop.deadline), loop.calls)
    except (LLMUnavailable, PlanRejected) as e:
        return _fall_back(loop, f"{type(e).__name__}: {e}", e.reason, t0)
    loop.llm_ms += (time.perf_counter() - t0) * 1000
    loop.pending = steps
    return {"llm": loop, "_detail": f"llm asked for {[s.tool for s in steps] or 'no more tools'} "
                                    f"in {(time.perf_counter() - t0) * 1000:.0f}ms"}


def _fall_back(loop: LLMLoop, why: str, reason: FallbackReason, t0: float | None = None) -> dict[str, Any]:
    """Give the turn to the offline planner: ``why`` goes to the trace, ``reason`` to the reply."""
    if t0 is not None:
        loop.llm_ms += (time.perf_counter() - t0) * 1000
    log.warning("LLM planner fell back to the offline planner (%s): %s", reason, why[:300])
    loop.pending, loop.fallback, loop.fallback_reason, loop.messages = [], why[:300], reason, []
    return {"llm": loop, "_detail": f"fallback to the offline planner (llm {loop.llm_ms:.0f}ms): {why[:240]}"}


def act(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    """Run the LLM's tool calls through the registry (arguments validated by each tool's model)
    under the person's own constraints; the items they return make the pool a reply draws from."""
    assert tools.planner is not None
    loop, session = state["llm"].model_copy(), state["session"]
    ctx = _ranking_context(state, tools)
    pool, done, dropped = list(loop.pool), [], []
    native = tools.planner.mode == "tools"
    steps, loop.pending = loop.pending, []
    for step in steps:
        try:  # the LLM's arguments as it wrote them first; then only what the person said stays
            REGISTRY.specs[step.tool].args.model_validate(step.args)
            grounded, ungrounded = tools.planner.grounded(step, state["message"], session)
            dropped += ungrounded
            if grounded is None:  # a native tool call is still answered, or the next request is malformed
                if native:
                    loop.messages.append(tools.planner.result_message(step, "skipped: the person named no such film"))
                continue
            result = REGISTRY.call(grounded.tool, grounded.args, ctx)
        except (ValidationError, ToolError, KeyError) as e:
            return _fall_back(loop, f"tool {step.tool} rejected its arguments: {str(e)[:200]}", "invalid arguments")
        loop.calls += 1
        items = result_items(result)
        pool += items
        if native:  # only a native tool-calling loop reads the results back; a JSON plan is one round
            loop.messages.append(tools.planner.result_message(step, tools.planner.describe(step, result)))
        done.append(f"{step.tool}({json.dumps(grounded.args)[:120]})->{len(items)}")
    loop.pool = pool
    return {"llm": loop, "_detail": f"called {done}; pool={len({c.item_id for c in pool})}"
                                    + (f"; dropped what was not said: {dropped}" if dropped else "")}


def after_plan(state: TurnState) -> str:
    loop = state["llm"]
    if loop.fallback:
        return "retrieve"
    return "act" if loop.pending else "compose"


def after_act(state: TurnState, tools: Toolbox) -> str:
    """Native tool calls loop while calls and time are left; a JSON plan is one round."""
    loop = state["llm"]
    if loop.fallback:
        return "retrieve"
    assert tools.planner is not None
    more = (tools.planner.mode == "tools" and loop.calls < tools.planner.max_calls
            and Deadline.at(loop.deadline).remaining() > MIN_CALL_SECONDS)
    return "llm_plan" if more else "compose"


def compose(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    """The reply's candidates: every item the tools returned (nothing else), each meeting the
    person's constraints, reranked for them by the ``rerank`` tool."""
    loop, session, turn = state["llm"].model_copy(), state["session"], state["turn"]
    flt = turn.asked.to_filter(tools.recommender, turn.exclude)
    seen: dict[int, Candidate] = {}
    for c in loop.pool:
        seen.setdefault(c.item_id, c)
    ok = tools.catalog.satisfies(list(seen), flt)
    pool = [c for c, good in zip(seen.values(), ok, strict=True) if good]
    if not pool:
        return _fall_back(loop, "the tools the LLM chose found no film", "no film found")
    preferred = []
    if len(flt.genres_any) > 1:  # a blend ("a funny horror film"): films with every genre first, as offline
        every = tools.catalog.satisfies([c.item_id for c in pool], flt.model_copy(update={"genres_all": flt.genres_any}))
        preferred = [c.item_id for c, good in zip(pool, every, strict=True) if good]
    ranked = _reranked(pool, state, tools, history=(state.get("history") or []) + turn.weak,
                       liked=turn.strong + session.liked_items, preferred=preferred)
    loop.accepted, loop.messages = True, []
    return {"llm": loop, "ranked": ranked, "notes": _memory_notes(turn.asked, session, state["profile"], tools.catalog),
            "_detail": f"llm plan accepted: {loop.calls} tool calls, {len(pool)} films in the pool, "
                       f"llm {loop.llm_ms:.0f}ms"}


def after_compose(state: TurnState) -> str:
    return "retrieve" if state["llm"].fallback else "respond"


def remember(state: TurnState, tools: Toolbox) -> dict[str, Any]:
    """Store the durable tastes this turn revealed; a session critique only as evidence.

    - liked and disliked items are durable (a like by button or by "more like that one" is one record);
      "not that one" (a reference to the list, no durable marker) is a critique;
    - an excluded genre is durable with a marker ("never", "I hate", "can't stand", "I'm done with") or
      when a critique of it was made in an earlier session; otherwise it is a critique, which filters
      nothing later; either replaces a remembered love of the genre, as does "no more westerns";
    - a wanted genre or decade is durable with a marker ("I love", "always");
    - the free text of a message with a marker becomes a note ("loves clever plot twists").
    The same subject keeps one record, the newest (``MemoryRecord.key``).
    """
    if tools.memory is None:
        return {"_detail": "memory off"}
    # shown-list references already resolved by plan (TurnContext.applied)
    records = taste.turn_records(state["request"], state["turn"].applied, state["message"], state["user_id"],
                                 state.get("session_id"), state["profile"], tools.catalog)
    t0 = time.perf_counter()
    if records:
        tools.memory.add_many(records)
    return {"_detail": f"stored {[r.kind for r in records]} in {(time.perf_counter() - t0) * 1000:.1f}ms"}


def final_reply(state: TurnState) -> Reply:
    """The turn's reply with what the whole turn adds: its trace, notes and who planned it."""
    loop = state.get("llm")
    reply = state.get("reply") or Reply(text="", session_id=state["session_id"])
    return reply.model_copy(update={
        "trace": list(state.get("trace", [])), "warnings": list(state.get("notes", [])),
        "planner": "offline" if loop is None else "llm-fallback" if loop.fallback else "llm",
        "llm_ms": round(loop.llm_ms, 1) if loop is not None else 0.0,
        "fallback_reason": loop.fallback_reason if loop is not None else None})
