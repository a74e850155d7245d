"""The work behind the dataset operations, run as durable jobs: validate, then write in one go.

CreateDataset (from a manifest or a copy of another dataset), UpdateDatasetEntries and
DistributeDatasetEntries queue a `dataset` job; the job runner calls `DatasetWork.run` in the server
process. Every change is computed in full first and written in one transaction with the dataset's
new status, so a failure (or a crash) leaves the previous entries as they were.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any

from openrek.lifecycle import DatasetStatus, DatasetStatusCode, dataset_message
from openrek.manifests import ManifestRecord, TerminalManifestError, autosplit, rules
from openrek.manifests.rules import DEFAULT_LIMITS, Limits
from openrek.manifests.validation import ValidatedLine, ValidatedManifest, validate_lines, validate_manifests
from openrek.service.rekognition.base import now_ms
from openrek.store.dataset_records import EntryData
from openrek.store.metadata import MetadataStore
from openrek.store.objects import ObjectStore

log = logging.getLogger("openrek.datasets")

JOB_KIND = "dataset"
CHANGES_URI = "UpdateDatasetEntries Changes.GroundTruth"


class DatasetJobError(Exception):
    """A terminal dataset error with AWS's code; the dataset ends *_FAILED with CLIENT_ERROR."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _compact(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _entry(line: ValidatedLine) -> EntryData | None:
    """The dataset entry of one validated line; None when it has no usable source-ref."""
    text = line.object_text()
    if text is None or line.source_ref is None:
        return None
    codes = line.all_codes()
    has_errors = any(code.startswith("ERROR_") for code in codes)
    labels: Counter[str] = Counter()
    if line.record is not None:
        for name in line.record.labels:
            labels[name] += 0
        for box in line.record.boxes:
            labels[box.label] += 1
    else:
        labels.update(line.named)
    compact = _compact(json.loads(text))
    return EntryData(source_ref=line.source_ref, line=compact,
                     listed=_compact(line.validation_json()) if codes else compact,  # errors and warnings shown
                     labeled=not line.unannotated, has_errors=has_errors, labels=dict(labels))


def _first_problem(manifest: ValidatedManifest) -> str:
    first = next((e for e in (line.first_error() for line in manifest.lines) if e is not None), None)
    return first.message if first else "a line without a valid source-ref."


def entries_of(manifest: ValidatedManifest, limits: Limits = DEFAULT_LIMITS,
               kept: dict[str, tuple[bool, list[str]]] | None = None) -> list[EntryData]:
    """The entries of validated lines (a later line with the same source-ref wins).

    `kept`: the dataset's other entries (source-ref → (has errors, labels)) that the result joins, for
    the whole-dataset checks. Raises DatasetJobError for AWS's dataset terminal content errors.
    """
    by_ref: dict[str, EntryData] = {}
    unkept: list[ValidatedLine] = []
    for line in manifest.lines:
        entry = _entry(line)
        if entry is None:
            unkept.append(line)
        else:
            by_ref.pop(entry.source_ref, None)
            by_ref[entry.source_ref] = entry
    entries = list(by_ref.values())
    others = {ref: v for ref, v in (kept or {}).items() if ref not in by_ref}
    in_error = len(unkept) + sum(1 for e in entries if e.has_errors) + sum(1 for e, _ in others.values() if e)
    total = len(manifest.lines) + len(others)
    if total and in_error / total > limits.max_invalid_fraction:
        raise DatasetJobError(
            rules.ERROR_TOO_MANY_RECORDS_IN_ERROR,
            f"{in_error} of {total} JSON Lines ({in_error / total:.0%}) have errors; at most "
            f"{limits.max_invalid_fraction:.0%} may. First problem: {_first_problem(manifest)} Fix the lines and "
            "try again.")
    labels = {name for e in entries for name in e.labels} | {n for _, names in others.values() for n in names}
    if len(labels) > limits.max_labels:
        raise DatasetJobError(
            rules.ERROR_MANIFEST_TOO_MANY_LABELS,
            f"The dataset would have {len(labels)} labels; a dataset can have at most {limits.max_labels}. "
            "Merge or remove labels.")
    return entries


