"""The conversation runner: simulated users talk to each system through ``ConvRec``, same users,
same seed; the result is success within N turns, average turns, Recall@k after each turn and
NDCG@k at the end, overall and per target-popularity and user-activity bucket.

Protocols (one per run):
- ``standard``: each ml-100k user wants its held-out target; its id brings its history (train
  and the validation item for test targets, train only for validation targets).
- ``memory``: two sessions under a fresh user id, so the agent knows only what it remembers: in
  session 1 the user states tastes from its history, session 2 is a standard conversation.
- ``cold-user``: the same users, targets and simulated user as ``standard``, under a user id the
  agent has never seen: no history, no memory. A newcomer with the same wants and words.
- ``drift``: two sessions under a fresh user id; in session 1 the user asks for another genre and
  makes a mood-of-the-day critique against one of its target's genres ("less comedy this time"),
  session 2 is a standard conversation: a memory that keeps the critique loses the target.
- ``cold``: artifacts built with ``cold_items > 0``; only users whose target is a cold item.

Every system gets a fresh temporary ``memory_dir`` per run and per worker, and every
conversation its own session id, so no run sees another's memories.
"""

from __future__ import annotations

import logging
import os
import platform
import random
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
from pydantic import BaseModel, Field, field_validator

from agent import ConvRec
from agent.api import SYSTEMS
from evals.phrasings import GENRE_MASS, GENRE_NOUNS, PHRASINGS
from evals.simulator import (
    ANCHOR_RULE,
    LLMSimulatedUser,
    Persona,
    Shown,
    SimulatedUser,
    build_personas,
    leaks,
    tastes_statement,
)
from tools.artifacts import Artifacts, library_versions
from tools.catalog import Item
from tools.config import Config
from tools.metrics import ndcg_at_k, recall_at_k

log = logging.getLogger(__name__)

PROTOCOLS = ("standard", "memory", "drift", "cold-user", "cold")
# (name, lowest, highest) inclusive; target popularity = train interactions of the target item,
# user activity = length of the user's train history.
POPULARITY_BUCKETS = (("cold", 0, 10), ("mid", 11, 100), ("warm", 101, None))
ACTIVITY_BUCKETS = (("light", 0, 49), ("medium", 50, 150), ("heavy", 151, None))


class SimSettings(BaseModel):
    """One simulated evaluation: who, how long, which systems, how."""

    users: int = Field(0, ge=0, description="users to simulate (a seeded sample); 0 = all")
    max_turns: int = Field(5, ge=1, le=20)
    k: int = Field(10, ge=1, le=100)
    seed: int = 0
    systems: list[str] = Field(default_factory=lambda: [s for s in SYSTEMS if s != "agent-llm"])
    workers: int = Field(1, ge=1, le=64)
    protocol: Literal["standard", "memory", "drift", "cold-user", "cold"] = "standard"
    target: Literal["test", "valid"] = Field("test", description="valid: tune on validation targets (history = train)")
    simulator: Literal["template", "llm"] = "template"
    chunk: int = Field(16, ge=1, description="users per task sent to a worker")

    @field_validator("systems")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if s not in SYSTEMS]
        if bad or not v:
            raise ValueError(f"unknown systems {bad}; choose from {', '.join(SYSTEMS)}")
        return list(dict.fromkeys(v))


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
    outside: int = 0  # shown ids that are not catalog items (must stay 0)
    broken: int = 0  # on LLM-planned turns: shown items breaking a constraint the person said (must stay 0)
    fallback: str = ""  # why the LLM planner fell back (its trace line), "" when it did not


@dataclass
class Conversation:
    system: str
    user_id: int
    target: int
    target_popularity: int
    activity: int
    turns: list[Turn]
    setup: list[str] = field(default_factory=list)  # session-1 messages (memory protocol)

    @property
    def success_turn(self) -> int | None:
        return next((n for n, t in enumerate(self.turns, 1) if t.hit_rank is not None), None)


