"""Which backends the test servers run on: the embedded default (SQLite in the data dir), or, with
OPENREK_TEST_DATABASE=postgresql, a PostgreSQL server started once for the test run.

Test code asks here for a data dir's database URL, so a test that opens a server's stores itself reads
what that server wrote, whichever backend it runs on.
"""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path

from tests.support.postgres import PostgresServer

_lock = threading.Lock()
_postgres: list[PostgresServer] = []


def database_kind() -> str:
    kind = (os.environ.get("OPENREK_TEST_DATABASE") or "sqlite").strip().lower()
    if kind not in ("sqlite", "postgresql"):
        raise ValueError(f"OPENREK_TEST_DATABASE must be sqlite or postgresql, not {kind!r}")
    return kind


def postgres() -> PostgresServer:
    """The run's PostgreSQL server, started on first use and stopped when the run ends."""
    with _lock:
        if not _postgres:
            server = PostgresServer().start()
            atexit.register(server.close)
            _postgres.append(server)
        return _postgres[0]


def database_url(data_dir: Path) -> str:
    """The metadata database of the server whose data dir is `data_dir`."""
    data_dir = Path(data_dir)
    if database_kind() == "postgresql":
        return postgres().database_for(str(data_dir.resolve()))
    return f"sqlite:///{data_dir / 'openrek.db'}"


def server_env(data_dir: Path) -> dict[str, str]:
    """What a server process needs in its environment to use the run's backends (nothing for the default)."""
    if database_kind() == "postgresql":
        return {"OPENREK_DATABASE_URL": database_url(data_dir)}
    return {}