class DatasetWork:
    """Runs `dataset` jobs against the metadata and object stores."""

    def __init__(self, metadata: MetadataStore, objects: ObjectStore, limits: Limits = DEFAULT_LIMITS) -> None:
        self.metadata = metadata
        self.objects = objects
        self.limits = limits

    # -- the job runner's two calls -------------------------------------------------------
    def run(self, payload: dict[str, Any]) -> None:
        action = payload["action"]
        targets = payload.get("datasets") or [payload["dataset_arn"]]
        failing = DatasetStatus.CREATE_FAILED if action.startswith("create") else DatasetStatus.UPDATE_FAILED
        try:
            getattr(self, f"_{action}")(payload)
        except (DatasetJobError, TerminalManifestError) as exc:
            self._fail(targets, failing, DatasetStatusCode.CLIENT_ERROR, f"{exc.code}: {exc.message}")
        except Exception as exc:  # our bug: say so, and keep the previous entries
            log.exception("dataset job %s failed", action)
            self._fail(targets, failing, DatasetStatusCode.SERVICE_ERROR,
                       f"The dataset could not be processed because of an internal error ({type(exc).__name__}: "
                       f"{exc}). The previous entries are unchanged; try the operation again.")

    def give_up(self, payload: dict[str, Any], reason: str) -> None:
        """The job was interrupted too often (server restarts): end it failed, entries unchanged."""
        targets = payload.get("datasets") or [payload["dataset_arn"]]
        failing = (DatasetStatus.CREATE_FAILED if payload["action"].startswith("create")
                   else DatasetStatus.UPDATE_FAILED)
        self._fail(targets, failing, DatasetStatusCode.SERVICE_ERROR,
                   f"The dataset operation was interrupted ({reason}). The previous entries are unchanged; try again.")

    def _fail(self, arns: list[str], status: DatasetStatus, code: DatasetStatusCode, message: str) -> None:
        self.metadata.set_dataset_status(arns, status=status, status_message=message,
                                         status_message_code=code, updated_ms=now_ms())

    def _done(self, status: DatasetStatus, use_case: str | None) -> dict[str, Any]:
        fields: dict[str, Any] = {"status": status, "status_message": dataset_message(status),
                                  "status_message_code": DatasetStatusCode.SUCCESS, "updated_ms": now_ms()}
        if use_case and use_case != "NOT_DETERMINED":
            fields["use_case"] = use_case
        return fields

    # -- actions ------------------------------------------------------------------------------
    def _create_from_manifest(self, payload: dict[str, Any]) -> None:
        manifest = validate_manifests(self.objects, [payload["manifest"]], role="training",
                                      feature=payload.get("feature"), limits=self.limits)
        entries = entries_of(manifest, self.limits)
        self.metadata.write_entries(payload["dataset_arn"], entries, replace_all=True,
                                    dataset_fields=self._done(DatasetStatus.CREATE_COMPLETE, manifest.use_case))

    def _create_from_dataset(self, payload: dict[str, Any]) -> None:
        source = self.metadata.get_dataset(payload["source_arn"])
        if source is None:
            raise DatasetJobError("ERROR_SOURCE_DATASET_NOT_FOUND",
                                  f"The source dataset {payload['source_arn']} was deleted before it could be copied.")
        self.metadata.copy_entries(source.arn, payload["dataset_arn"],
                                   self._done(DatasetStatus.CREATE_COMPLETE, source.use_case))

    def _update(self, payload: dict[str, Any]) -> None:
        arn = payload["dataset_arn"]
        dataset = self.metadata.get_dataset(arn)
        if dataset is None:
            return
        moderation = payload.get("feature") == "CONTENT_MODERATION"
        manifest = validate_lines(self.objects, [(CHANGES_URI, payload["lines"])], role="training",
                                  use_case=dataset.use_case or None,
                                  content_moderation=moderation if dataset.use_case else None,
                                  feature=payload.get("feature"), limits=self.limits)
        kept = {ref: (errors, labels) for ref, _line, labels, errors in self.metadata.entry_lines(arn)}
        entries = entries_of(manifest, self.limits, kept)
        if not entries:
            raise DatasetJobError(
                rules.ERROR_TOO_MANY_RECORDS_IN_ERROR,
                f"None of the {len(manifest.lines)} JSON Lines of the update could become an entry (each needs a "
                f"valid source-ref); nothing was changed. First problem: {_first_problem(manifest)}")
        total = len(set(kept) | {e.source_ref for e in entries})
        if total > self.limits.max_manifest_lines:
            raise DatasetJobError(
                rules.ERROR_MANIFEST_ROWS_EXCEEDS_MAXIMUM,
                f"The update would give the dataset {total} entries; a dataset can have at most "
                f"{self.limits.max_manifest_lines}. Remove entries or use another dataset.")
        self.metadata.write_entries(arn, entries, replace_all=False,
                                    dataset_fields=self._done(DatasetStatus.UPDATE_COMPLETE,
                                                              dataset.use_case or manifest.use_case))

    def _distribute(self, payload: dict[str, Any]) -> None:
        train_arn, test_arn = payload["datasets"]
        train = self.metadata.get_dataset(train_arn)
        usable = [(ref, labels) for ref, _line, labels, errors in self.metadata.entry_lines(train_arn)
                  if labels and not errors]
        records = [ManifestRecord(line_index=i, source_ref=ref, bucket="", key="", version=None, labels=labels)
                   for i, (ref, labels) in enumerate(usable)]
        try:
            _, held = autosplit(records, fraction=self.limits.autosplit_fraction, seed=0)
        except TerminalManifestError as exc:
            raise DatasetJobError(rules.ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_DISTRIBUTE,
                                  exc.message.replace("create a test dataset automatically",
                                                      "distribute it into the test dataset")) from None
        use_case = train.use_case if train is not None else None
        done = self._done(DatasetStatus.UPDATE_COMPLETE, use_case)
        self.metadata.move_entries(train_arn, test_arn, [r.source_ref for r in held],
                                   {train_arn: done, test_arn: done})
