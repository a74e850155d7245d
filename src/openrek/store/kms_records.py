"""KMS keys, aliases and grants in the metadata store; the rules live in `security/kms_keys.py`."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openrek.store.errors import DuplicateError
from openrek.store.schema import KmsAliasRow, KmsGrantRow, KmsKeyRow, TagRow

_KEY = KmsKeyRow.__table__
_ALIAS = KmsAliasRow.__table__
_GRANT = KmsGrantRow.__table__


class KmsRecords:
    """Mixed into `MetadataStore`: needs `engine` and `_session()`. Reads return read-only rows."""

    engine: Engine

    def _session(self) -> AbstractContextManager[Session]:  # provided by MetadataStore
        raise NotImplementedError

    # -- keys -----------------------------------------------------------------------------
    def add_kms_key(self, row: KmsKeyRow, tags: dict[str, str] | None = None) -> None:
        with self._session() as s:
            s.add(row)
            s.flush()
            for key, value in (tags or {}).items():
                s.add(TagRow(resource_arn=row.arn, key=key, value=value))

    def get_kms_key(self, key_id: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(_KEY).where(_KEY.c.key_id == key_id)).first()

    def list_kms_keys(self, account: str, region: str, after: str | None, limit: int) -> list[Any]:
        """Keys of one account and region ordered by key id, those after `after`; at most `limit`."""
        query = select(_KEY.c.key_id, _KEY.c.arn).where(_KEY.c.account == account, _KEY.c.region == region)
        if after is not None:
            query = query.where(_KEY.c.key_id > after)
        with self.engine.connect() as conn:
            return list(conn.execute(query.order_by(_KEY.c.key_id).limit(limit)))

    def transition_kms_key(self, key_id: str, allowed_from: Iterable[str], **fields: Any) -> bool:
        """Atomically sets `fields` on a key whose state is one of `allowed_from`; False if it is not."""
        with self._session() as s:
            result = s.execute(update(KmsKeyRow)
                               .where(KmsKeyRow.key_id == key_id, KmsKeyRow.state.in_(list(allowed_from)))
                               .values(**fields))
            return bool(result.rowcount)

    def kms_keys_due(self, now_ms: int) -> list[str]:
        """Ids of keys pending deletion whose deletion date has come."""
        with self.engine.connect() as conn:
            return list(conn.scalars(select(_KEY.c.key_id).where(
                _KEY.c.state == "PendingDeletion", _KEY.c.deletion_ms <= now_ms)))

    def delete_kms_key(self, key_id: str, only_if_due_at: int | None = None) -> bool:
        """Deletes a key with its aliases, grants and tags (if `only_if_due_at`: only a key due by then)."""
        with self._session() as s:
            row = s.get(KmsKeyRow, key_id, with_for_update=True)
            if row is None:
                return False
            if only_if_due_at is not None and not (
                    row.state == "PendingDeletion" and row.deletion_ms is not None
                    and row.deletion_ms <= only_if_due_at):
                return False
            s.execute(delete(KmsAliasRow).where(KmsAliasRow.target_key_id == key_id))
            s.execute(delete(KmsGrantRow).where(KmsGrantRow.key_id == key_id))
            s.execute(delete(TagRow).where(TagRow.resource_arn == row.arn))
            s.delete(row)
            return True

    # -- aliases --------------------------------------------------------------------------
    def add_kms_alias(self, row: KmsAliasRow) -> None:
        """DuplicateError(name) if the account already has this alias in the region."""
        try:
            with self._session() as s:
                s.add(row)
        except IntegrityError as exc:
            raise DuplicateError(row.name) from exc

    def get_kms_alias(self, account: str, region: str, name: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(_ALIAS).where(
                _ALIAS.c.account == account, _ALIAS.c.region == region, _ALIAS.c.name == name)).first()

    def list_kms_aliases(self, account: str, region: str, target_key_id: str | None, after: str | None,
                         limit: int) -> list[Any]:
        query = select(_ALIAS).where(_ALIAS.c.account == account, _ALIAS.c.region == region)
        if target_key_id is not None:
            query = query.where(_ALIAS.c.target_key_id == target_key_id)
        if after is not None:
            query = query.where(_ALIAS.c.name > after)
        with self.engine.connect() as conn:
            return list(conn.execute(query.order_by(_ALIAS.c.name).limit(limit)))

    def delete_kms_alias(self, account: str, region: str, name: str) -> bool:
        with self._session() as s:
            result = s.execute(delete(KmsAliasRow).where(
                KmsAliasRow.account == account, KmsAliasRow.region == region, KmsAliasRow.name == name))
            return bool(result.rowcount)

    # -- grants ---------------------------------------------------------------------------
    def add_kms_grant(self, row: KmsGrantRow) -> None:
        with self._session() as s:
            s.add(row)

    def get_kms_grant(self, grant_id: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(_GRANT).where(_GRANT.c.grant_id == grant_id)).first()

    def find_kms_grant_by_name(self, key_id: str, name: str) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(_GRANT).where(_GRANT.c.key_id == key_id, _GRANT.c.name == name)))

    def list_kms_grants(self, key_id: str, grant_id: str | None, grantee: str | None, after: str | None,
                        limit: int) -> list[Any]:
        query = select(_GRANT).where(_GRANT.c.key_id == key_id)
        if grant_id is not None:
            query = query.where(_GRANT.c.grant_id == grant_id)
        if grantee is not None:
            query = query.where(_GRANT.c.grantee_principal == grantee)
        if after is not None:
            query = query.where(_GRANT.c.grant_id > after)
        with self.engine.connect() as conn:
            return list(conn.execute(query.order_by(_GRANT.c.grant_id).limit(limit)))

    def delete_kms_grant(self, grant_id: str) -> bool:
        with self._session() as s:
            return bool(s.execute(delete(KmsGrantRow).where(KmsGrantRow.grant_id == grant_id)).rowcount)
