"""The files AWS writes under OutputConfig: their names, where they go, and what they hold.

Names are AWS's: `<Kind>-<project>-<version>.json`. They go under `OutputConfig.S3KeyPrefix` as under a
folder: prefix "my-model-output" gives "my-model-output/ManifestSummary-my-project-1.json"; a prefix that
already ends in "/" is used as is; an empty prefix puts the files at the bucket's top level.
`write_output_files` writes ManifestSummary, the two *ManifestWithValidation files and the two
*GroundTruth files (the valid lines as used; training later replaces TestingGroundTruth with its
evaluation snapshot). Nothing here is written when a terminal file error happened.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..store.objects import ObjectStore, ObjectStoreError, is_internal_bucket
from . import rules
from .line_spool import JsonLinesStream
from .refs import ManifestRef
from .types import ManifestError, ManifestRecord, TerminalManifestError
from .validation import ValidatedManifest

MANIFEST_SUMMARY = "ManifestSummary"
TRAINING_VALIDATION = "TrainingManifestWithValidation"
TESTING_VALIDATION = "TestingManifestWithValidation"
TRAINING_GROUND_TRUTH = "TrainingGroundTruth"
TESTING_GROUND_TRUTH = "TestingGroundTruth"
EVALUATION_SUMMARY = "EvaluationResultSummary"
JSON_CONTENT_TYPE = "application/json"


def output_file_name(kind: str, project: str, version: str) -> str:
    """`ManifestSummary-my-project-1.json` for kind "ManifestSummary", project "my-project", version "1"."""
    return f"{kind}-{project}-{version}.json"


def join_prefix(prefix: str | None, name: str) -> str:
    """`name` under the S3KeyPrefix, treated as a folder ("out" → "out/name", "out/" → "out/name")."""
    if not prefix:
        return name
    return prefix + name if prefix.endswith("/") else f"{prefix}/{name}"


def output_key(prefix: str | None, kind: str, project: str, version: str) -> str:
    """The object key of one output file, e.g. `my-model-output/ManifestSummary-my-project-1.json`."""
    return join_prefix(prefix, output_file_name(kind, project, version))


@dataclass(frozen=True)
class OutputFiles:
    """Where the validation outputs of one training run were written."""

    manifest_summary: ManifestRef
    training_validation: ManifestRef
    testing_validation: ManifestRef
    training_ground_truth: ManifestRef
    testing_ground_truth: ManifestRef  # training may overwrite it with the evaluation snapshot


def render_summary(training: ValidatedManifest | None, testing: ValidatedManifest | None,
                   errors: Sequence[ManifestError]) -> dict[str, Any]:
    """ManifestSummary's JSON: per-role `statistics` and the cross-dataset `errors`."""
    statistics: dict[str, Any] = {}
    if training is not None:
        statistics["training"] = training.statistics_json()
    if testing is not None:
        statistics["testing"] = testing.statistics_json()
    return {"statistics": statistics, "errors": [e.to_json() for e in errors]}


def ground_truth(records: Sequence[ManifestRecord]) -> JsonLinesStream:
    """The valid lines as read (no `errors`), one JSON object per line, as a stream."""
    return JsonLinesStream(r.raw_json() if r.raw_json is not None else json.dumps(r.raw, ensure_ascii=False)
                           for r in records)


def check_output_bucket(objects: ObjectStore, bucket: str) -> None:
    """Raise ERROR_CANNOT_WRITE_OUTPUT_S3_BUCKET unless the output bucket exists."""
    try:
        exists = not is_internal_bucket(bucket) and objects.bucket_exists(bucket)
    except ObjectStoreError:
        exists = False
    if not exists:
        raise TerminalManifestError(
            rules.ERROR_CANNOT_WRITE_OUTPUT_S3_BUCKET,
            f"The output bucket {bucket!r} (OutputConfig.S3Bucket) does not exist or cannot be written. Create "
            "the bucket or name one that exists, then train again.")


def write_output_files(objects: ObjectStore, *, bucket: str, prefix: str | None, project: str, version: str,
                       training: ValidatedManifest, testing: ValidatedManifest,
                       errors: Sequence[ManifestError]) -> OutputFiles:
    """Write the summary, validation and ground-truth files; ERROR_CANNOT_WRITE_OUTPUT_S3_BUCKET on failure."""
    def ref(kind: str) -> ManifestRef:
        return ManifestRef(bucket, output_key(prefix, kind, project, version))

    files = OutputFiles(manifest_summary=ref(MANIFEST_SUMMARY), training_validation=ref(TRAINING_VALIDATION),
                        testing_validation=ref(TESTING_VALIDATION), training_ground_truth=ref(TRAINING_GROUND_TRUTH),
                        testing_ground_truth=ref(TESTING_GROUND_TRUTH))
    summary = json.dumps(render_summary(training, testing, errors), indent=2, ensure_ascii=False).encode("utf-8")
    payloads = [
        (files.manifest_summary, summary),
        (files.training_validation, training.validation_manifest()),
        (files.testing_validation, testing.validation_manifest()),
        (files.training_ground_truth, ground_truth(training.records)),
        (files.testing_ground_truth, ground_truth(testing.records)),
    ]
    check_output_bucket(objects, bucket)
    for target, data in payloads:
        try:
            objects.put_object(target.bucket, target.name, data, content_type=JSON_CONTENT_TYPE)
        except ObjectStoreError as exc:
            raise TerminalManifestError(
                rules.ERROR_CANNOT_WRITE_OUTPUT_S3_BUCKET,
                f"Could not write {target.uri} ({exc.code}: {exc.message}). Check OutputConfig.S3Bucket and "
                "S3KeyPrefix.") from None
    return files