def converse(rec, persona: Persona, settings: SimSettings, config: Config | None = None) -> Conversation:
    """Run one simulated user against one loaded ``ConvRec`` until its target shows or turns run out."""
    sim = _simulator(persona, settings, config)
    target, k = persona.target.item_id, settings.k
    base = f"sim{settings.seed}-u{persona.user_id}"
    setup = []
    if settings.protocol in ("memory", "drift"):
        user = f"sim-u{persona.user_id}"  # not an ml-100k id: session 2 knows only what memory kept
        say = tastes_statement if settings.protocol == "memory" else mood_of_the_day
        said = say(persona, seed=settings.seed)
        for message in said:
            rec.chat(user, message, session_id=f"{base}-s1")
            setup.append(message)
        session = f"{base}-s2"
    elif settings.protocol == "cold-user":
        user, session = cold_user_id(persona), base  # never seen: no history, nothing remembered
    else:
        user, session = str(persona.user_id), base
    turns: list[Turn] = []
    message = sim.opening()
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
        outside = sum(i not in rec.tools.catalog for i in shown)
        turns.append(Turn(message, reply.text, reply.question, shown, hit, round(ms, 2), dict(nodes),
                          reply.planner, reply.llm_ms, outside,
                          _broken(rec, user, session, shown) if reply.planner != "offline" else 0,
                          next((s.detail for s in reply.trace if s.detail.startswith("fallback")), "")))
        if hit is not None or n == settings.max_turns:
            break
        seen = [Item(item_id=i.item_id, title=i.title, year=i.year, genres=i.genres, popularity=0) for i in items]
        message = sim.respond(Shown(items=seen, question=reply.question, text=reply.text))
    return Conversation(rec.system, persona.user_id, target, persona.target_popularity, persona.activity, turns, setup)


def _broken(rec, user: str, session: str, shown: list[int]) -> int:
    """How many shown items break the session's plain constraints (its genres, exclusions, years):
    the LLM planner's invariant, counted on its turns (the offline planner filters by them)."""
    if not shown or not rec.tools.use_dialogue:
        return 0
    s = rec.session(user, session)
    flt = rec.tools.recommender.constraints(genres=s.genres_in, genres_none=s.genres_out,
                                            year_min=s.year_min, year_max=s.year_max)
    return sum(not ok for ok in rec.tools.catalog.satisfies(shown, flt))


def cold_user_id(persona: Persona) -> str:
    """The id a persona speaks under in the cold-user protocol: not an ml-100k id, nor the memory protocol's."""
    return f"new-u{persona.user_id}"


def mood_of_the_day(persona: Persona, seed: int = 0) -> list[str]:
    """Session 1 of the drift protocol: another genre, then a critique of one of the target's genres,
    in the simulator's own phrasings."""
    rng = random.Random(f"drift-{seed}-{persona.user_id}")
    wanted = [g for g in persona.target.genres if g in GENRE_MASS]
    others = sorted(g for g in GENRE_NOUNS if g not in persona.target.genres)
    if not wanted or not others:
        return ["Hello!"]
    critiqued = wanted[1] if len(wanted) > 1 else wanted[0]  # the opening usually names wanted[0]
    other = rng.choice(others)
    said = [rng.choice(PHRASINGS["open_genre"]).format(genre=rng.choice(GENRE_NOUNS[other])),
            rng.choice(PHRASINGS["less"]).format(word=rng.choice(GENRE_MASS[critiqued]))]
    return [m for m in said if not leaks(m, persona.target)] or ["Hello!"]


def _simulator(persona: Persona, settings: SimSettings, config: Config | None) -> SimulatedUser:
    if settings.simulator == "llm":
        if config is None or not config.llm_enabled:
            raise ValueError("the LLM simulator needs CONVREC_LLM_BASE_URL and CONVREC_LLM_MODEL")
        return LLMSimulatedUser(persona, config, seed=settings.seed, k=settings.k)
    return SimulatedUser(persona, seed=settings.seed, k=settings.k)


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------

