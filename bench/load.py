"""Load: concurrent sessions x turns through the Python API in process, and the same through the
REST API against N replicas (``convrec serve`` processes over one PostgreSQL and one Chroma server),
in the same run.

    python bench/load.py --json reports/bench_load.json [--sessions 50 --turns 20 --replicas 2] [--skip-http]

Each session is its own user with its own dislike. Over HTTP every user has a bearer token (the
auth file is on, as in a deployment) and a session's turns alternate between the replicas, so
every turn reads the state another process wrote. After the run every user's memories and replies
are checked for another user's data (cross-talk). Reports throughput, p50/p99 turn latency, errors,
and HTTP throughput as a fraction of in-process.
"""

from __future__ import annotations

import argparse
import os
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


def run(sessions, turn_fn, workers: int) -> tuple[dict, dict]:
    """Every session in its own worker, turns in order; ``turn_fn(user, n, message) -> reply text``."""
    latencies, errors, replies = [], [], {}

    def converse(user, genre, msgs):
        for n, m in enumerate(msgs):
            t = time.perf_counter()
            try:
                replies.setdefault(user, []).append(turn_fn(user, n, m))
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


def cross_talk(memories_of, sessions, replies_text) -> int:
    """Count replies or memories of one user that carry another user's identity or dislike."""
    bad = 0
    users = {u for u, _, _ in sessions}
    for user, genre, _ in sessions:
        mems = memories_of(user)
        bad += sum(m["user_id"] != user for m in mems)
        bad += sum(m["kind"] == "genre_dislike" and m["genre"] != genre for m in mems)
        for text in replies_text.get(user, []):
            bad += any(other in text for other in users - {user} if len(other) > 6 and f"{other} " in text)
    return bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--turns", type=int, default=20)
    ap.add_argument("--workers", type=int, default=50, help="client threads (one session each at a time)")
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--skip-http", action="store_true")
    args = ap.parse_args()

    from agent import ConvRec
    from tools.config import Config

    result = {"machine": machine(), "sessions": args.sessions, "turns_per_session": args.turns}
    sessions = plan(args.sessions, args.turns)
    with tempfile.TemporaryDirectory(prefix="convrec-load-") as state:
        os.chmod(state, 0o755)  # PostgreSQL (as the postgres user when we are root) enters it
        # in process: the default local state (SQLite + embedded Chroma), what `make demo` uses
        config = Config().model_copy(update={"memory_dir": Path(state) / "api", "checkpoint_url": None,
                                             "chroma_url": None, "auth_file": None})
        rec = ConvRec.load(config=config)
        stats, replies = run(sessions, lambda u, n, m: rec.chat(u, m, session_id="load").text, args.workers)
        stats["cross_talk"] = cross_talk(lambda u: [r.model_dump() for r in rec.memories(u)], sessions, replies)
        result["python_api"] = stats
        rec.close()
        if not args.skip_http:
            result["rest_http"] = http_load(Path(state), sessions, args)
            result["http_over_python"] = round(result["rest_http"]["turns_per_s"] / stats["turns_per_s"], 2)
    result["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    result["peak_rss_mb_bench_process"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    emit(result, args.json)


def http_load(state: Path, sessions, args) -> dict:
    """The same load through the REST API: PostgreSQL + a Chroma server + N replicas started here."""
    import httpx

    from ui.auth import add_account
    from ui.cluster import ChromaServer, PostgresServer, Replica

    auth_file = state / "auth.toml"
    tokens = {user: add_account(auth_file, user) for user, _, _ in sessions}
    with PostgresServer(state / "postgres") as pg, ChromaServer(state / "chroma") as chroma:
        env = {"CONVREC_CHECKPOINT_URL": pg.create_database("convrec"), "CONVREC_CHROMA_URL": chroma.url,
               "CONVREC_AUTH_FILE": str(auth_file), "CONVREC_MEMORY_DIR": str(state / "replicas")}
        replicas = [Replica(env=env, log=state / f"replica-{i}.log").start() for i in range(args.replicas)]
        try:
            t0 = time.perf_counter()
            for r in replicas:
                r.wait_ready()
            started_s = round(time.perf_counter() - t0, 1)
            limits = httpx.Limits(max_connections=args.workers, max_keepalive_connections=args.workers)
            clients = [httpx.Client(base_url=r.url, timeout=300, limits=limits) for r in replicas]

            def turn(user, n, message):
                # a session's turns alternate between replicas: each reads the state another wrote
                at = clients[(int(user.rsplit("-", 1)[1]) + n) % len(clients)]
                r = at.post("/v1/chat", json={"user_id": user, "session_id": "load", "message": message},
                            headers={"Authorization": f"Bearer {tokens[user]}"})
                r.raise_for_status()
                return r.json()["text"]

            def memories_of(user):
                r = clients[0].get(f"/v1/memories/{user}", headers={"Authorization": f"Bearer {tokens[user]}"})
                r.raise_for_status()
                return r.json()["memories"]

            stats, replies = run(sessions, turn, args.workers)
            stats["cross_talk"] = cross_talk(memories_of, sessions, replies)
            # and the API refuses to show one user's memory to another
            u, v = sessions[0][0], sessions[1][0]
            stats["cross_user_reads_allowed"] = int(clients[1].get(
                f"/v1/memories/{v}", headers={"Authorization": f"Bearer {tokens[u]}"}).status_code != 403)
            stats["replicas"] = len(replicas)
            stats["replicas_ready_s"] = started_s
            for c in clients:
                c.close()
            return stats
        finally:
            for r in replicas:
                r.stop()


if __name__ == "__main__":
    main()
