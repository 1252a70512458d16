"""The conversation runner: simulated users talk to each system through ``ConvRec``, same users,
same seed; the result is success within N turns, average turns, Recall@k after each turn and
NDCG@k at the end, overall and per target-popularity and user-activity bucket.

The protocols (who the agent thinks it talks to, what an earlier session said) are in
``evals/protocols.py``.

Every system gets a fresh temporary ``memory_dir`` per run and per worker, and every
conversation its own session id, so no run sees another's memories.
"""

from __future__ import annotations

import logging
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, field_validator, model_validator

from agent import ConvRec
from agent.api import SYSTEMS
from evals.oracle import ORACLE, UnderstandingOracle
from evals.protocols import PROTOCOLS
from evals.simulator import (
    ANCHOR_RULE,
    LLMSimulatedUser,
    Persona,
    Shown,
    SimulatedUser,
    build_personas,
)
from evals.stats import RESAMPLES, paired
from memory.preferences import UserProfile
from tools.artifacts import Artifacts, library_versions
from tools.catalog import Item
from tools.config import Config
from tools.metrics import ndcg_at_k

log = logging.getLogger(__name__)

# (name, lowest, highest) inclusive; target popularity = train interactions of the target item,
# user activity = length of the user's train history.
POPULARITY_BUCKETS = (("cold", 0, 10), ("mid", 11, 100), ("warm", 101, None))
ACTIVITY_BUCKETS = (("light", 0, 49), ("medium", 50, 150), ("heavy", 151, None))
# A conversation whose said facts leave this many catalog films or fewer is flagged (issue #21).
NARROW_LIMIT = 3


class SimSettings(BaseModel):
    """One simulated evaluation: who, how long, which systems, how."""

    users: int = Field(0, ge=0, description="users to simulate (a seeded sample); 0 = all")
    max_turns: int = Field(5, ge=1, le=20)
    k: int = Field(10, ge=1, le=100)
    seed: int = 0
    systems: list[str] = Field(default_factory=lambda: [s for s in SYSTEMS if s != "agent-llm"])
    workers: int = Field(1, ge=1, le=64)
    protocol: str = Field("standard", description="a name in evals.protocols.PROTOCOLS")
    target: Literal["test", "valid"] = Field("test", description="valid: tune on validation targets (history = train)")
    simulator: Literal["template", "heldout", "llm"] = Field(
        "template", description="template: the development simulator (tuning); heldout: written apart from the "
        "understander and never tuned on (evals/heldout.py); llm: an LLM speaks for the template user")
    chunk: int = Field(16, ge=1, description="users per task sent to a worker")

    @field_validator("protocol")
    @classmethod
    def _protocol_known(cls, v: str) -> str:
        if v not in PROTOCOLS:
            raise ValueError(f"unknown protocol {v!r}; choose from {', '.join(PROTOCOLS)}")
        return v

    @field_validator("systems")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if s not in SYSTEMS and s != ORACLE]
        if bad or not v:
            raise ValueError(f"unknown systems {bad}; choose from {', '.join([*SYSTEMS, ORACLE])}")
        return list(dict.fromkeys(v))

    @model_validator(mode="after")
    def _oracle_without_memory(self) -> SimSettings:
        if ORACLE in self.systems and PROTOCOLS[self.protocol].earlier is not None:
            raise ValueError(f"{ORACLE} keeps no memory: use it with a protocol of one session")
        return self


# ---------------------------------------------------------------------------------------------
# One conversation
# ---------------------------------------------------------------------------------------------

@dataclass
class Turn:
    message: str
    reply: str
    question: str | None
    shown: list[int]  # item ids, top-k, in order
    hit_rank: int | None  # 0-based rank of the target in `shown`
    ms: float
    nodes: dict[str, float] = field(default_factory=dict)  # trace: node -> ms
    planner: str = "offline"  # agent.state.Reply.planner: offline | llm | llm-fallback
    llm_ms: float = 0.0
    outside: int = 0  # items outside the catalog the API's guard caught before the reply (must stay 0)
    broken: int = 0  # on LLM-planned turns: shown items breaking a constraint the person said (must stay 0)
    fallback: str = ""  # why the LLM planner fell back (Reply.fallback_reason), "" when it did not
    consistent: int = 0  # catalog films that agree with every fact the person has said by this turn
    question_kind: str | None = None  # what the agent's question beside the list asked (agent/questions.py)


