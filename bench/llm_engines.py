"""The local LLM's engines on a planner-like request: load time, prefill and decode speed, s/request.

    python bench/llm_engines.py --json reports/bench_llm_engines.json [--engines transformers,llama]

Each engine is started as `convrec llm serve --engine E` (ready time = process start to the first
200 from /v1/models). The request has the planner's shape: a fixed few-shot prefix (~800 tokens),
a dynamic tail (~100 tokens) and a JSON schema of tool steps. The first request is cold; the next
ones change only the tail, so an engine that caches the prompt prefix prefills the tail only.
Token rates come from each response's llama.cpp-style ``timings``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import emit, machine  # noqa: E402

GENRES = ["Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
          "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War",
          "Western"]
TOOLS = {
    "semantic_search": "find movies matching a description; optional genres and years",
    "similar_items": "movies similar to a title the person names",
    "catalog_lookup": "look a title up in the catalog",
    "recommend_for_history": "collaborative-filtering picks for the person's liked movies",
    "rerank": "reorder the candidates for this person",
    "memory_read": "what the person told us before",
    "memory_write": "remember a stated like or dislike",
    "answer": "reply with the results gathered so far",
}
EXAMPLES = [
    ("funny robots from the eighties", [("semantic_search", {"query": "funny robots", "genres": ["Comedy", "Sci-Fi"], "year_min": 1980, "year_max": 1989})]),
    ("more like Heat please", [("similar_items", {"title": "Heat", "k": 10})]),
    ("I hate musicals, remember that", [("memory_write", {"dislike_genres": ["Musical"]}), ("recommend_for_history", {})]),
    ("a dark crime story set in the fifties", [("semantic_search", {"query": "dark crime story", "genres": ["Crime", "Film-Noir"], "year_min": 1950, "year_max": 1959})]),
    ("what did I say I liked last time?", [("memory_read", {})]),
    ("something for a family night with young kids", [("semantic_search", {"query": "family night", "genres": ["Animation", "Children's"], "year_min": None, "year_max": None})]),
    ("is Fargo in your catalog?", [("catalog_lookup", {"title": "Fargo"})]),
    ("surprise me based on what I watched", [("recommend_for_history", {}), ("rerank", {})]),
    ("war films like Glory, but newer", [("similar_items", {"title": "Glory", "k": 10}), ("semantic_search", {"query": "war film", "genres": ["War"], "year_min": 1990, "year_max": None})]),
]
TAILS = [
    "a scary film from the seventies, like The Exorcist",
    "an upbeat musical I can sing along to, nothing too long",
    "a western with a lonely hero, older than 1970",
    "sci-fi about time travel that is also funny",
]


def prefix() -> str:
    lines = ["You plan tool calls for a movie recommender. Answer with one JSON plan.", "Tools:"]
    lines += [f"- {name}: {what}" for name, what in TOOLS.items()]
    lines += [f"Genres: {', '.join(GENRES)}.", ""]
    for text, steps in EXAMPLES:
        plan = {"steps": [{"tool": t, "args": a} for t, a in steps] + [{"tool": "answer", "args": {}}]}
        lines += ["Conversation: (new)", f"Request: {text}", f"Plan: {json.dumps(plan)}", ""]
    return "\n".join(lines)


def dynamic(i: int) -> str:
    # ~100 tokens that change every turn: the recent conversation and the request
    history = ("Earlier the person liked Alien, Aliens and The Thing, disliked Titanic, and asked for "
               "nothing before 1960. The last answer showed Predator, The Fly, Videodrome and Halloween. ")
    return f"Conversation: turn {i + 2}. {history}\nRequest: {TAILS[i % len(TAILS)]}\nPlan:"


def schema() -> dict:
    year = {"anyOf": [{"type": "integer", "minimum": 1900, "maximum": 2030}, {"type": "null"}]}
    args = {
        "semantic_search": {"required": ["query"], "properties": {
            "query": {"type": "string", "maxLength": 120},
            "genres": {"type": "array", "maxItems": 3, "items": {"enum": GENRES}},
            "year_min": year, "year_max": year}},
        "similar_items": {"required": ["title"], "properties": {
            "title": {"type": "string", "maxLength": 120}, "k": {"type": "integer", "minimum": 1, "maximum": 50}}},
        "catalog_lookup": {"required": ["title"], "properties": {"title": {"type": "string", "maxLength": 120}}},
        "memory_write": {"properties": {"like_genres": {"type": "array", "maxItems": 3, "items": {"enum": GENRES}},
                                        "dislike_genres": {"type": "array", "maxItems": 3, "items": {"enum": GENRES}}}},
    }
    steps = []
    for name in TOOLS:
        a = args.get(name, {"properties": {}})
        steps.append({"type": "object", "additionalProperties": False, "required": ["tool", "args"],
                      "properties": {"tool": {"const": name},
                                     "args": {"type": "object", "additionalProperties": False, **a}}})
    return {"type": "object", "additionalProperties": False, "required": ["steps"],
            "properties": {"steps": {"type": "array", "minItems": 1, "maxItems": 4, "items": {"anyOf": steps}}}}


def free_port() -> int:
    from ui.cluster import free_port as port

    return port()


def bench_engine(engine: str, requests: int, log_dir: Path) -> dict:
    from tools.llm.serve import RuntimeMissing, started

    start = time.perf_counter()
    try:
        with started(engine, free_port(), log_dir / f"serve-{engine}.log") as base:
            return _requests(base, requests, time.perf_counter() - start)
    except RuntimeMissing as e:
        return {"error": str(e)[-500:]}


def _requests(base: str, requests: int, ready: float) -> dict:
    rows = []
    for i in range(requests):
        body = {"model": "gemma-3-270m", "prompt": prefix() + "\n" + dynamic(i), "max_tokens": 96,
                "temperature": 0, "stop": ["\n\n"], "json_schema": schema()}
        t = time.perf_counter()
        r = httpx.post(f"{base}/completions", json=body, timeout=300)
        seconds = time.perf_counter() - t
        r.raise_for_status()
        out = r.json()
        text = out["choices"][0]["text"]
        try:
            json.loads(text)
            valid = True
        except ValueError:
            valid = False
        timings = out.get("timings", {})
        rows.append({"seconds": round(seconds, 2), "prompt_tokens": out["usage"]["prompt_tokens"],
                     "prefilled_tokens": timings.get("prompt_n"),
                     "prefill_tokens_per_s": round(timings.get("prompt_per_second", 0), 1),
                     "completion_tokens": out["usage"]["completion_tokens"],
                     "decode_tokens_per_s": round(timings.get("predicted_per_second", 0), 1),
                     "valid_json": valid, "text": text})
    warm = rows[1:] or rows
    return {"ready_seconds": round(ready, 1), "cold_request": rows[0],
            "warm_seconds_mean": round(statistics.mean(r["seconds"] for r in warm), 2),
            "warm_decode_tokens_per_s_mean": round(statistics.mean(r["decode_tokens_per_s"] for r in warm), 1),
            "requests": rows}


def main() -> None:
    from tools.config import Config
    from tools.llm.install import llama_server_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="", help="comma-separated; default: every one available")
    parser.add_argument("--requests", type=int, default=4)
    parser.add_argument("--json", dest="json_path", type=Path)
    args = parser.parse_args()
    engines = args.engines.split(",") if args.engines else (
        ["transformers"] + (["llama"] if llama_server_path(Config().home).exists() else []))
    logs = Path(args.json_path.parent if args.json_path else "/tmp")
    result = {"machine": machine(), "engines": {e: bench_engine(e, args.requests, logs) for e in engines}}
    emit(result, args.json_path)


if __name__ == "__main__":
    main()
