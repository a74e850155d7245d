"""Turns a new project version into the payload of its training job (a `TrainingRequest` as JSON)."""

from __future__ import annotations

from typing import Any

from openrek.store.schema import VersionRow

MODELS_BUCKET = ".openrek-models"


def _refs(data: dict[str, Any] | None) -> list[dict[str, Any]]:
    refs = []
    for asset in (data or {}).get("Assets") or []:
        obj = asset["GroundTruthManifest"]["S3Object"]
        refs.append({"bucket": obj["Bucket"], "name": obj["Name"], "version": obj.get("Version")})
    return refs


def build_training_payload(project_name: str, feature: str, row: VersionRow, budget_s: float,
                           options: dict[str, Any] | None = None) -> dict[str, Any]:
    output = row.output_config
    return {
        "project_name": project_name,
        "version_name": row.name,
        "version_arn": row.arn,
        "feature": feature,
        "training_manifests": _refs(row.training_data),
        "testing_manifests": _refs(row.testing_data),
        "testing_autocreate": bool((row.testing_data or {}).get("AutoCreate")),
        "output_bucket": output["S3Bucket"],
        "output_prefix": output.get("S3KeyPrefix", ""),
        "artifact_bucket": MODELS_BUCKET,
        "artifact_prefix": f"{project_name}/{row.name}/{row.created_ms}/",
        "feature_config": row.feature_config,
        "time_budget_s": budget_s,
        "seed": 0,
        "options": options or None,
    }