@dataclass
class Conversation:
    system: str
    user_id: int
    target: int
    target_popularity: int
    activity: int
    turns: list[Turn]
    setup: list[str] = field(default_factory=list)  # session-1 messages (memory protocol)
    left: bool = False  # the simulated user gave up before the turns ran out (the held-out simulator may)
    stale: str | None = None  # the stale protocol: the genre loved in session 1 and taken back in session 2
    stale_back: bool = False  # memory still held it as loved when session 3 opened
    stale_shown: int = 0  # films of that genre in session 3's lists

    @property
    def narrowed(self) -> bool:
        """The facts said left at most ``NARROW_LIMIT`` catalog films at some turn: the words alone
        nearly name the target, so such a conversation says little about the ranking."""
        return any(0 < t.consistent <= NARROW_LIMIT for t in self.turns)

    @property
    def success_turn(self) -> int | None:
        return next((n for n, t in enumerate(self.turns, 1) if t.hit_rank is not None), None)


def converse(rec, persona: Persona, settings: SimSettings, config: Config | None = None,
             catalog_items: Sequence[Item] = ()) -> Conversation:
    """Run one simulated user against one loaded ``ConvRec`` until its target shows, the user
    leaves, or turns run out. ``catalog_items``: every catalog film, to count those that agree with
    what the user has said (0 when not given)."""
    sim = _simulator(persona, settings, config, catalog_items)
    if hasattr(rec, "listen"):  # the understanding oracle hears the user as it means its words
        rec.listen(sim)
    target, k = persona.target.item_id, settings.k
    base = f"sim{settings.seed}-u{persona.user_id}"
    protocol = PROTOCOLS[settings.protocol]
    user, session, setup = protocol.user_id(persona), base, []
    stale: str | None = None
    if protocol.earlier is not None:  # the scored session knows only what memory kept of the earlier ones

        def chat(message: str, n: int) -> list[Item]:
            setup.append(message)
            return catalog_of(rec.chat(user, message, session_id=f"{base}-s{n}").items)

        earlier = _earlier_sessions(settings.simulator)(protocol.earlier, persona, settings.seed, chat)
        session, stale = f"{base}-s{earlier.sessions + 1}", earlier.stale_genre
    # the stale protocol: does the genre taken back still count as loved when the scored session opens?
    stale_back = stale is not None and stale in UserProfile.from_records(user, rec.memories(user)).genres_liked
    turns: list[Turn] = []
    message = sim.opening()
    left = False
    for n in range(1, settings.max_turns + 1):
        t0 = time.perf_counter()
        reply = rec.chat(user, message, session_id=session)
        ms = (time.perf_counter() - t0) * 1000
        items = reply.items[:k]
        shown = [i.item_id for i in items]
        hit = shown.index(target) if target in shown else None
        nodes: dict[str, float] = defaultdict(float)
        for step in reply.trace:
            nodes[step.node] += step.ms
        turns.append(Turn(message, reply.text, reply.question, shown, hit, round(ms, 2), dict(nodes),
                          reply.planner, reply.llm_ms, reply.dropped_outside_catalog,
                          rec.broken_constraints(user, session, shown) if reply.planner != "offline" else 0,
                          reply.fallback_reason or "", sum(map(sim.fits, catalog_items)), reply.question_kind))
        if hit is not None or n == settings.max_turns:
            break
        message = sim.respond(Shown(items=catalog_of(items), question=reply.question, text=reply.text))
        if message is None:  # the person gave up
            left = True
            break
    stale_shown = 0 if stale is None else sum(stale in g for t in turns for g in _genres_of(rec, t.shown))
    return Conversation(rec.system, persona.user_id, target, persona.target_popularity, persona.activity, turns, setup,
                        left, stale, stale_back, stale_shown)


