"""Child processes that serve HTTP: wait until one answers, stop it (the replicas and backing
services of ``ui.cluster``, the local LLM server of ``tools.llm.serve``)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx


def wait_http(url: str, process: subprocess.Popen, timeout: float, what: str, log: Path | None = None,
              error: type[Exception] = RuntimeError) -> None:
    """Return once ``url`` answers 200; raise ``error`` (with the log's tail) when ``process``
    exits first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            tail = log.read_text()[-3000:] if log and log.exists() else ""
            raise error(f"{what} exited with {process.returncode} while starting\n{tail}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            tail = log.read_text()[-3000:] if log and log.exists() else ""
            raise error(f"{what} did not answer {url} within {timeout:.0f}s\n{tail}".rstrip())
        time.sleep(0.3)


def stop(process: subprocess.Popen | None, timeout: float = 15) -> None:
    """Terminate, then kill after ``timeout`` seconds; nothing when it is not running."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
