"""Starts a real PostgreSQL server for the tests (the binaries of the `pgserver` wheel), on loopback TCP.

initdb refuses to run as root, so under root the cluster belongs to a system user made for it
(`openrek-pg`) in a directory outside pytest's root-only temporary tree. Each test server gets a database
of its own, named after its data directory, so a restarted server finds its data again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

PG_USER = "openrek-pg"  # the system user owning the cluster when the tests run as root


def _bin_dir() -> Path:
    """The binaries the `pgserver` wheel ships (found without importing it: only they are used)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("PostgreSQL for the tests comes from the pgserver wheel: run `make setup`.")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ensure_user() -> None:
    import pwd

    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        made = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
                              capture_output=True)
        if made.returncode != 0:
            pwd.getpwnam(PG_USER)  # another test process made it first; anything else is an error here


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory, listening on 127.0.0.1:<port>."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="openrek-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self._user = PG_USER if self.as_root else None
        self._bin = _bin_dir()

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([str(self._bin / args[0]), *args[1:]], check=check, capture_output=True,
                              user=self._user, timeout=120)

    def start(self) -> PostgresServer:
        if self.as_root:
            _ensure_user()
            shutil.chown(self.root, PG_USER)
        self.root.chmod(0o755)
        if not (self.data / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "--encoding=UTF8",
                      "--no-locale")
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c max_connections=400 -c fsync=off"
        result = self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"),
                           "-w", "-t", "60", "start", check=False)
        if result.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr.decode(errors='replace')}\n{log}")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def close(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of one database (psycopg 3)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def database_for(self, key: str) -> str:
        """The URL of a database named after `key` (created on first use, kept after)."""
        name = "t_" + hashlib.sha1(key.encode()).hexdigest()[:16]
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                                     connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
