"""What a slow LLM endpoint costs a conversation: the turn deadline and the circuit breaker.

    python bench/llm_deadline.py [--delay 20] [--turns 5] [--json reports/bench_llm_deadline.json]

A scripted OpenAI-compatible server on 127.0.0.1 answers every request after ``--delay`` seconds.
The same conversation runs twice on the full build: offline (no LLM) and with the LLM planner
pointed at the slow server (turn deadline ``CONVREC_LLM_TURN_SECONDS``, default 8 s). Printed: each
turn's seconds both ways and what the LLM added. Goals (issue 14): the first turn ends within the
deadline + 2 s; while the breaker is open, later turns add <= 1 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import emit, machine  # noqa: E402

TURNS = ["a 90s comedy like Toy Story", "something older", "more like the second one", "no romance",
         "a scary movie from the 80s", "not the first one", "something lighter"]


def run(rec, turns: list[str]) -> list[float]:
    sid, out = rec.new_session(), []
    for message in turns:
        t0 = time.perf_counter()
        rec.chat("bench-deadline", message, session_id=sid)
        out.append(round(time.perf_counter() - t0, 3))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--delay", type=float, default=20.0, help="seconds the endpoint takes to answer")
    ap.add_argument("--turns", type=int, default=5)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    from agent import ConvRec
    from tests.llm_server import ScriptedLLM
    from tools.config import Config

    turns = TURNS[: args.turns]
    plan = {"calls": [{"name": "recommend", "arguments": {"genres": ["Comedy"]}}]}
    with tempfile.TemporaryDirectory() as tmp, ScriptedLLM(default={"delay": args.delay, **plan}) as llm:
        base = Config(memory_dir=Path(tmp) / "offline")
        offline = ConvRec.load(config=base, use_memory=False)
        slow = ConvRec.load(config=base.model_copy(update={
            "memory_dir": Path(tmp) / "llm", "llm_base_url": llm.base_url, "llm_model": "slow"}), use_memory=False)
        deadline = slow.config.llm_turn_seconds
        run(offline, turns[:1])  # warm both (first-turn caches)
        t_off, t_llm = run(offline, turns), run(slow, turns)
        offline.close()
        slow.close()
    added = [round(b - a, 3) for a, b in zip(t_off, t_llm, strict=True)]
    emit({
        "bench": "llm_deadline", "machine": machine(), "endpoint_delay_s": args.delay, "deadline_s": deadline,
        "turn_s_offline": t_off, "turn_s_with_slow_llm": t_llm, "added_s": added,
        "goal_first_turn_within_deadline_plus_2s": t_llm[0] <= deadline + 2.0,
        "goal_later_turns_add_at_most_1s": all(a <= 1.0 for a in added[1:]),
    }, args.json)


if __name__ == "__main__":
    main()