def _genres_of(rec, item_ids: Sequence[int]) -> list[list[str]]:
    return [it.genres for it in rec.artifacts.catalog.get(list(item_ids))]


def catalog_of(items) -> list[Item]:
    """The films of a reply as the simulated user sees them (no popularity: a card does not show it)."""
    return [Item(item_id=i.item_id, title=i.title, year=i.year, genres=i.genres, popularity=0) for i in items]


def _earlier_sessions(simulator: str):
    """The simulator's player of earlier-session scripts (the LLM simulator has none: the development
    user's words)."""
    if simulator == "heldout":
        from evals.heldout import earlier_sessions

        return earlier_sessions
    from evals.simulator import earlier_sessions

    return earlier_sessions


def _simulator(persona: Persona, settings: SimSettings, config: Config | None, catalog_items: Sequence[Item] = ()):
    if settings.simulator == "heldout":
        from evals.heldout import HeldOutUser

        # every film's train interactions: "a big hit" is a share of the catalog (its fits needs them)
        return HeldOutUser(persona, seed=settings.seed, k=settings.k,
                           popularity=[it.popularity for it in catalog_items] or None)
    if settings.simulator == "llm":
        if config is None or not config.llm_enabled:
            raise ValueError("the LLM simulator needs CONVREC_LLM_BASE_URL and CONVREC_LLM_MODEL")
        return LLMSimulatedUser(persona, config, seed=settings.seed, k=settings.k)
    return SimulatedUser(persona, seed=settings.seed, k=settings.k)


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------

def conversation_metrics(conv: Conversation, max_turns: int, k: int) -> dict[str, Any]:
    """Per conversation: success (the target in the top k at some turn), the turn of success
    (failures count ``max_turns``), whether the target showed by each turn (cumulative), whether
    it showed at each turn it reached (None after the conversation ended), NDCG@k of the last list."""
    lists = [t.shown for t in conv.turns]
    success = conv.success_turn
    return {
        "success": success is not None,
        "turns": success if success is not None else max_turns,
        "success_by_turn": [float(success is not None and success <= t) for t in range(1, max_turns + 1)],
        "hit_at_turn": [float(conv.turns[t].hit_rank is not None) if t < len(conv.turns) else None
                        for t in range(max_turns)],
        "ndcg": ndcg_at_k(lists[-1], [conv.target], k),
    }


def summarize(convs: Sequence[Conversation], max_turns: int, k: int, narrowed: bool = True) -> dict[str, Any]:
    """The report's numbers for a group of conversations (means over users). ``success_by_turn`` is
    cumulative (the share of users whose target has shown by turn t, so it never falls);
    ``hit_rate_by_turn`` is each turn's own: the share of the conversations still going at turn t
    whose list at t shows the target. ``narrowed``: also the same numbers without the conversations
    whose said facts left at most ``NARROW_LIMIT`` catalog films."""
    if not convs:
        return {"users": 0}
    m = [conversation_metrics(c, max_turns, k) for c in convs]
    hits = [[x["hit_at_turn"][t] for x in m if x["hit_at_turn"][t] is not None] for t in range(max_turns)]
    out = {
        "users": len(m),
        f"success@{max_turns}": _r(np.mean([x["success"] for x in m])),
        "avg_turns": _r(np.mean([x["turns"] for x in m])),
        "success_by_turn": [_r(v) for v in np.mean([x["success_by_turn"] for x in m], axis=0)],
        "hit_rate_by_turn": [_r(np.mean(h)) if h else None for h in hits],
        "reached_turn": [len(h) for h in hits],
        f"ndcg@{k}": _r(np.mean([x["ndcg"] for x in m])),
        "left": _r(np.mean([c.left for c in convs])),
        # questions the agent asked (a question-only turn counts as a turn; asked kinds from agent/questions.py)
        "questions": {"turns_with_question": sum(t.question is not None for c in convs for t in c.turns),
                      "question_only_turns": sum(t.question is not None and not t.shown for c in convs for t in c.turns),
                      "conversations_asked": sum(any(t.question is not None for t in c.turns) for c in convs),
                      "by_kind": dict(Counter(t.question_kind or "open" for c in convs for t in c.turns
                                              if t.question is not None))},
    }
    stale = [c for c in convs if c.stale is not None]
    if stale:  # the stale protocol: the genre taken back must not come back
        out["stale"] = {"conversations": len(stale), "still_loved": sum(c.stale_back for c in stale),
                        "films_of_it_shown": _r(np.mean([c.stale_shown for c in stale]))}
    if narrowed:
        flagged = [c for c in convs if c.narrowed]
        out["narrowed"] = {"limit": NARROW_LIMIT, "conversations": len(flagged),
                           "without": summarize([c for c in convs if not c.narrowed], max_turns, k, narrowed=False)}
    turns = [t for c in convs for t in c.turns]
    if any(t.planner != "offline" for t in turns):
        out["llm"] = llm_summary(turns)
    return out


