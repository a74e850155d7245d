"""Renders stored projects and versions as DescribeProjects / DescribeProjectVersions entries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from openrek.store.schema import ProjectRow, VersionRow


def _ts(ms_or_s: float, *, ms: bool) -> datetime:
    return datetime.fromtimestamp(ms_or_s / 1000.0 if ms else ms_or_s, tz=UTC)


def project_description(row: ProjectRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ProjectArn": row.arn,
        "CreationTimestamp": _ts(row.created_ms, ms=True),
        "Status": row.status,
        "Feature": row.feature,
    }
    if row.auto_update:
        out["AutoUpdate"] = row.auto_update
    return out


def version_description(row: VersionRow, feature: str) -> dict[str, Any]:
    details = row.details or {}
    training_result: dict[str, Any] = {"Input": row.training_data or {}}
    testing_result: dict[str, Any] = {"Input": row.testing_data or {}}
    training_result.update(details.get("TrainingDataResult") or {})
    testing_result.update(details.get("TestingDataResult") or {})
    out: dict[str, Any] = {
        "ProjectVersionArn": row.arn,
        "CreationTimestamp": _ts(row.created_ms, ms=True),
        "Status": row.status,
        "StatusMessage": row.status_message,
        "OutputConfig": row.output_config,
        "TrainingDataResult": training_result,
        "TestingDataResult": testing_result,
        "KmsKeyId": row.kms_key_id,
        "VersionDescription": row.description,
        "Feature": feature,
        "FeatureConfig": row.feature_config,
        "MinInferenceUnits": row.min_inference_units,
        "MaxInferenceUnits": row.max_inference_units,
    }
    if "BillableTrainingTimeInSeconds" in details:
        out["BillableTrainingTimeInSeconds"] = details["BillableTrainingTimeInSeconds"]
    if details.get("TrainingEndTimestamp") is not None:
        out["TrainingEndTimestamp"] = _ts(details["TrainingEndTimestamp"], ms=False)
    for key in ("EvaluationResult", "ManifestSummary", "BaseModelVersion"):
        if details.get(key) is not None:
            out[key] = details[key]
    return out
