"""Copies a finished job's TrainingOutcome onto its project version, in DescribeProjectVersions' shapes."""

from __future__ import annotations

import time
from typing import Any

from openrek.store.metadata import MetadataStore


def _s3object(ref: dict[str, Any] | None) -> dict[str, Any] | None:
    if not ref:
        return None
    out = {"Bucket": ref["bucket"], "Name": ref["name"]}
    if ref.get("version"):
        out["Version"] = ref["version"]
    return {"S3Object": out}


def apply_outcome(metadata: MetadataStore, job_id: int, version_arn: str, outcome: dict[str, Any],
                  owner: str | None = None) -> bool:
    """Records the outcome; with `owner`, only if that runner still holds the job (see `complete_job`)."""
    details: dict[str, Any] = {
        "TrainingEndTimestamp": time.time(),
        "BillableTrainingTimeInSeconds": int(outcome.get("billable_training_seconds") or 0),
        "TrainingDataResult": outcome.get("training_data_result") or {},
        "TestingDataResult": outcome.get("testing_data_result") or {},
    }
    if outcome.get("manifest_summary"):
        details["ManifestSummary"] = _s3object(outcome["manifest_summary"])
    if outcome.get("f1_score") is not None:
        evaluation: dict[str, Any] = {"F1Score": float(outcome["f1_score"])}
        summary = _s3object(outcome.get("evaluation_summary"))
        if summary:
            evaluation["Summary"] = summary
        details["EvaluationResult"] = evaluation
    if outcome.get("artifact"):
        details["model"] = {
            "artifact": outcome["artifact"],
            "task": outcome.get("task"),
            "label_thresholds": outcome.get("label_thresholds") or {},
        }
    return metadata.complete_job(job_id, version_arn, outcome["status"], outcome["status_message"], details,
                                 owner=owner)
