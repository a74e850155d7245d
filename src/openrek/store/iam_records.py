"""IAM users, their inline policies, customer managed policies and attachments in the metadata store.

Every row is scoped by account id; a user's access keys are `access_keys` rows (identity_records.py).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openrek.store.errors import DuplicateError
from openrek.store.schema import (
    AccessKeyRow,
    IamAttachmentRow,
    IamManagedPolicyRow,
    IamUserPolicyRow,
    IamUserRow,
)

_U = IamUserRow.__table__
_IP = IamUserPolicyRow.__table__
_MP = IamManagedPolicyRow.__table__
_AT = IamAttachmentRow.__table__
_K = AccessKeyRow.__table__


class IamRecords:
    """Mixed into `MetadataStore`: needs `engine` and `_session()`."""

    engine: Engine

    def _session(self) -> AbstractContextManager[Session]:  # provided by MetadataStore
        raise NotImplementedError

    def _rows(self, query: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    # -- users ----------------------------------------------------------------------------------------------
    def add_iam_user(self, row: IamUserRow) -> None:
        """Raises DuplicateError when the account already has a user of that name."""
        try:
            with self._session() as s:
                s.add(row)
        except IntegrityError as exc:
            raise DuplicateError(row.name) from exc

    def get_iam_user(self, account_id: str, name: str) -> Any:
        found = self._rows(select(_U).where(_U.c.account_id == account_id, _U.c.name == name))
        return found[0] if found else None

    def list_iam_users(self, account_id: str, path_prefix: str = "/") -> list[Any]:
        return self._rows(select(_U).where(_U.c.account_id == account_id, _U.c.path.startswith(path_prefix))
                          .order_by(_U.c.name))

    def delete_iam_user(self, account_id: str, name: str) -> None:
        with self._session() as s:
            s.execute(delete(IamUserRow).where(IamUserRow.account_id == account_id, IamUserRow.name == name))

    # -- access keys of users -------------------------------------------------------------------------------
    def access_keys_of(self, account_id: str, user_name: str | None) -> list[Any]:
        """The keys of a user (None: of the account root), oldest first."""
        who = _K.c.user_name.is_(None) if user_name is None else _K.c.user_name == user_name
        return self._rows(select(_K).where(_K.c.account_id == account_id, who)
                          .order_by(_K.c.created_ms, _K.c.access_key_id))

    def set_access_key_status(self, access_key_id: str, status: str) -> None:
        with self._session() as s:
            s.execute(update(AccessKeyRow).where(AccessKeyRow.access_key_id == access_key_id).values(status=status))
        self.forget_access_key(access_key_id)

    def delete_access_key(self, access_key_id: str) -> None:
        with self._session() as s:
            s.execute(delete(AccessKeyRow).where(AccessKeyRow.access_key_id == access_key_id))
        self.forget_access_key(access_key_id)

    def forget_access_key(self, access_key_id: str | None = None) -> None:
        raise NotImplementedError  # provided by IdentityRecords

    # -- inline policies ------------------------------------------------------------------------------------
    def put_user_policy(self, account_id: str, user_name: str, policy_name: str, document: str) -> None:
        """Adds or replaces an inline policy."""
        with self._session() as s:
            s.merge(IamUserPolicyRow(account_id=account_id, user_name=user_name, policy_name=policy_name,
                                     document=document))

    def get_user_policy(self, account_id: str, user_name: str, policy_name: str) -> Any:
        found = self._rows(select(_IP).where(_IP.c.account_id == account_id, _IP.c.user_name == user_name,
                                             _IP.c.policy_name == policy_name))
        return found[0] if found else None

    def list_user_policies(self, account_id: str, user_name: str) -> list[Any]:
        return self._rows(select(_IP).where(_IP.c.account_id == account_id, _IP.c.user_name == user_name)
                          .order_by(_IP.c.policy_name))

    def delete_user_policy(self, account_id: str, user_name: str, policy_name: str) -> bool:
        with self._session() as s:
            done = s.execute(delete(IamUserPolicyRow).where(
                IamUserPolicyRow.account_id == account_id, IamUserPolicyRow.user_name == user_name,
                IamUserPolicyRow.policy_name == policy_name))
            return bool(done.rowcount)  # type: ignore[attr-defined]

    # -- managed policies -----------------------------------------------------------------------------------
    def add_managed_policy(self, row: IamManagedPolicyRow) -> None:
        """Raises DuplicateError when the account already has a policy of that name (its ARN)."""
        try:
            with self._session() as s:
                if s.scalar(select(func.count()).where(_MP.c.account_id == row.account_id,
                                                       _MP.c.name == row.name)):
                    raise DuplicateError(row.name)
                s.add(row)
        except IntegrityError as exc:
            raise DuplicateError(row.name) from exc

    def get_managed_policy(self, arn: str) -> Any:
        found = self._rows(select(_MP).where(_MP.c.arn == arn))
        return found[0] if found else None

    def list_managed_policies(self, account_id: str, path_prefix: str = "/") -> list[Any]:
        return self._rows(select(_MP).where(_MP.c.account_id == account_id, _MP.c.path.startswith(path_prefix))
                          .order_by(_MP.c.name))

    def delete_managed_policy(self, arn: str) -> None:
        with self._session() as s:
            s.execute(delete(IamManagedPolicyRow).where(IamManagedPolicyRow.arn == arn))

    def attachment_counts(self, account_id: str) -> dict[str, int]:
        """How many users each managed policy of the account is attached to, by ARN."""
        rows = self._rows(select(_AT.c.policy_arn, func.count()).where(_AT.c.account_id == account_id)
                          .group_by(_AT.c.policy_arn))
        return {arn: count for arn, count in rows}

    # -- attachments ----------------------------------------------------------------------------------------
    def attach_user_policy(self, account_id: str, user_name: str, policy_arn: str) -> None:
        """Attaches (again: nothing changes)."""
        with self._session() as s:
            s.merge(IamAttachmentRow(account_id=account_id, user_name=user_name, policy_arn=policy_arn))

    def detach_user_policy(self, account_id: str, user_name: str, policy_arn: str) -> bool:
        with self._session() as s:
            done = s.execute(delete(IamAttachmentRow).where(
                IamAttachmentRow.account_id == account_id, IamAttachmentRow.user_name == user_name,
                IamAttachmentRow.policy_arn == policy_arn))
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def attached_policies_of(self, account_id: str, user_name: str) -> list[Any]:
        """The managed policies attached to a user (full rows), by name."""
        query = (select(_MP).join(_AT, _AT.c.policy_arn == _MP.c.arn)
                 .where(_AT.c.account_id == account_id, _AT.c.user_name == user_name).order_by(_MP.c.name))
        return self._rows(query)

    def identity_policies_of(self, account_id: str, user_name: str) -> list[tuple[str, str]]:
        """(name, document) of every identity-based policy of a user: its inline policies, then the managed
        policies attached to it (named by ARN) — what policy evaluation needs for that principal."""
        inline = [(r.policy_name, r.document) for r in self.list_user_policies(account_id, user_name)]
        return inline + [(r.arn, r.document) for r in self.attached_policies_of(account_id, user_name)]
