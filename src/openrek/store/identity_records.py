"""Accounts and their access keys in the metadata store."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openrek.store.errors import DuplicateError
from openrek.store.schema import AccessKeyRow, AccountRow

_K = AccessKeyRow.__table__
_A = AccountRow.__table__


class IdentityRecords:
    """Mixed into `MetadataStore`: needs `engine` and `_session()`."""

    engine: Engine

    def _session(self) -> AbstractContextManager[Session]:  # provided by MetadataStore
        raise NotImplementedError

    def add_account(self, account_id: str, name: str, created_ms: int) -> None:
        try:
            with self._session() as s:
                s.add(AccountRow(id=account_id, name=name, created_ms=created_ms))
        except IntegrityError as exc:
            raise DuplicateError(name) from exc

    def get_account(self, account_id: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(_A).where(_A.c.id == account_id)).first()

    def find_account(self, name: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(_A).where(_A.c.name == name)).first()

    def put_access_key(self, row: AccessKeyRow) -> None:
        """Adds a key, or replaces the secret and status of an existing one."""
        with self._session() as s:
            s.merge(row)
        self.forget_access_key(row.access_key_id)

    def get_access_key(self, access_key_id: str) -> Any:
        """A read-only row (access_key_id, secret, account_id, user_name, status), or None.

        Asked on every signed request, so found rows are kept in memory; every change to a key in this
        process (put, status, delete) forgets it. (Several server processes sharing one database would
        need a short time-to-live instead: see the scale-out issue.)
        """
        cache: dict[str, Any] = self.__dict__.setdefault("_access_key_cache", {})
        row = cache.get(access_key_id)
        if row is None:
            with self.engine.connect() as conn:
                row = conn.execute(select(_K).where(_K.c.access_key_id == access_key_id)).first()
            if row is not None:
                cache[access_key_id] = row
        return row

    def forget_access_key(self, access_key_id: str | None = None) -> None:
        """Drops one key (or all, with None) from the in-memory cache after a change."""
        cache: dict[str, Any] = self.__dict__.setdefault("_access_key_cache", {})
        if access_key_id is None:
            cache.clear()
        else:
            cache.pop(access_key_id, None)

    def root_keys(self, account_id: str) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(_K).where(_K.c.account_id == account_id, _K.c.user_name.is_(None))))
