"""The metadata store: projects, versions, tags and jobs behind one small interface over SQLAlchemy
(datasets live in `dataset_records.py`, project policies in `policy_records.py`, identities in
`identity_records.py`, IAM users and policies in `iam_records.py`, KMS keys in `kms_records.py`).

Every method opens its own short transaction, so callers on many threads (or processes sharing
the database file) never hold a lock for long. Uniqueness is enforced by the database itself:
a duplicate name surfaces as `DuplicateError`, even under concurrent inserts.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, bindparam, delete, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from openrek.store.dataset_records import DatasetRecords
from openrek.store.errors import DuplicateError, StaleRevisionError
from openrek.store.iam_records import IamRecords
from openrek.store.identity_records import IdentityRecords
from openrek.store.kms_records import KmsRecords
from openrek.store.policy_records import PolicyRecords
from openrek.store.schema import (
    DatasetEntryRow,
    DatasetLabelRow,
    DatasetRow,
    JobRow,
    ProjectPolicyRow,
    ProjectRow,
    TagRow,
    VersionRow,
)

__all__ = ["DuplicateError", "MetadataStore", "StaleRevisionError"]


class MetadataStore(DatasetRecords, PolicyRecords, IdentityRecords, IamRecords, KmsRecords):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def is_local(self) -> bool:
        """True for a database file of this machine (SQLite): its calls take microseconds, not round trips."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    # -- projects -------------------------------------------------------------------------
    def add_project(self, row: ProjectRow) -> ProjectRow:
        try:
            with self._session() as s:
                s.add(row)
        except IntegrityError as exc:
            raise DuplicateError(row.name) from exc
        return row

    def get_project(self, arn: str) -> ProjectRow | None:
        """A read-only row (attribute access like ProjectRow), fetched without the ORM's unit of work."""
        with self.engine.connect() as conn:
            return conn.execute(_PROJECT, {"project_arn": arn}).first()  # type: ignore[return-value]

    def find_project(self, account: str, region: str, name: str) -> ProjectRow | None:
        with self._session() as s:
            return s.scalar(
                select(ProjectRow).where(
                    ProjectRow.account == account, ProjectRow.region == region, ProjectRow.name == name
                )
            )

    def list_projects(self, account: str, region: str) -> list[ProjectRow]:
        """Projects of one account and region, newest first."""
        with self._session() as s:
            rows = s.scalars(
                select(ProjectRow)
                .where(ProjectRow.account == account, ProjectRow.region == region)
                .order_by(ProjectRow.created_ms.desc(), ProjectRow.name)
            )
            return list(rows)

    def delete_project(self, arn: str) -> None:
        """Deletes a project with its datasets (entries, tags) and policies; versions must be gone."""
        with self._session() as s:
            datasets = list(s.scalars(select(DatasetRow.arn).where(DatasetRow.project_arn == arn)))
            if datasets:
                s.execute(delete(DatasetLabelRow).where(DatasetLabelRow.dataset_arn.in_(datasets)))
                s.execute(delete(DatasetEntryRow).where(DatasetEntryRow.dataset_arn.in_(datasets)))
                s.execute(delete(TagRow).where(TagRow.resource_arn.in_(datasets)))
                s.execute(delete(JobRow).where(JobRow.version_arn.in_(datasets)))
                s.execute(delete(DatasetRow).where(DatasetRow.project_arn == arn))
            s.execute(delete(ProjectPolicyRow).where(ProjectPolicyRow.project_arn == arn))
            s.execute(delete(TagRow).where(TagRow.resource_arn == arn))
            s.execute(delete(ProjectRow).where(ProjectRow.arn == arn))

    def count_versions(self, project_arn: str) -> int:
        with self._session() as s:
            return len(list(s.scalars(select(VersionRow.arn).where(VersionRow.project_arn == project_arn))))

    # -- versions -------------------------------------------------------------------------
    def add_version(self, row: VersionRow, job: JobRow | None = None, tags: dict[str, str] | None = None) -> None:
        """Inserts a version with its tags and its training (or copy) job in one transaction."""
        self.add_resource(row, row.name, job, tags)

    def add_resource(self, row: Any, name: str, job: JobRow | None, tags: dict[str, str] | None) -> None:
        """Inserts a row with its tags and first job in one transaction; DuplicateError(name) if not unique.

        Plain INSERTs of the attributes set (columns left unset get their defaults): the ORM's unit of work
        costs more CPU than the three statements themselves, on every CreateProjectVersion.
        """
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(type(row).__table__), [_set_columns(row)])
                if tags:
                    tag_rows = [{"resource_arn": row.arn, "key": k, "value": v} for k, v in tags.items()]
                    conn.execute(insert(TagRow.__table__), tag_rows)
                if job is not None:
                    conn.execute(insert(JobRow.__table__), [_set_columns(job)])
        except IntegrityError as exc:
            raise DuplicateError(name) from exc

    def get_version(self, arn: str) -> VersionRow | None:
        with self._session() as s:
            return s.get(VersionRow, arn)

    def list_versions(self, project_arn: str, names: list[str] | None = None, offset: int = 0,
                      limit: int | None = None) -> list[VersionRow]:
        """Versions of one project, newest first; optionally only `names`, and one page of them."""
        values: dict[str, Any] = {"project_arn": project_arn, "offset": offset}
        if names is not None:
            values["names"] = list(names)
        if limit is not None:
            values["limit"] = limit
        query = _VERSIONS[names is not None, limit is not None]
        with self.engine.connect() as conn:  # read-only rows with attribute access, no unit of work
            return list(conn.execute(query, values))  # type: ignore[arg-type]

    def versions_in_status(self, statuses: list[str]) -> list[VersionRow]:
        with self._session() as s:
            return list(s.scalars(select(VersionRow).where(VersionRow.status.in_(statuses))))

    def update_version(self, arn: str, *, details: dict[str, Any] | None = None, **fields: Any) -> VersionRow | None:
        """Sets columns and merges `details` keys; returns the updated row (None if it is gone)."""
        with self._session() as s:
            row = s.get(VersionRow, arn, with_for_update=True)
            if row is None:
                return None
            for key, value in fields.items():
                setattr(row, key, value)
            if details:
                merged = dict(row.details or {})
                merged.update(details)
                row.details = merged
            return row

    def transition_version(self, arn: str, allowed_from: Iterable[str], status: str, **fields: Any) -> bool:
        """Atomically moves a version to `status` if it is in one of `allowed_from`."""
        with self._session() as s:
            result = s.execute(
                update(VersionRow)
                .where(VersionRow.arn == arn, VersionRow.status.in_(list(allowed_from)))
                .values(status=status, **fields)
            )
            return bool(result.rowcount)

    def delete_version(self, arn: str) -> None:
        with self._session() as s:
            s.execute(delete(TagRow).where(TagRow.resource_arn == arn))
            s.execute(delete(JobRow).where(JobRow.version_arn == arn))
            s.execute(delete(VersionRow).where(VersionRow.arn == arn))

    # -- tags -----------------------------------------------------------------------------
    def get_tags(self, arn: str) -> dict[str, str]:
        with self._session() as s:
            return {t.key: t.value for t in s.scalars(select(TagRow).where(TagRow.resource_arn == arn))}

    def put_tags(self, arn: str, tags: dict[str, str], max_tags: int | None = None) -> bool:
        """Adds or overwrites tags; returns False (changing nothing) if the result would exceed max_tags."""
        with self._session() as s:
            current = {t.key: t for t in s.scalars(select(TagRow).where(TagRow.resource_arn == arn))}
            if max_tags is not None and len(set(current) | set(tags)) > max_tags:
                return False
            for key, value in tags.items():
                if key in current:
                    current[key].value = value
                else:
                    s.add(TagRow(resource_arn=arn, key=key, value=value))
            return True

    def remove_tags(self, arn: str, keys: Iterable[str]) -> None:
        with self._session() as s:
            s.execute(delete(TagRow).where(TagRow.resource_arn == arn, TagRow.key.in_(list(keys))))

    # -- jobs -----------------------------------------------------------------------------
    def claim_next_job(self, kinds: Iterable[str] | None = None, owner: str | None = None,
                       lease_s: float = 0.0) -> JobRow | None:
        """Marks the oldest queued job (of `kinds`, if given) RUNNING and returns it; None when there is none.

        One statement, so two claimers never get the same job; on PostgreSQL the job is picked with
        FOR UPDATE SKIP LOCKED, so claimers on other servers take the next one instead of waiting (SQLite has
        one writer at a time anyway). A read comes first: the runner asks at every wake-up, mostly finding
        nothing, and an UPDATE that matches nothing still takes SQLite's write lock. The claim records
        `owner` and a lease of `lease_s` seconds, which the owner renews while the job runs.
        """
        of_kinds = kinds is not None
        values: dict[str, Any] = {"kinds": list(kinds)} if kinds is not None else {}
        with self.engine.connect() as conn:
            if conn.execute(_OLDEST_QUEUED[of_kinds], values).first() is None:
                return None
        with self.engine.begin() as conn:
            now = time.time()
            row = conn.execute(_CLAIM[of_kinds], {**values, "now": now, "owner": owner,
                                                  "lease_until": now + lease_s}).first()
        if row is None:
            return None
        return JobRow(id=row.id, version_arn=row.version_arn, payload=row.payload, attempts=row.attempts,
                      state="RUNNING", kind=row.kind, owner=owner, lease_until=now + lease_s)

    def renew_leases(self, owner: str, lease_s: float) -> int:
        """Extends the leases of every job `owner` runs; returns how many it holds."""
        with self.engine.begin() as conn:
            result = conn.execute(update(JobRow.__table__)
                                  .where(_jobs.owner == owner, _jobs.state == "RUNNING")
                                  .values(lease_until=time.time() + lease_s))
            return int(result.rowcount or 0)

    def release_job(self, job: JobRow, to_state: str, message: str | None = None) -> bool:
        """Ends (DONE) or requeues (QUEUED) a running job only if it is still `job.owner`'s: of two servers
        recovering the same orphaned job, one does. False if it was not (any more)."""
        owned = _jobs.owner.is_(None) if job.owner is None else _jobs.owner == job.owner
        with self.engine.begin() as conn:
            result = conn.execute(update(JobRow.__table__)
                                  .where(_jobs.id == job.id, _jobs.state == "RUNNING", owned)
                                  .values(state=to_state, updated=time.time(), message=message, owner=None,
                                          lease_until=None))
            return bool(result.rowcount)

    def complete_job(self, job_id: int, version_arn: str, status: str, status_message: str,
                     details: dict[str, Any], owner: str | None = None) -> bool:
        """Records a finished job's outcome on its version and closes the job, in one transaction (the job's
        UPDATE first: it takes the write lock, so the details merged below are the current ones).

        With `owner`, only while the job is still RUNNING under that owner: a runner whose lease ran out
        while another took the job over records nothing (False), so a version never gets two outcomes."""
        with self.engine.begin() as conn:
            values = {"job_id": job_id, "to_state": "DONE", "now": time.time(), "note": status}
            if owner is None:
                conn.execute(_END_JOB, values)
            elif not conn.execute(_END_OWNED_JOB, {**values, "held_by": owner}).rowcount:
                return False
            current = conn.execute(_VERSION_DETAILS, {"version_arn": version_arn}).first()
            if current is not None:
                merged = dict(current.details or {})
                merged.update(details)
                conn.execute(_VERSION_OUTCOME, {"version_arn": version_arn, "to_status": status,
                                                "message": status_message, "merged": merged})
        return True

    def finish_job(self, job_id: int, message: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(_END_JOB, {"job_id": job_id, "to_state": "DONE", "now": time.time(),
                                    "note": message})

    def requeue_job(self, job_id: int, message: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(_END_JOB, {"job_id": job_id, "to_state": "QUEUED", "now": time.time(),
                                    "note": message})

    def jobs_in_state(self, state: str) -> list[JobRow]:
        with self._session() as s:
            return list(s.scalars(select(JobRow).where(JobRow.state == state).order_by(JobRow.id)))


def _set_columns(row: Any) -> dict[str, Any]:
    """The column values given to a new (transient) ORM row, by column key."""
    state = inspect(row)
    return {attr.key: state.dict[attr.key] for attr in state.mapper.column_attrs if attr.key in state.dict}


# Statements of the busiest calls (each control-plane request, each job and job-runner wake-up), built
# once: building and keying a statement costs more CPU than SQLite takes to run it.
_jobs = JobRow.__table__.c
_versions = VersionRow.__table__.c
_PROJECT = select(ProjectRow.__table__).where(ProjectRow.__table__.c.arn == bindparam("project_arn"))


def _versions_query(of_names: bool, paged: bool) -> Any:
    query = select(VersionRow.__table__).where(_versions.project_arn == bindparam("project_arn"))
    if of_names:
        query = query.where(_versions.name.in_(bindparam("names", expanding=True)))
    query = query.order_by(_versions.created_ms.desc(), _versions.name.desc()).offset(bindparam("offset"))
    return query.limit(bindparam("limit")) if paged else query


_VERSIONS = {(of_names, paged): _versions_query(of_names, paged) for of_names in (False, True)
             for paged in (False, True)}


def _oldest_queued(of_kinds: bool, lock: bool = False) -> Any:
    query = select(_jobs.id).where(_jobs.state == "QUEUED")
    if of_kinds:
        query = query.where(_jobs.kind.in_(bindparam("kinds", expanding=True)))
    query = query.order_by(_jobs.id).limit(1)
    return query.with_for_update(skip_locked=True) if lock else query  # SQLite renders no FOR UPDATE


_OLDEST_QUEUED = {of_kinds: _oldest_queued(of_kinds) for of_kinds in (False, True)}
_CLAIM = {
    of_kinds: update(JobRow.__table__)
    .where(_jobs.id == _oldest_queued(of_kinds, lock=True).scalar_subquery(), _jobs.state == "QUEUED")
    .values(state="RUNNING", attempts=_jobs.attempts + 1, updated=bindparam("now"), owner=bindparam("owner"),
            lease_until=bindparam("lease_until"))
    .returning(_jobs.id, _jobs.version_arn, _jobs.payload, _jobs.attempts, _jobs.kind)
    for of_kinds in (False, True)
}
_END_JOB = (update(JobRow.__table__).where(_jobs.id == bindparam("job_id"))
            .values(state=bindparam("to_state"), updated=bindparam("now"), message=bindparam("note"), owner=None,
                    lease_until=None))
_END_OWNED_JOB = _END_JOB.where(_jobs.owner == bindparam("held_by"), _jobs.state == "RUNNING")
_VERSION_DETAILS = (select(_versions.details).where(_versions.arn == bindparam("version_arn"))
                    .with_for_update())
_VERSION_OUTCOME = (update(VersionRow.__table__).where(_versions.arn == bindparam("version_arn"))
                    .values(status=bindparam("to_status"), status_message=bindparam("message"),
                            details=bindparam("merged")))
