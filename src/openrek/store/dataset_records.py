"""Datasets and their entries in the metadata store: rows, filtered listings, label statistics.

A change to a dataset's entries (create, update, distribute, copy) is written in one transaction
together with the dataset's new status, so a failed or interrupted change leaves the previous entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Integer, and_, bindparam, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from openrek.store.schema import DatasetEntryRow, DatasetLabelRow, DatasetRow, JobRow, TagRow

_E = DatasetEntryRow.__table__
_L = DatasetLabelRow.__table__
_D = DatasetRow.__table__
# Built once: CreateProjectVersion asks on every call (building and keying it costs more than running it).
_DATASETS_OF = (select(_D).where(_D.c.project_arn.in_(bindparam("project_arns", expanding=True)))
                .order_by(_D.c.project_arn, _D.c.dataset_type.desc()))


class _NotAll(Exception):
    """Rolls back a transition that could not move every dataset."""


@dataclass
class EntryData:
    """One entry to write: its JSON Line, how it is listed, and its labels with box counts."""

    source_ref: str
    line: str
    listed: str
    labeled: bool
    has_errors: bool
    labels: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class EntryFilter:
    """ListDatasetEntries' filters; None means "don't filter"."""

    contains_labels: Sequence[str] | None = None
    labeled: bool | None = None
    source_ref_contains: str | None = None
    has_errors: bool | None = None