def llm_summary(turns: Sequence[Turn]) -> dict[str, Any]:
    """How the LLM planner fared: turns it planned, fell back on, or was not needed for (the rules
    asked or answered); its time on the turns it was called (not those the open circuit skipped);
    and the invariants (catalog items only, the person's constraints held)."""
    asked = [t for t in turns if t.planner != "offline"]
    called = [t for t in asked if t.fallback != "circuit open"]
    llm_ms = np.array([t.llm_ms for t in called]) if called else np.zeros(1)
    return {
        "turns": len(turns),
        "llm_turns": len(asked),
        "accepted": _r(np.mean([t.planner == "llm" for t in asked])) if asked else None,
        "fell_back": _r(np.mean([t.planner == "llm-fallback" for t in asked])) if asked else None,
        "called_turns": len(called),
        "accepted_when_called": _r(np.mean([t.planner == "llm" for t in called])) if called else None,
        "llm_ms_p50": _r(np.percentile(llm_ms, 50)),
        "llm_ms_p99": _r(np.percentile(llm_ms, 99)),
        "turn_ms_max": _r(max(t.ms for t in turns)),
        "items_outside_catalog": int(sum(t.outside for t in turns)),
        "items_breaking_said_constraints": int(sum(t.broken for t in asked)),
        "fallback_reasons": dict(Counter(t.fallback for t in asked if t.planner == "llm-fallback")),
    }


def user_outcomes(convs: Sequence[Conversation], max_turns: int, k: int) -> dict[str, list]:
    """Each user's outcome (for paired intervals across systems and across runs): the turn of
    success (0: none), NDCG@k at the end, whether the facts said narrowed the catalog, whether it left."""
    return {"user_id": [c.user_id for c in convs], "success_turn": [c.success_turn or 0 for c in convs],
            "ndcg": [round(conversation_metrics(c, max_turns, k)["ndcg"], 6) for c in convs],
            "narrowed": [c.narrowed for c in convs], "left": [c.left for c in convs],
            "stale_back": [c.stale_back for c in convs], "stale_shown": [c.stale_shown for c in convs]}


def compare_outcomes(a: dict[str, list], b: dict[str, list], max_turns: int,
                     skip_narrowed: bool = False) -> dict[str, dict[str, Any]]:
    """Mean of A - B per user with its paired 95% interval, for success@N, success by each turn and
    NDCG at the end, over the users both ran (optionally without those narrowed in either run)."""
    ia = {u: n for n, u in enumerate(a["user_id"])}
    ib = {u: n for n, u in enumerate(b["user_id"])}
    users = [u for u in a["user_id"] if u in ib
             and not (skip_narrowed and (a["narrowed"][ia[u]] or b["narrowed"][ib[u]]))]
    if not users:
        return {}
    pa, pb = [ia[u] for u in users], [ib[u] for u in users]
    sa, sb = np.asarray(a["success_turn"])[pa], np.asarray(b["success_turn"])[pb]
    out = {f"success@{max_turns}": paired(sa > 0, sb > 0)}
    for t in range(1, max_turns + 1):
        out[f"success_by_turn_{t}"] = paired((sa > 0) & (sa <= t), (sb > 0) & (sb <= t))
    out["ndcg"] = paired(np.asarray(a["ndcg"])[pa], np.asarray(b["ndcg"])[pb])
    return out


