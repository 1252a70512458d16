"""Load: concurrent sessions x turns through the Python API and through the Gradio app's HTTP API.

    python bench/load.py --json reports/bench_load.json [--sessions 50 --turns 20] [--skip-http]

Each session is its own user with its own dislike; after the run every user's memories and
replies are checked for another user's data (cross-talk). Reports throughput, p50/p99 turn
latency, errors and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import emit, machine  # noqa: E402

GENRES = ["Horror", "Romance", "Western", "Musical", "War", "Documentary", "Film-Noir", "Animation", "Crime", "Fantasy"]
MESSAGES = ["a comedy from the 90s", "something older", "more like the second one", "not the first one",
            "an action film", "like Star Wars", "something recent", "a hidden gem", "more drama", "reset"]


def plan(sessions: int, turns: int) -> list[tuple[str, str, list[str]]]:
    out = []
    for s in range(sessions):
        genre = GENRES[s % len(GENRES)]
        msgs = [f"I hate {genre.lower()} films"] + [MESSAGES[(s + t) % len(MESSAGES)] for t in range(turns - 1)]
        out.append((f"load-{s}", genre, msgs))
    return out


def run(sessions, turn_fn, workers: int) -> dict:
    latencies, errors, replies = [], [], {}

    def converse(user, genre, msgs):
        for m in msgs:
            t = time.perf_counter()
            try:
                replies.setdefault(user, []).append(turn_fn(user, m))
            except Exception as e:  # noqa: BLE001 - counted
                errors.append(f"{user}: {type(e).__name__}: {e}"[:200])
            latencies.append((time.perf_counter() - t) * 1000)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for f in [pool.submit(converse, *s) for s in sessions]:
            f.result()
    wall = time.perf_counter() - t0
    return {"turns": len(latencies), "wall_s": round(wall, 2), "turns_per_s": round(len(latencies) / wall, 2),
            "p50_ms": round(float(np.percentile(latencies, 50)), 1), "p99_ms": round(float(np.percentile(latencies, 99)), 1),
            "errors": len(errors), "error_samples": errors[:5]}, replies


def cross_talk(rec, sessions, replies_text) -> int:
    """Count replies or memories of one user that carry another user's identity or dislike."""
    bad = 0
    users = {u for u, _, _ in sessions}
    for user, genre, _ in sessions:
        mems = rec.memories(user)
        bad += sum(m.user_id != user for m in mems)
        bad += sum(m.kind == "genre_dislike" and m.genre != genre for m in mems)
        for text in replies_text.get(user, []):
            bad += any(other in text for other in users - {user} if len(other) > 6 and f"{other} " in text)
    return bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--turns", type=int, default=20)
    ap.add_argument("--workers", type=int, default=50)
    ap.add_argument("--skip-http", action="store_true")
    args = ap.parse_args()

    from agent import ConvRec
    from tools.config import Config

    result = {"machine": machine(), "sessions": args.sessions, "turns_per_session": args.turns}
    with tempfile.TemporaryDirectory() as state:
        config = Config().model_copy(update={"memory_dir": Path(state) / "api"})
        rec = ConvRec.load(config=config)
        sessions = plan(args.sessions, args.turns)
        stats, replies = run(sessions, lambda u, m: rec.chat(u, m, session_id="load").text, args.workers)
        stats["cross_talk"] = cross_talk(rec, sessions, replies)
        result["python_api"] = stats
        rec.close()
        if not args.skip_http:
            result["gradio_http"] = http_load(config.model_copy(update={"memory_dir": Path(state) / "http"}), args)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    emit(result, args.json)


def http_load(config, args) -> dict:
    """The same load through the Gradio app's HTTP API (gradio_client), app served on 127.0.0.1."""
    import os
    import socket

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gradio_client import Client

    from agent import ConvRec
    from ui.app import create_app

    rec = ConvRec.load(config=config)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = create_app(rec)
    demo.queue(default_concurrency_limit=8)
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        sessions = plan(args.sessions, args.turns)
        clients: dict[str, Client] = {}

        def turn(user, message):
            client = clients.setdefault(user, Client(f"http://127.0.0.1:{port}/", verbose=False))
            return str(client.predict(user, message, "load", api_name="/recommend"))

        stats, replies = run(sessions, turn, args.workers)
        stats["cross_talk"] = cross_talk(rec, sessions, replies)
        return stats
    finally:
        demo.close()
        rec.close()


if __name__ == "__main__":
    main()