class DatasetRecords:
    """Mixed into `MetadataStore`: needs `engine` and `_session()`."""

    engine: Engine

    def _session(self) -> AbstractContextManager[Session]:  # provided by MetadataStore
        raise NotImplementedError

    # -- datasets ---------------------------------------------------------------------------
    def add_dataset(self, row: DatasetRow, job: JobRow | None = None, tags: dict[str, str] | None = None) -> None:
        """Inserts a dataset (with its tags and first job); DuplicateError if the project has that type."""
        self.add_resource(row, row.dataset_type, job, tags)

    def add_resource(self, row: Any, name: str, job: JobRow | None, tags: dict[str, str] | None) -> None:
        raise NotImplementedError  # provided by MetadataStore

    def get_dataset(self, arn: str) -> Any:
        """A read-only row with DatasetRow's attributes, or None."""
        with self.engine.connect() as conn:
            return conn.execute(select(_D).where(_D.c.arn == arn)).first()

    def list_datasets(self, project_arns: Sequence[str]) -> list[Any]:
        """The datasets of these projects (TRAIN before TEST within a project)."""
        if not project_arns:
            return []
        with self.engine.connect() as conn:
            return list(conn.execute(_DATASETS_OF, {"project_arns": list(project_arns)}))

    def transition_dataset(self, arn: str, allowed_from: Sequence[str], status: str, job: JobRow | None = None,
                           **fields: Any) -> bool:
        """Atomically moves a dataset to `status` if it is in `allowed_from`; queues `job` with it."""
        with self._session() as s:
            result = s.execute(update(DatasetRow).where(DatasetRow.arn == arn,
                                                         DatasetRow.status.in_(list(allowed_from)))
                               .values(status=status, **fields))
            if not result.rowcount:
                return False
            if job is not None:
                s.add(job)
            return True

    def transition_datasets(self, arns: Sequence[str], allowed_from: Sequence[str], status: str,
                            job: JobRow | None = None, **fields: Any) -> bool:
        """Moves all of `arns` to `status` together, or none of them (one transaction)."""
        try:
            with self._session() as s:
                result = s.execute(update(DatasetRow).where(DatasetRow.arn.in_(list(arns)),
                                                             DatasetRow.status.in_(list(allowed_from)))
                                   .values(status=status, **fields))
                if result.rowcount != len(set(arns)):
                    raise _NotAll
                if job is not None:
                    s.add(job)
        except _NotAll:
            return False
        return True

    def set_dataset_status(self, arns: Sequence[str], **fields: Any) -> None:
        with self._session() as s:
            s.execute(update(DatasetRow).where(DatasetRow.arn.in_(list(arns))).values(**fields))

    def delete_dataset(self, arn: str) -> None:
        with self._session() as s:
            s.execute(delete(DatasetLabelRow).where(DatasetLabelRow.dataset_arn == arn))
            s.execute(delete(DatasetEntryRow).where(DatasetEntryRow.dataset_arn == arn))
            s.execute(delete(TagRow).where(TagRow.resource_arn == arn))
            s.execute(delete(JobRow).where(JobRow.version_arn == arn, JobRow.state == "QUEUED"))
            s.execute(delete(DatasetRow).where(DatasetRow.arn == arn))

    # -- entries: reading -------------------------------------------------------------------
    def dataset_stats(self, arn: str) -> dict[str, int]:
        """DatasetStats: TotalEntries, LabeledEntries, ErrorEntries, TotalLabels."""
        with self.engine.connect() as conn:
            total, labeled, errors = conn.execute(
                select(func.count(), func.coalesce(func.sum(_E.c.labeled.cast(Integer())), 0),
                       func.coalesce(func.sum(_E.c.has_errors.cast(Integer())), 0))
                .where(_E.c.dataset_arn == arn)).one()
            labels = conn.execute(select(func.count(func.distinct(_L.c.label))).where(_L.c.dataset_arn == arn)).scalar()
        return {"LabeledEntries": int(labeled), "TotalEntries": int(total), "TotalLabels": int(labels or 0),
                "ErrorEntries": int(errors)}

    def count_entries(self, arn: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).where(_E.c.dataset_arn == arn)).scalar() or 0)

    def list_entries(self, arn: str, filters: EntryFilter, after_id: int, limit: int) -> list[tuple[int, str]]:
        """(id, listed JSON Line) of the entries after `after_id` that pass `filters`, in insertion order."""
        query = select(_E.c.id, _E.c.listed).where(_E.c.dataset_arn == arn, _E.c.id > after_id)
        if filters.labeled is not None:
            query = query.where(_E.c.labeled == filters.labeled)
        if filters.has_errors is not None:
            query = query.where(_E.c.has_errors == filters.has_errors)
        if filters.source_ref_contains:
            escaped = filters.source_ref_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(_E.c.source_ref.like(f"%{escaped}%", escape="\\"))
            if self.engine.dialect.name == "sqlite":  # SQLite's LIKE ignores ASCII case; S3 keys do not
                query = query.where(func.instr(_E.c.source_ref, filters.source_ref_contains) > 0)
        if filters.contains_labels:
            labelled = select(_L.c.source_ref).where(_L.c.dataset_arn == arn,
                                                     _L.c.label.in_(list(filters.contains_labels)))
            query = query.where(_E.c.source_ref.in_(labelled))
        query = query.order_by(_E.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [(r.id, r.listed) for r in conn.execute(query)]

    def list_labels(self, arn: str, offset: int, limit: int) -> list[tuple[str, int, int]]:
        """(label, entries with it, its bounding boxes), sorted by label."""
        query = (select(_L.c.label, func.count(), func.coalesce(func.sum(_L.c.boxes), 0))
                 .where(_L.c.dataset_arn == arn).group_by(_L.c.label).order_by(_L.c.label)
                 .offset(offset).limit(limit))
        with self.engine.connect() as conn:
            return [(r[0], int(r[1]), int(r[2])) for r in conn.execute(query)]

    def entry_lines(self, arn: str) -> list[tuple[str, str, list[str], bool]]:
        """Every entry as (source_ref, JSON Line, labels, has_errors), in insertion order."""
        with self.engine.connect() as conn:
            labels: dict[str, list[str]] = {}
            for ref, label in conn.execute(select(_L.c.source_ref, _L.c.label).where(_L.c.dataset_arn == arn)):
                labels.setdefault(ref, []).append(label)
            rows = conn.execute(select(_E.c.source_ref, _E.c.line, _E.c.has_errors)
                                .where(_E.c.dataset_arn == arn).order_by(_E.c.id))
            return [(r.source_ref, r.line, sorted(labels.get(r.source_ref, [])), bool(r.has_errors)) for r in rows]

    # -- entries: writing (each with the dataset's new status, in one transaction) -----------
    def write_entries(self, arn: str, entries: Sequence[EntryData], *, replace_all: bool,
                      dataset_fields: dict[str, Any]) -> None:
        """Adds `entries` (an existing source-ref is updated in place), or replaces every entry."""
        with self._session() as s:
            if not s.execute(update(_D).where(_D.c.arn == arn).values(**dataset_fields)).rowcount:
                return  # deleted meanwhile: write nothing
            if replace_all:
                s.execute(delete(DatasetLabelRow).where(DatasetLabelRow.dataset_arn == arn))
                s.execute(delete(DatasetEntryRow).where(DatasetEntryRow.dataset_arn == arn))
                existing: set[str] = set()
            else:
                existing = {r[0] for r in s.execute(select(_E.c.source_ref).where(_E.c.dataset_arn == arn))}
            fresh = [e for e in entries if e.source_ref not in existing]
            changed = [e for e in entries if e.source_ref in existing]
            for e in changed:
                s.execute(update(_E).where(_E.c.dataset_arn == arn, _E.c.source_ref == e.source_ref)
                          .values(line=e.line, listed=e.listed, labeled=e.labeled, has_errors=e.has_errors))
            if changed:
                refs = [e.source_ref for e in changed]
                for start in range(0, len(refs), 500):
                    s.execute(delete(_L).where(_L.c.dataset_arn == arn, _L.c.source_ref.in_(refs[start:start + 500])))
            if fresh:
                s.execute(insert(_E), [{"dataset_arn": arn, "source_ref": e.source_ref, "line": e.line,
                                        "listed": e.listed, "labeled": e.labeled, "has_errors": e.has_errors}
                                       for e in fresh])
            label_rows = [{"dataset_arn": arn, "source_ref": e.source_ref, "label": name, "boxes": boxes}
                          for e in entries for name, boxes in e.labels.items()]
            if label_rows:
                s.execute(insert(_L), label_rows)

    def copy_entries(self, source_arn: str, target_arn: str, dataset_fields: dict[str, Any]) -> None:
        """Copies every entry of one dataset into another (empty) one, and sets the target's status."""
        with self._session() as s:
            if not s.execute(update(_D).where(_D.c.arn == target_arn).values(**dataset_fields)).rowcount:
                return  # deleted meanwhile: write nothing
            s.execute(insert(_E).from_select(
                ["dataset_arn", "source_ref", "line", "listed", "labeled", "has_errors"],
                select(literal(target_arn), _E.c.source_ref, _E.c.line, _E.c.listed, _E.c.labeled,
                       _E.c.has_errors).where(_E.c.dataset_arn == source_arn).order_by(_E.c.id)))
            s.execute(insert(_L).from_select(
                ["dataset_arn", "source_ref", "label", "boxes"],
                select(literal(target_arn), _L.c.source_ref, _L.c.label, _L.c.boxes)
                .where(_L.c.dataset_arn == source_arn)))

    def move_entries(self, source_arn: str, target_arn: str, source_refs: Sequence[str],
                     fields_by_dataset: dict[str, dict[str, Any]]) -> None:
        """Moves the named entries from one dataset to another and sets both datasets' statuses."""
        refs = list(source_refs)
        try:
            with self._session() as s:
                for arn, values in fields_by_dataset.items():
                    if not s.execute(update(_D).where(_D.c.arn == arn).values(**values)).rowcount:
                        raise _NotAll  # one was deleted meanwhile: move nothing
                self._move(s, source_arn, target_arn, refs)
        except _NotAll:
            return

    @staticmethod
    def _move(s: Session, source_arn: str, target_arn: str, refs: list[str]) -> None:
        for start in range(0, len(refs), 500):
            chunk = refs[start:start + 500]
            s.execute(update(_E).where(and_(_E.c.dataset_arn == source_arn, _E.c.source_ref.in_(chunk)))
                      .values(dataset_arn=target_arn))
            s.execute(update(_L).where(and_(_L.c.dataset_arn == source_arn, _L.c.source_ref.in_(chunk)))
                      .values(dataset_arn=target_arn))

