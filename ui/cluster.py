"""Several replicas on one machine: a PostgreSQL cluster, a Chroma server and N ``convrec serve``
processes, all children of one command (``convrec serve-cluster``, the tests, bench/load.py).

In production each piece is its own service (a managed PostgreSQL, Chroma's server or cloud, the
replicas behind a reverse proxy); only the URLs in the configuration change.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tools.procs import stop as _stop
from tools.procs import wait_http

REPO = Path(__file__).resolve().parents[1]
INSTALL_HINT = "install PostgreSQL (Debian: apt-get install -y postgresql; `make test` does it)"


class ClusterError(RuntimeError):
    """A backing service or a replica could not be started; the message says why and what to do."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server binaries on this machine (Debian's layout, then PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


class PostgresServer:
    """A PostgreSQL cluster of our own on 127.0.0.1 (``initdb`` on first start, ``pg_ctl`` after).

    PostgreSQL refuses to run as root: as root it runs as the ``postgres`` user, so the data folder
    is given to that user and every folder above it must let others through.
    """

    def __init__(self, data_dir: str | Path, port: int | None = None):
        self.data_dir = Path(data_dir).resolve()
        self.port = port or free_port()
        self.bin = postgres_bin()
        if self.bin is None:
            raise ClusterError(f"no PostgreSQL server binaries (initdb) on this machine: {INSTALL_HINT}")
        self._as_root = os.geteuid() == 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 60) -> PostgresServer:
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        options = f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", str(self.data_dir / "server.log"),
                  "-w", "-t", str(int(timeout)), "start")
        return self

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop", check=False)

    def create_database(self, name: str) -> str:
        """Create ``name`` unless it exists; returns its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _initdb(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            shutil.chown(self.data_dir, "postgres", "postgres")
            for parent in self.data_dir.parents:
                if not os.stat(parent).st_mode & 0o001:
                    raise ClusterError(
                        f"PostgreSQL runs as the postgres user, who cannot enter {parent} (mode "
                        f"{oct(os.stat(parent).st_mode & 0o777)}); put its data under a folder others "
                        "may enter, e.g. /var/lib/convrec or /tmp")
        self.data_dir.chmod(0o700)
        self._run("initdb", "-D", str(self.data_dir), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync")

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        cmd = [str(self.bin / tool), *args]
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd="/")
        if check and done.returncode != 0:
            log = self.data_dir / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise ClusterError(f"{tool} failed ({done.returncode}): {done.stderr.strip()[-2000:]}\n{tail}")


class ChromaServer:
    """``chroma run`` on 127.0.0.1 as a child process."""

    def __init__(self, path: str | Path, port: int | None = None):
        self.path = Path(path)
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> ChromaServer:
        self.path.mkdir(parents=True, exist_ok=True)
        chroma = Path(sys.executable).parent / "chroma"
        log = open(self.path.parent / f"chroma-{self.port}.log", "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            [str(chroma if chroma.exists() else "chroma"), "run", "--path", str(self.path),
             "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
        log.close()
        _wait_http(f"{self.url}/api/v2/heartbeat", self.process, timeout, "chroma run")
        return self

    def stop(self) -> None:
        _stop(self.process)

    def __enter__(self) -> ChromaServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Replica:
    """One ``convrec serve`` process on 127.0.0.1; its configuration comes from ``env``."""

    def __init__(self, port: int | None = None, env: dict[str, str] | None = None, log: Path | None = None):
        self.port = port or free_port()
        self.env = {**os.environ, **(env or {})}
        # the replica imports this checkout's code, whatever is installed
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), self.env.get("PYTHONPATH")]))
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Replica:
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        if self.log:
            out.close()
        return self

    def wait_ready(self, timeout: float = 300) -> Replica:
        _wait_http(f"{self.url}/healthz", self.process, timeout, f"convrec serve on port {self.port}",
                   self.log)
        return self

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to flush or say goodbye (a crash)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        _stop(self.process)


def _wait_http(url: str, process: subprocess.Popen, timeout: float, what: str, log: Path | None = None) -> None:
    wait_http(url, process, timeout, what, log, error=ClusterError)
