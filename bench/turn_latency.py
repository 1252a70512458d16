"""Offline turn latency through the public API: a few hundred scripted turns after warm-up.

    python bench/turn_latency.py --json reports/bench_turns.json [--conversations 60] [--compare agent-no-rerank]

Model loading is timed separately. ``--compare SYSTEM`` runs the same turns through that system too
(loaded beside the agent, turns interleaved one by one, each first on every other turn, so both
see the same machine load) and
reports its times and the agent's p50 minus its p50 (the reranker's cost per turn for
``agent-no-rerank``). Per-node times come from each reply's trace. Long-term memory
is broken out: ``memory_ms`` has the read (the ``recall`` node: one Chroma query with the message's
embedding) and the write (the ``remember`` node: building and upserting the turn's records) per turn.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import emit, machine  # noqa: E402

SCRIPTS = [
    ["a 90s comedy like Toy Story", "something older", "more like the second one", "no romance", "not the first one"],
    ["something like Heat but funnier, nothing before 1990", "more drama", "like the third one"],
    ["I loved Fargo but hated Scream", "something recent", "a hidden gem please"],
    ["a scary movie", "no more slashers, something classic", "older", "more like the first one"],
    ["recommend me something", "sci-fi from the 80s", "like Alien", "not that one"],
    ["hi", "an animated film for kids", "something newer"],
    ["I hate horror and I love 70s films", "something lighter", "more like the first one"],
]


def pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(xs, q)), 2) if xs else 0.0


def timed(rec, user: str, message: str, session_id: str):
    """One turn and its wall time in ms."""
    t = time.perf_counter()
    reply = rec.chat(user, message, session_id=session_id)
    return reply, (time.perf_counter() - t) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--conversations", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--compare", default=None, help="a system of agent.api.SYSTEMS to time beside the agent")
    args = ap.parse_args()

    from agent import ConvRec
    from tools.config import Config

    with tempfile.TemporaryDirectory() as state:
        config = Config().model_copy(update={"memory_dir": Path(state)})
        t = time.perf_counter()
        rec = ConvRec.load(config=config)
        load_s = time.perf_counter() - t
        other = None
        if args.compare:
            other = ConvRec.load(config=config.model_copy(update={"memory_dir": Path(state) / "compare"}),
                                 system=args.compare)
        rng = random.Random(args.seed)
        turns, per_node, memory, other_turns = [], defaultdict(list), defaultdict(list), []
        for n in range(args.warmup):
            for r in (rec, other) if other else (rec,):
                r.chat(f"warm-{n}", SCRIPTS[n % len(SCRIPTS)][0])
        for c in range(args.conversations):
            user = str(rng.randint(1, 943)) if c % 2 else f"new-{c}"
            for n, message in enumerate(SCRIPTS[c % len(SCRIPTS)]):
                if other is not None and (c + n) % 2:  # the compared system first on every other turn
                    other_turns.append(timed(other, user, message, f"bench-{c}")[1])
                reply, ms = timed(rec, user, message, f"bench-{c}")
                turns.append(ms)
                if other is not None and not (c + n) % 2:
                    other_turns.append(timed(other, user, message, f"bench-{c}")[1])
                for step in reply.trace:
                    per_node[step.node].append(step.ms)
                read = sum(s.ms for s in reply.trace if s.node == "recall")
                write = sum(s.ms for s in reply.trace if s.node == "remember")
                memory["read"].append(read)
                memory["write"].append(write)
                memory["read_plus_write"].append(read + write)
        rec.close()
        if other is not None:
            other.close()
    result = {
        "machine": machine(),
        "load_seconds": round(load_s, 2),
        "turns": len(turns),
        "turn_ms": {"p50": pct(turns, 50), "p90": pct(turns, 90), "p99": pct(turns, 99), "mean": round(float(np.mean(turns)), 2)},
        "node_ms_p50": {k: pct(v, 50) for k, v in per_node.items()},
        "node_ms_p99": {k: pct(v, 99) for k, v in per_node.items()},
        "memory_ms": {k: {"p50": pct(v, 50), "p90": pct(v, 90), "p99": pct(v, 99)} for k, v in memory.items()},
        "goal": {"p50_ms": 30, "p99_ms": 150, "memory_read_plus_write_p50_ms": 10},
    }
    if other_turns:
        result["compare"] = {
            "system": args.compare,
            "turn_ms": {"p50": pct(other_turns, 50), "p90": pct(other_turns, 90), "p99": pct(other_turns, 99)},
            "agent_minus_it_p50_ms": round(pct(turns, 50) - pct(other_turns, 50), 2),
            "agent_over_it_p50": round(pct(turns, 50) / max(pct(other_turns, 50), 1e-9), 3),
        }
    emit(result, args.json)


if __name__ == "__main__":
    main()
