"""Turns a new project version into the payload of its training job (a `TrainingRequest` as JSON)."""

from __future__ import annotations

from typing import Any

from openrek.service.context import RequestContext
from openrek.store.schema import VersionRow
from openrek.training.request import S3Ref, TrainingOptions, TrainingRequest

MODELS_BUCKET = ".openrek-models"


def _refs(data: dict[str, Any] | None) -> list[S3Ref]:
    refs = []
    for asset in (data or {}).get("Assets") or []:
        obj = asset["GroundTruthManifest"]["S3Object"]
        refs.append(S3Ref(obj["Bucket"], obj["Name"], obj.get("Version")))
    return refs


def artifact_prefix(project_name: str, version_name: str, created_ms: int) -> str:
    """Where a version's files (model, dataset snapshot) live in the models bucket."""
    return f"{project_name}/{version_name}/{created_ms}/"


def build_training_payload(project_name: str, feature: str, row: VersionRow, budget_s: float,
                           options: dict[str, Any] | None = None,
                           snapshot: dict[str, Any] | None = None, kms_key_arn: str | None = None,
                           caller: dict[str, Any] | None = None) -> dict[str, Any]:
    """The job payload (a `TrainingRequest` as JSON); `snapshot` ({"training": ref, "testing": ref}, refs as
    `S3Ref` fields) trains from dataset snapshots."""
    output = row.output_config
    if snapshot is not None:
        training, testing, autocreate = [S3Ref(**snapshot["training"])], [S3Ref(**snapshot["testing"])], False
    else:
        training, testing = _refs(row.training_data), _refs(row.testing_data)
        autocreate = bool((row.testing_data or {}).get("AutoCreate"))
    return TrainingRequest(
        project_name=project_name, version_name=row.name, version_arn=row.arn, feature=feature,  # type: ignore[arg-type]
        training_manifests=training, testing_manifests=testing, testing_autocreate=autocreate,
        output_bucket=output["S3Bucket"], output_prefix=output.get("S3KeyPrefix", ""),
        artifact_bucket=MODELS_BUCKET, artifact_prefix=artifact_prefix(project_name, row.name, row.created_ms),
        feature_config=row.feature_config, time_budget_s=budget_s, seed=0,
        options=TrainingOptions.from_dict(options), kms_key_arn=kms_key_arn, caller=caller,
        from_datasets=snapshot is not None,
    ).to_payload()


def job_caller(ctx: RequestContext, default_owner: str) -> dict[str, Any]:
    """Who a training job reads and writes for: the caller of CreateProjectVersion (its current policies
    are asked again at training time, as AWS does), and the owner of buckets made before owners."""
    arn = ctx.principal_arn or f"arn:aws:iam::{ctx.account}:root"
    user = arn.rsplit("/", 1)[-1] if ":user/" in arn and ctx.identity_policies is not None else None
    return {"account": ctx.account, "region": ctx.region, "principal_arn": arn, "user_name": user,
            "default_owner": default_owner}
