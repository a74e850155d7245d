"""The contract between the job runner and training: what a job asks for and what it returns.

Plain dataclasses that pickle, so a request can cross a process (or Ray) boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class S3Ref:
    """An object in the object store (Rekognition's S3Object: Bucket, Name, Version)."""

    bucket: str
    name: str
    version: str | None = None
    internal: bool = False  # openrek's own object (a dataset snapshot), allowed in an internal bucket

    def to_wire(self) -> dict[str, str]:
        out = {"Bucket": self.bucket, "Name": self.name}
        if self.version:
            out["Version"] = self.version
        return out


@dataclass
class TrainingRequest:
    """One CreateProjectVersion training job, as the service validated it."""

    project_name: str
    version_name: str
    version_arn: str
    feature: Literal["CUSTOM_LABELS", "CONTENT_MODERATION"]
    training_manifests: list[S3Ref]
    testing_manifests: list[S3Ref]
    testing_autocreate: bool
    output_bucket: str
    output_prefix: str
    # Where training stores the servable artifact (model.onnx, model.json) in the object store.
    artifact_bucket: str
    artifact_prefix: str
    feature_config: dict[str, Any] | None = None
    time_budget_s: float = 600.0
    seed: int = 0
    # Optional training knobs (see openrek.training.pipeline.PipelineOptions): image sizes, backbones, budgets.
    options: dict[str, Any] | None = None
    # The version's KMS key (ARN): every file the job writes (image copies, output files, model) is sealed
    # under it; None: under the service's key.
    kms_key_arn: str | None = None


@dataclass
class TrainingOutcome:
    """What a finished job reports; the service copies it onto the project version."""

    status: Literal["TRAINING_COMPLETED", "TRAINING_FAILED"]
    status_message: str
    # DescribeProjectVersions fields, in AWS's wire shapes (dicts as botocore expects them).
    f1_score: float | None = None
    evaluation_summary: S3Ref | None = None
    manifest_summary: S3Ref | None = None
    training_data_result: dict[str, Any] = field(default_factory=dict)
    testing_data_result: dict[str, Any] = field(default_factory=dict)
    billable_training_seconds: int = 0
    # Present on success: where the servable model lives, and what it serves.
    artifact: S3Ref | None = None
    task: str | None = None
    label_thresholds: dict[str, float] = field(default_factory=dict)
