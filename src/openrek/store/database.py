"""Opens the metadata database (SQLite by default, any SQLAlchemy URL by configuration) and migrates it."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_S = 30.0
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")  # what makes sqlite3 open a transaction implicitly


def _writer_queue(busy_timeout_s: float) -> type[sqlite3.Connection]:
    """A sqlite3 connection class whose write transactions, across the connections of one engine, take
    turns on a lock of this process.

    SQLite lets one writer in at a time and makes the others poll: its busy handler sleeps 1, 2, 5, 10,
    15, 20, 25 … ms between tries, so with a few threads writing at once a transaction that waited for a
    1 ms one wakes up many milliseconds late. Waiting on a lock here instead wakes the next writer as the
    previous one commits. SQLite's own locking stays in charge (other processes still get the busy
    handler); the lock only orders this process's writers, and a writer that cannot have it within the
    busy timeout goes ahead without it rather than wait forever.
    """
    turn = threading.Lock()
    holder: list[Any] = [None]  # (thread id, connection) of the write transaction holding `turn`

    class QueuedWriterConnection(sqlite3.Connection):
        def cursor(self, factory: Any = None) -> sqlite3.Cursor:
            return super().cursor(factory or QueuedWriterCursor)

        def _before(self, sql: str) -> None:
            if self.in_transaction or not sql.lstrip()[:7].upper().startswith(_WRITES):
                return
            if holder[0] is not None and holder[0][0] == threading.get_ident():
                return  # this thread writes on another connection too: SQLite decides, as without the lock
            if turn.acquire(timeout=busy_timeout_s):
                holder[0] = (threading.get_ident(), self)

        def _after(self) -> None:
            if not self.in_transaction and holder[0] is not None and holder[0][1] is self:
                holder[0] = None
                turn.release()

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self._after()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self._after()

        def close(self) -> None:
            try:
                super().close()
            finally:
                if holder[0] is not None and holder[0][1] is self:
                    holder[0] = None
                    turn.release()

    class QueuedWriterCursor(sqlite3.Cursor):
        def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
            connection: QueuedWriterConnection = self.connection  # type: ignore[assignment]
            connection._before(sql)
            try:
                return super().execute(sql, parameters)
            finally:
                connection._after()

        def executemany(self, sql: str, seq_of_parameters: Any) -> sqlite3.Cursor:
            connection: QueuedWriterConnection = self.connection  # type: ignore[assignment]
            connection._before(sql)
            try:
                return super().executemany(sql, seq_of_parameters)
            finally:
                connection._after()

    return QueuedWriterConnection


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cursor.close()


def open_engine(url: str) -> Engine:
    """Creates the engine; SQLite files get WAL, a busy timeout, foreign keys and queued writers."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S,
                                                  "factory": _writer_queue(BUSY_TIMEOUT_S)})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Brings the schema to the newest Alembic revision (a no-op when it is current)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