def conversation_metrics(conv: Conversation, max_turns: int, k: int) -> dict[str, Any]:
    """Recall@k after each turn (a finished conversation keeps its last list), turns used, NDCG@k at the end."""
    lists = [t.shown for t in conv.turns]
    lists += [lists[-1]] * (max_turns - len(lists))
    success = conv.success_turn
    return {
        "success": success is not None,
        "turns": success if success is not None else max_turns,
        "recall": [recall_at_k(shown, [conv.target], k) for shown in lists],
        "ndcg": ndcg_at_k(lists[-1], [conv.target], k),
    }


def summarize(convs: Sequence[Conversation], max_turns: int, k: int) -> dict[str, Any]:
    """The report's numbers for a group of conversations (means over users)."""
    if not convs:
        return {"users": 0}
    m = [conversation_metrics(c, max_turns, k) for c in convs]
    recall = np.mean([x["recall"] for x in m], axis=0)
    out = {
        "users": len(m),
        f"success@{max_turns}": _r(np.mean([x["success"] for x in m])),
        "avg_turns": _r(np.mean([x["turns"] for x in m])),
        f"recall@{k}_by_turn": [_r(v) for v in recall],
        f"ndcg@{k}": _r(np.mean([x["ndcg"] for x in m])),
    }
    turns = [t for c in convs for t in c.turns]
    if any(t.planner != "offline" for t in turns):
        out["llm"] = llm_summary(turns)
    return out


FALLBACK_KINDS = {  # trace wording -> a short name (agent/nodes.py, agent/llm.py, agent/planner.py)
    "circuit open": "circuit open", "timed out": "timeout", "not valid JSON": "invalid plan",
    "steps; at most": "invalid plan", "rejected its arguments": "invalid arguments",
    "which it is not given": "tool not given", "without calling a tool": "no tool call",
    "found no film": "no film found", "no time left": "deadline spent",
}


def _fallback_kind(detail: str) -> str:
    return next((name for words, name in FALLBACK_KINDS.items() if words in detail), "server error")


def llm_summary(turns: Sequence[Turn]) -> dict[str, Any]:
    """How the LLM planner fared: turns it planned, fell back on, or was not needed for (the rules
    asked or answered); its time on the turns it was called (not those the open circuit skipped);
    and the invariants (catalog items only, the person's constraints held)."""
    asked = [t for t in turns if t.planner != "offline"]
    called = [t for t in asked if _fallback_kind(t.fallback) != "circuit open"]
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
        "fallback_reasons": dict(Counter(_fallback_kind(t.fallback) for t in asked if t.planner == "llm-fallback")),
    }


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
        out[key] = {name: summarize(g, max_turns, k) for name, g in groups.items()}
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

    def rec_for(self, system: str, target: str = "test"):
        if self.system != (system, target):
            if self.rec is not None:
                self.rec.close()
            state = Path(tempfile.mkdtemp(prefix=f"{system}-p{os.getpid()}-", dir=self.state_root))
            # only agent-llm plans with the LLM: CONVREC_LLM_* may be set for it (or the LLM simulator)
            self.rec = ConvRec(self.art, self.config.model_copy(update={"memory_dir": state}), system=system,
                               history_upto="train" if target == "valid" else "valid",
                               use_llm=system == "agent-llm")
            self.system = (system, target)
        return self.rec

    def run(self, system: str, personas: Sequence[Persona], settings: SimSettings) -> list[Conversation]:
        rec = self.rec_for(system, settings.target)
        return [converse(rec, p, settings, self.config) for p in personas]

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
    if settings.protocol == "cold":
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
    report = {
        "protocol": _protocol(settings, art, len(personas)),
        "systems": {s: system_summary(convs[s], settings.max_turns, settings.k) for s in settings.systems},
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
            "recall_by_turn": "target in the top-k shown at turn t; a conversation that succeeded keeps its last list",
            "ndcg": "NDCG@k of the last list shown",
        },
    }


def _run_info(settings, convs, wall, total, art) -> dict[str, Any]:
    """What is not a result: timings, machine, versions (kept apart so results compare across runs)."""
    info: dict[str, Any] = {
        "command": _command(),
        "git": _git_state(),
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


def _git_state() -> str | None:
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