def bucket_of(value: int, buckets) -> str:
    for name, lo, hi in buckets:
        if value >= lo and (hi is None or value <= hi):
            return name
    raise ValueError(f"{value} falls in no bucket")


def system_summary(convs: Sequence[Conversation], max_turns: int, k: int) -> dict[str, Any]:
    out = {"all": summarize(convs, max_turns, k)}
    for key, attr, buckets in (("target_popularity", "target_popularity", POPULARITY_BUCKETS),
                               ("user_activity", "activity", ACTIVITY_BUCKETS)):
        groups: dict[str, list[Conversation]] = {name: [] for name, _, _ in buckets}
        for c in convs:
            groups[bucket_of(getattr(c, attr), buckets)].append(c)
        out[key] = {name: summarize(g, max_turns, k, narrowed=False) for name, g in groups.items()}
    return out


def _r(x: float) -> float:
    return round(float(x), 4)


def _describe(buckets) -> dict[str, str]:
    return {name: f"{lo}-{hi}" if hi is not None else f">= {lo}" for name, lo, hi in buckets}


# ---------------------------------------------------------------------------------------------
# Running many: in this process or over worker processes
# ---------------------------------------------------------------------------------------------

class _Worker:
    """Holds one artifacts load and the ConvRec of the system being run (one at a time)."""

    def __init__(self, config: Config, state_root: Path, art: Artifacts | None = None):
        self.config = config
        self.state_root = Path(state_root)
        self.art = art if art is not None else Artifacts.load(config.artifacts_dir, config)
        self.system: tuple[str, str] | None = None  # (system, target) of the loaded ConvRec
        self.rec = None
        self.items = self.art.catalog.get(self.art.split.item_ids.tolist())

    def rec_for(self, system: str, target: str = "test"):
        if self.system != (system, target):
            if self.rec is not None:
                self.rec.close()
            if system == ORACLE:
                self.rec = UnderstandingOracle(self.art, history_upto="train" if target == "valid" else "valid",
                                               candidates=self.config.candidates,
                                               rerank_shares=self.config.rerank_shares)
                self.system = (system, target)
                return self.rec
            state = Path(tempfile.mkdtemp(prefix=f"{system}-p{os.getpid()}-", dir=self.state_root))
            # only agent-llm plans with the LLM: CONVREC_LLM_* may be set for it (or the LLM simulator)
            self.rec = ConvRec(self.art, self.config.model_copy(update={"memory_dir": state}), system=system,
                               history_upto="train" if target == "valid" else "valid",
                               use_llm=system == "agent-llm")
            self.system = (system, target)
        return self.rec

    def run(self, system: str, personas: Sequence[Persona], settings: SimSettings) -> list[Conversation]:
        rec = self.rec_for(system, settings.target)
        return [converse(rec, p, settings, self.config, self.items) for p in personas]

    def close(self) -> None:
        if self.rec is not None:
            self.rec.close()


_WORKER: _Worker | None = None


def _init_worker(config: Config, state_root: str) -> None:
    global _WORKER
    logging.basicConfig(level=logging.WARNING)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    _WORKER = _Worker(config, Path(state_root))


def _run_chunk(system: str, personas: list[Persona], settings: SimSettings) -> list[Conversation]:
    assert _WORKER is not None, "worker not initialised"
    return _WORKER.run(system, personas, settings)


@contextmanager
def _single_threaded_children() -> Iterator[None]:
    """Worker processes inherit these: one BLAS/OpenMP thread each, the pool gives the parallelism."""
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TOKENIZERS_PARALLELISM")
    old = {n: os.environ.get(n) for n in names}
    os.environ.update({n: "1" for n in names[:3]} | {"TOKENIZERS_PARALLELISM": "false"})
    try:
        yield
    finally:
        for n, v in old.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v


