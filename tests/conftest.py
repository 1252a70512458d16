"""Shared fixtures: real MovieLens-100K (fetched once into CONVREC_HOME) and a small real build."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import pytest  # noqa: E402

from tools.config import Config  # noqa: E402
from tools.data import load_dataset  # noqa: E402
from tools.split import leave_last_out  # noqa: E402

SMALL_USERS = 150


@pytest.fixture(scope="session")
def home():
    return Config().home


@pytest.fixture(scope="session")
def ml100k(home):
    return load_dataset("ml-100k", home)


@pytest.fixture(scope="session")
def small_dataset(home):
    return load_dataset(f"ml-100k:{SMALL_USERS}", home)


@pytest.fixture(scope="session")
def small_split(small_dataset):
    return leave_last_out(small_dataset)


@pytest.fixture(scope="session")
def small_config(home, tmp_path_factory):
    root = tmp_path_factory.mktemp("build")
    return Config(home=home, dataset=f"ml-100k:{SMALL_USERS}", artifacts=root / "artifacts",
                  memory_dir=root / "state", cf_epochs_scale=0.1)


@pytest.fixture(scope="session")
def small_artifacts(small_config):
    """A real build of the first 150 ml-100k users (every model, short training)."""
    from tools.artifacts import Artifacts, build

    build(small_config, progress=False)
    return Artifacts.load(small_config.artifacts_dir, small_config)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` server on 127.0.0.1 (a free port); yields its URL, stops it after."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    from memory import MemoryUnavailable, PreferenceMemory

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "chroma.log", "wb")  # closed in finally
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(tmp_path / "server"),
         "--port", str(port), "--host", "127.0.0.1"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                PreferenceMemory.from_config(Config(home=tmp_path, chroma_url=url))
                break
            except MemoryUnavailable:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
