"""The local LLM's engines on a planner-like request: load time, prefill and decode speed, s/request.

    python bench/llm_engines.py --json reports/bench_llm_engines.json [--engines transformers,llama]

Each engine is started as `python -m tools.llm serve --engine E` (what `convrec llm serve` runs;
ready time = process start to the first 200 from /v1/models). The request is the planner's own (``json-completion``): its few-shot prompt
with one of four session tails, its plan schema over the registry's LLM tools, its default
``max_tokens`` (256). The first request is cold; the next ones change only the tail, so an engine
that caches the prompt prefix prefills the tail only.
Token rates come from each response's llama.cpp-style ``timings``; ``valid`` is the answer
parsing and validating under the schema.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import httpx
import jsonschema

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import emit, machine  # noqa: E402

GENRES = ["Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
          "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War",
          "Western"]
TAILS = [  # (what the session holds, the request): only the tail of the prompt changes per turn
    ("nothing", "a scary film from the seventies, like The Exorcist"),
    ("genres Musical", "an upbeat one I can sing along to, nothing too long"),
    ("genres Western; years -1969", "one with a lonely hero"),
    ("liked: Back to the Future (1985)", "sci-fi about time travel that is also funny"),
]


def prompt(i: int) -> str:
    """The planner's own few-shot prompt (``agent.planner.completion_prompt``)."""
    from agent.planner import completion_prompt

    known, message = TAILS[i % len(TAILS)]
    return completion_prompt(known, message)


def schema() -> dict:
    """The planner's own plan schema over the registry's LLM tools and ml-100k's genres."""
    from agent.registry import REGISTRY

    return REGISTRY.plan_schema(REGISTRY.llm_names, GENRES, max_steps=4)


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
        body = {"model": "gemma-3-270m", "prompt": prompt(i), "max_tokens": 256,
                "temperature": 0, "stop": ["\n\n"], "json_schema": schema()}
        t = time.perf_counter()
        r = httpx.post(f"{base}/completions", json=body, timeout=300)
        seconds = time.perf_counter() - t
        r.raise_for_status()
        out = r.json()
        text = out["choices"][0]["text"]
        try:
            jsonschema.validate(json.loads(text), body["json_schema"])
            valid = True
        except (ValueError, jsonschema.ValidationError):
            valid = False
        timings = out.get("timings", {})
        rows.append({"seconds": round(seconds, 2), "prompt_tokens": out["usage"]["prompt_tokens"],
                     "prefilled_tokens": timings.get("prompt_n"),
                     "prefill_tokens_per_s": round(timings.get("prompt_per_second", 0), 1),
                     "completion_tokens": out["usage"]["completion_tokens"],
                     "decode_tokens_per_s": round(timings.get("predicted_per_second", 0), 1),
                     "valid": valid, "text": text})
    warm = rows[1:] or rows
    return {"ready_seconds": round(ready, 1), "cold_request": rows[0],
            "warm_seconds_mean": round(statistics.mean(r["seconds"] for r in warm), 2),
            "warm_decode_tokens_per_s_mean": round(statistics.mean(r["decode_tokens_per_s"] for r in warm), 1),
            "valid": f"{sum(r['valid'] for r in rows)}/{len(rows)}",
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