def select_personas(art: Artifacts, settings: SimSettings) -> list[Persona]:
    """The protocol's users (a seeded sample of ``settings.users`` when asked), as personas."""
    test = art.split.valid if settings.target == "valid" else art.split.test
    if PROTOCOLS[settings.protocol].cold_targets:
        if len(art.split.cold_items) == 0:
            raise ValueError("the cold protocol needs artifacts built with cold items: "
                             "CONVREC_ARTIFACTS=<dir> CONVREC_COLD_ITEMS=100 convrec build")
        test = test[test.iidx.isin(art.split.cold_items)]
    users = np.sort(test.user_id.to_numpy())
    if settings.users and settings.users < len(users):
        rng = np.random.default_rng(settings.seed)
        users = np.sort(rng.choice(users, size=settings.users, replace=False))
    return build_personas(art, users.tolist(), seed=settings.seed, target=settings.target)


def run_simulation(settings: SimSettings, config: Config, progress: bool = True,
                   art: Artifacts | None = None) -> tuple[dict[str, Any], list[Conversation]]:
    """Every system over the same simulated users; returns the JSON report and all conversations."""
    from tqdm import tqdm

    art = art if art is not None else Artifacts.load(config.artifacts_dir, config)
    t_all = time.perf_counter()
    personas = select_personas(art, settings)
    log.info("simulating %d users x %d systems (%s protocol, %s simulator, %d workers, up to %d turns, k=%d)",
             len(personas), len(settings.systems), settings.protocol, settings.simulator, settings.workers,
             settings.max_turns, settings.k)
    chunks = [personas[i : i + settings.chunk] for i in range(0, len(personas), settings.chunk)]
    root = Path(tempfile.mkdtemp(prefix="convrec-sim-"))
    convs: dict[str, list[Conversation]] = {}
    wall: dict[str, float] = {}
    try:
        if settings.workers == 1:
            worker = _Worker(config, root, art)
            try:
                for system in settings.systems:
                    t0 = time.perf_counter()
                    out = []
                    for chunk in tqdm(chunks, desc=system, unit="chunk", disable=not progress):
                        out += worker.run(system, chunk, settings)
                    convs[system], wall[system] = out, round(time.perf_counter() - t0, 2)
                    log.info("%s: %d conversations in %.1fs", system, len(out), wall[system])
            finally:
                worker.close()
        else:
            import multiprocessing as mp

            with _single_threaded_children(), ProcessPoolExecutor(
                settings.workers, mp_context=mp.get_context("spawn"),
                initializer=_init_worker, initargs=(config, str(root)),
            ) as pool:  # fmt: skip
                for system in settings.systems:
                    t0 = time.perf_counter()
                    futures = {pool.submit(_run_chunk, system, chunk, settings): n for n, chunk in enumerate(chunks)}
                    parts: dict[int, list[Conversation]] = {}
                    with tqdm(total=len(personas), desc=system, unit="user", disable=not progress) as bar:
                        for fut in as_completed(futures):
                            parts[futures[fut]] = fut.result()
                            bar.update(len(parts[futures[fut]]))
                    convs[system] = [c for n in sorted(parts) for c in parts[n]]
                    wall[system] = round(time.perf_counter() - t0, 2)
                    log.info("%s: %d conversations in %.1fs", system, len(convs[system]), wall[system])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    n, k = settings.max_turns, settings.k
    outcomes = {s: user_outcomes(convs[s], n, k) for s in settings.systems}
    lead = "agent" if "agent" in outcomes else settings.systems[0]
    report = {
        "protocol": _protocol(settings, art, len(personas)),
        "systems": {s: system_summary(convs[s], n, k) for s in settings.systems},
        # paired 95% bootstrap intervals of the lead system minus each other, same users
        "comparisons": {f"{lead} vs {s}": compare_outcomes(outcomes[lead], outcomes[s], n)
                        for s in settings.systems if s != lead},
        "comparisons_without_narrowed": {f"{lead} vs {s}": compare_outcomes(outcomes[lead], outcomes[s], n, True)
                                         for s in settings.systems if s != lead},
        "per_user": outcomes,
        "run": _run_info(settings, convs, wall, round(time.perf_counter() - t_all, 2), art),
    }
    return report, [c for s in settings.systems for c in convs[s]]


