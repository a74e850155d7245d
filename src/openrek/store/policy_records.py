"""Project policies in the metadata store, written with optimistic concurrency on their revision id."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from openrek.store.errors import DuplicateError, StaleRevisionError
from openrek.store.schema import ProjectPolicyRow

_P = ProjectPolicyRow.__table__


class PolicyRecords:
    """Mixed into `MetadataStore`: needs `engine` and `_session()`."""

    engine: Engine

    def _session(self) -> AbstractContextManager[Session]:  # provided by MetadataStore
        raise NotImplementedError

    def list_policies(self, project_arn: str) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(_P).where(_P.c.project_arn == project_arn).order_by(_P.c.name)))

    def put_policy(self, project_arn: str, name: str, expected_revision: str | None, new_revision: str,
                   document: str, now_ms: int, max_policies: int) -> None:
        """Creates (expected_revision None) or replaces a policy whose revision is `expected_revision`.

        Raises DuplicateError (exists, no revision given), StaleRevisionError (revision differs, or
        names a policy that does not exist) and OverflowError (the project already has `max_policies`).
        """
        with self._session() as s:
            row = s.get(ProjectPolicyRow, (project_arn, name), with_for_update=True)
            if row is None:
                if expected_revision:
                    raise StaleRevisionError(name)
                count = s.scalar(select(func.count()).where(_P.c.project_arn == project_arn)) or 0
                if count >= max_policies:
                    raise OverflowError(count)
                s.add(ProjectPolicyRow(project_arn=project_arn, name=name, revision_id=new_revision,
                                       document=document, created_ms=now_ms, updated_ms=now_ms))
                return
            if not expected_revision:
                raise DuplicateError(name)
            if row.revision_id != expected_revision:
                raise StaleRevisionError(name)
            row.revision_id = new_revision
            row.document = document
            row.updated_ms = now_ms

    def delete_policy(self, project_arn: str, name: str, expected_revision: str | None) -> bool:
        """Deletes a policy (if `expected_revision` matches when given); False if there is none."""
        with self._session() as s:
            row = s.get(ProjectPolicyRow, (project_arn, name), with_for_update=True)
            if row is None:
                return False
            if expected_revision and row.revision_id != expected_revision:
                raise StaleRevisionError(name)
            s.delete(row)
            return True

    def delete_policies(self, project_arn: str) -> None:
        with self._session() as s:
            s.execute(delete(ProjectPolicyRow).where(ProjectPolicyRow.project_arn == project_arn))
