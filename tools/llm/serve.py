"""The Gemma GGUF behind an OpenAI-compatible server on 127.0.0.1 (``python -m tools.llm serve``,
which ``convrec llm serve`` also runs).

Two engines, one interface. ``llama`` runs llama.cpp's ``llama-server`` (a real serving engine,
built by ``make llm``); ``transformers`` runs the model in this process on torch (the fallback on
a fresh machine, where building llama.cpp takes longer than CI should). ``auto`` takes llama when
the cached binary exists.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tools.llm.install import MODEL_ID, gguf_path, llama_server_path
from tools.procs import stop, wait_http

log = logging.getLogger(__name__)
CONTEXT = 4096  # the planner's few-shot prompt (~1k tokens) and answer fit with room


def default_threads() -> int:
    """Half the cores. llama.cpp's threads meet at a barrier after every op, so one thread that
    loses its core stalls the rest: on 2 shared cores (load 4) -t 2 decoded 2-4 tokens/s, -t 1
    17-21 (bench/llm_engines.py, 2026-11-25). The transformers engine is no faster with 2 there."""
    return max(1, (os.cpu_count() or 1) // 2)


class RuntimeMissing(RuntimeError):
    pass


def pick_engine(engine: str, home: Path) -> str:
    if engine not in ("auto", "llama", "transformers"):
        raise ValueError(f"unknown engine {engine!r}: auto, llama or transformers")
    if engine == "auto":
        return "llama" if llama_server_path(home).exists() else "transformers"
    if engine == "llama" and not llama_server_path(home).exists():
        raise RuntimeMissing(f"no llama-server at {llama_server_path(home)}: run `make llm`")
    return engine


def _cpu_has_amx() -> bool:
    try:
        return "amx_tile" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def llama_command(home: Path, port: int, threads: int) -> list[str]:
    command = [str(llama_server_path(home)), "-m", str(gguf_path()), "--host", "127.0.0.1", "--port", str(port),
               "--alias", MODEL_ID, "-c", str(CONTEXT), "-np", "1", "-t", str(threads),
               # the base GGUF carries no chat template (llama.cpp would fall back to ChatML):
               # Gemma's own turn format, as the transformers engine uses
               "--chat-template", "gemma"]
    if _cpu_has_amx():
        # built with GGML_NATIVE=ON on an AMX CPU, llama-server repacks weights for AMX and
        # segfaults in ggml_backend_amx_mul_mat on its first run (seen on this VM, build 11434)
        command.append("--no-repack")
    return command


def serve(engine: str, port: int, home: Path, threads: int | None = None) -> None:
    """Run in the foreground until Ctrl-C or SIGTERM."""
    threads = threads or default_threads()
    chosen = pick_engine(engine, home)
    if chosen == "llama":
        command = llama_command(home, port, threads)
        log.info("exec %s", " ".join(command))
        # exec: llama-server takes this process's place, so a signal to it stops the server itself
        os.execv(command[0], command)
    # OpenMP threads that spin while waiting starve each other on a busy machine (a decode step
    # went from 0.15 s to 0.4 s with 2 spinning threads on 2 loaded cores); set before torch loads
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import uvicorn

    from tools.llm.hf_engine import GemmaEngine
    from tools.llm.server import build_app

    try:
        model = GemmaEngine(home, threads)
    except ImportError as e:
        raise RuntimeMissing(f"the transformers engine needs the `llm` extra ({e}): run `make llm`") from e
    log.info("transformers engine: %s loaded in %.1f s; serving on http://127.0.0.1:%d/v1",
             MODEL_ID, model.load_seconds, port)
    uvicorn.run(build_app(model), host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextmanager
def started(engine: str, port: int, log_path: Path, timeout: float = 900.0) -> Iterator[str]:
    """``python -m tools.llm serve`` in a child process until the block ends; yields its base URL once
    ``/v1/models`` answers. Raises ``RuntimeMissing`` (with the log's tail) when it exits or is not
    ready within ``timeout`` seconds (the first transformers conversion takes minutes)."""
    root = Path(__file__).resolve().parents[2]
    base = f"http://127.0.0.1:{port}/v1"
    with log_path.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "tools.llm", "serve", "--engine", engine,
                                    "--port", str(port)], cwd=root, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_http(f"{base}/models", process, timeout, "the local LLM server (run `make llm` if it is missing)",
                  log_path, error=RuntimeMissing)
        yield base
    finally:
        stop(process)