def _protocol(settings: SimSettings, art: Artifacts, n_users: int) -> dict[str, Any]:
    return {
        "name": settings.protocol,
        "simulator": settings.simulator,
        "target": settings.target,
        "users": n_users,
        "max_turns": settings.max_turns,
        "k": settings.k,
        "seed": settings.seed,
        "systems": settings.systems,
        "dataset": art.manifest["dataset"]["name"],
        "dataset_checksum": art.manifest["dataset"]["checksum"],
        "cf_model": art.manifest["cf"]["selected"],
        "anchors": ANCHOR_RULE,
        "cold_items": int(len(art.split.cold_items)),
        "buckets": {
            "target_popularity": _describe(POPULARITY_BUCKETS) | {"by": "train interactions of the target item"},
            "user_activity": _describe(ACTIVITY_BUCKETS) | {"by": "train interactions of the user"},
        },
        "definitions": {
            "success": f"the target is in the top {settings.k} shown at some turn <= {settings.max_turns}",
            "avg_turns": f"turn of success; a failure counts {settings.max_turns}",
            "success_by_turn": "share of users whose target has shown in a top-k by turn t (cumulative)",
            "hit_rate_by_turn": "share of the conversations still going at turn t whose list at t shows the target",
            "left": "share of conversations the simulated user gave up on",
            "narrowed": f"conversations whose said facts left at most {NARROW_LIMIT} catalog films at some turn",
            "comparisons": "mean per-user difference with its paired bootstrap 95% interval "
                           f"({RESAMPLES} resamples of users)",
            "ndcg": "NDCG@k of the last list shown",
        },
    }


def _run_info(settings, convs, wall, total, art) -> dict[str, Any]:
    """What is not a result: timings, machine, versions (kept apart so results compare across runs)."""
    info: dict[str, Any] = {
        "command": _command(),
        "git": git_state(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(time.time() - total)),
        "workers": settings.workers,
        "wall_s": wall,
        "total_wall_s": total,
        "machine": machine(),
        "versions": {**art.manifest.get("versions", {}), **library_versions()},
        "turns": {}, "ms_per_turn": {}, "node_ms": {},
    }  # fmt: skip
    for system, cs in convs.items():
        turns = [t for c in cs for t in c.turns]
        info["turns"][system] = len(turns)
        info["ms_per_turn"][system] = _r(np.mean([t.ms for t in turns])) if turns else None
        nodes: dict[str, list[float]] = defaultdict(list)
        for t in turns:
            for node, ms in t.nodes.items():
                nodes[node].append(ms)
        info["node_ms"][system] = {n: _r(np.mean(v)) for n, v in nodes.items()}
    return info


def _command() -> str:
    """The command line, with the CONVREC_* settings it ran under (secrets left out)."""
    env = [f"{k}={shlex.quote(v)}" for k, v in sorted(os.environ.items())
           if k.startswith("CONVREC_") and not any(s in k for s in ("KEY", "SECRET", "TOKEN"))]
    argv = ["convrec", *sys.argv[1:]] if Path(sys.argv[0]).name == "convrec" else sys.argv
    return " ".join([*env, *(shlex.quote(a) for a in argv)])


def git_state() -> str | None:
    """The commit the code came from, with "+dirty" when the working tree differs from it."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True,
                               text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode:
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    if Path("/proc/cpuinfo").exists():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"host": platform.node(), "os": platform.platform(), "cpu": cpu, "cores": os.cpu_count(),
            "load_avg_1m_at_end": None if load is None else round(load, 2)}


def conversation_record(conv: Conversation, catalog) -> dict[str, Any]:
    """One conversation as a JSON line (titles added so a person can read it)."""
    ids = {i for t in conv.turns for i in t.shown} | {conv.target}
    label = {it.item_id: it.label for it in catalog.get(sorted(ids))}
    d = asdict(conv)
    d["target_title"] = label.get(conv.target)
    d["success_turn"] = conv.success_turn
    for t in d["turns"]:
        t["shown_titles"] = [label.get(i) for i in t["shown"]]
        t.pop("nodes")
    return d
