"""Renders stored projects, datasets and versions in DescribeProjects / DescribeDataset /
DescribeProjectVersions' shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from openrek.store.schema import ProjectRow, VersionRow


def _ts(ms_or_s: float, *, ms: bool) -> datetime:
    return datetime.fromtimestamp(ms_or_s / 1000.0 if ms else ms_or_s, tz=UTC)


def project_description(row: ProjectRow, datasets: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ProjectArn": row.arn,
        "CreationTimestamp": _ts(row.created_ms, ms=True),
        "Status": row.status,
        "Datasets": datasets,
        "Feature": row.feature,
    }
    if row.auto_update:
        out["AutoUpdate"] = row.auto_update
    return out


def dataset_metadata(row: Any) -> dict[str, Any]:
    """A DatasetMetadata entry of ProjectDescription.Datasets."""
    out: dict[str, Any] = {
        "CreationTimestamp": _ts(row.created_ms, ms=True),
        "DatasetType": row.dataset_type,
        "DatasetArn": row.arn,
        "Status": row.status,
        "StatusMessage": row.status_message,
    }
    if row.status_message_code:
        out["StatusMessageCode"] = row.status_message_code
    return out


def dataset_description(row: Any, stats: dict[str, int]) -> dict[str, Any]:
    """DescribeDataset's DatasetDescription."""
    out: dict[str, Any] = {
        "CreationTimestamp": _ts(row.created_ms, ms=True),
        "LastUpdatedTimestamp": _ts(row.updated_ms, ms=True),
        "Status": row.status,
        "StatusMessage": row.status_message,
        "DatasetStats": stats,
    }
    if row.status_message_code:
        out["StatusMessageCode"] = row.status_message_code
    return out


def version_description(row: VersionRow, feature: str) -> dict[str, Any]:
    details = row.details or {}
    training_result: dict[str, Any] = {"Input": row.training_data or {}}
    testing_result: dict[str, Any] = {"Input": row.testing_data or {}}
    training_result.update(details.get("TrainingDataResult") or {})
    testing_result.update(details.get("TestingDataResult") or {})
    if row.training_data is None and row.testing_data is None:
        # Trained from the project's datasets: AWS reports the request's (empty) input, not our snapshot.
        training_result["Input"] = {}
        testing_result["Input"] = {"AutoCreate": False}
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
    for key in ("EvaluationResult", "ManifestSummary", "BaseModelVersion", "SourceProjectVersionArn"):
        if details.get(key) is not None:
            out[key] = details[key]
    return out
