"""The Rekognition Custom Labels provider: one method per operation, AWS semantics, no HTTP.

Methods take a `RequestContext` and the validated request parameters (botocore member names) and
return the response dict; rule violations raise the typed errors of `openrek.service.errors`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from openrek.service.context import RequestContext
from openrek.service.errors import (
    InvalidImageFormatException,
    InvalidParameterException,
    ResourceInUseException,
    ResourceNotFoundException,
    ResourceNotReadyException,
)
from openrek.service.rekognition import arns
from openrek.service.rekognition.images import image_bytes
from openrek.service.rekognition.pagination import next_token, page, page_window
from openrek.service.rekognition.training_jobs import build_training_payload
from openrek.service.rekognition.versions_view import project_description, version_description
from openrek.store.metadata import DuplicateError, MetadataStore
from openrek.store.objects import ObjectStore
from openrek.store.schema import JobRow, ProjectRow, VersionRow


class ModelHosting(Protocol):
    """What serving needs from the model host (jobs layer): load, drop, predict."""

    def start(self, version_arn: str, artifact: dict[str, Any]) -> None: ...
    def stop(self, version_arn: str) -> None: ...
    def predict(self, version_arn: str, image_bytes: bytes, min_confidence: float | None,
                max_results: int | None) -> list[dict]: ...


Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any]]

MAX_TAGS_PER_RESOURCE = 50
BUSY_STATUSES = ("TRAINING_IN_PROGRESS", "STARTING", "RUNNING", "STOPPING", "COPYING_IN_PROGRESS")


def _now_ms() -> int:
    return int(time.time() * 1000)


class RekognitionProvider:
    """Custom Labels operations over a metadata store, an object store and a job queue."""

    def __init__(self, metadata: MetadataStore, objects: ObjectStore, wake_worker: Callable[[], None],
                 training_budget_s: float = 600.0, models: ModelHosting | None = None,
                 training_options: dict[str, Any] | None = None) -> None:
        self.metadata = metadata
        self.training_options = training_options or {}
        self.models = models
        self.training_budget_s = training_budget_s
        self.objects = objects
        self.wake_worker = wake_worker
        self.operations: dict[str, Handler] = {
            "CreateProject": self.create_project,
            "DescribeProjects": self.describe_projects,
            "DeleteProject": self.delete_project,
            "CreateProjectVersion": self.create_project_version,
            "DescribeProjectVersions": self.describe_project_versions,
            "DeleteProjectVersion": self.delete_project_version,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
            "ListTagsForResource": self.list_tags_for_resource,
            "StartProjectVersion": self.start_project_version,
            "StopProjectVersion": self.stop_project_version,
            "DetectCustomLabels": self.detect_custom_labels,
        }

    # -- helpers ------------------------------------------------------------------------
    def _project(self, arn: str) -> ProjectRow:
        row = self.metadata.get_project(arn)
        if row is None:
            raise ResourceNotFoundException(
                f"The project {arn} does not exist. Check the ARN (DescribeProjects lists your projects)."
            )
        return row

    def _version(self, arn: str) -> VersionRow:
        row = self.metadata.get_version(arn)
        if row is None:
            raise ResourceNotFoundException(
                f"The project version {arn} does not exist. Check the ARN "
                "(DescribeProjectVersions lists the versions of a project)."
            )
        return row

    def _resource_exists(self, arn: str) -> bool:
        parsed = arns.parse_arn(arn)
        if parsed is None:
            return False
        if parsed.kind == "project":
            return self.metadata.get_project(arn) is not None
        return self.metadata.get_version(arn) is not None

    # -- projects -----------------------------------------------------------------------
    def create_project(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["ProjectName"]
        feature = params.get("Feature", "CUSTOM_LABELS")
        auto_update = params.get("AutoUpdate")
        if auto_update and feature != "CONTENT_MODERATION":
            raise InvalidParameterException(
                "AutoUpdate applies only to adapters (Feature CONTENT_MODERATION); leave it out for a "
                "CUSTOM_LABELS project."
            )
        if feature == "CONTENT_MODERATION" and not auto_update:
            auto_update = "DISABLED"
        created = _now_ms()
        row = ProjectRow(
            arn=arns.project_arn(ctx.region, ctx.account, name, created),
            name=name,
            account=ctx.account,
            region=ctx.region,
            created_ms=created,
            status="CREATED",
            feature=feature,
            auto_update=auto_update,
        )
        try:
            self.metadata.add_project(row)
        except DuplicateError:
            raise ResourceInUseException(
                f"A project named {name} already exists in {ctx.region}. Choose another ProjectName."
            ) from None
        if params.get("Tags"):
            self.metadata.put_tags(row.arn, params["Tags"])
        return {"ProjectArn": row.arn}

    def describe_projects(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        names = params.get("ProjectNames")
        features = params.get("Features") or ["CUSTOM_LABELS"]
        rows = [
            r
            for r in self.metadata.list_projects(ctx.account, ctx.region)
            if r.feature in features and (names is None or r.name in names)
        ]
        scope = f"projects|{ctx.account}|{ctx.region}|{names}|{sorted(features)}"
        chunk, token = page(rows, scope, params.get("NextToken"), params.get("MaxResults"))
        return {"ProjectDescriptions": [project_description(r) for r in chunk], "NextToken": token}

    def delete_project(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._project(params["ProjectArn"])
        if self.metadata.count_versions(row.arn):
            raise ResourceInUseException(
                f"The project {row.name} still has model versions. Delete them first with "
                "DeleteProjectVersion, then delete the project."
            )
        self.metadata.delete_project(row.arn)
        return {"Status": "DELETING"}

    # -- versions -----------------------------------------------------------------------
    def create_project_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        project = self._project(params["ProjectArn"])
        name = params["VersionName"]
        training = params.get("TrainingData")
        testing = params.get("TestingData")
        _check_datasets(training, testing)
        _check_feature_config(project.feature, params.get("FeatureConfig"))
        output = params["OutputConfig"]
        bucket = output.get("S3Bucket")
        if not bucket:
            raise InvalidParameterException("OutputConfig.S3Bucket is required: name the bucket for training results.")
        if not self.objects.bucket_exists(bucket):
            raise InvalidParameterException(
                f"The output bucket {bucket} does not exist or cannot be written. Create it "
                f"(aws s3 mb s3://{bucket}) or choose another OutputConfig.S3Bucket."
            )
        created = _now_ms()
        arn = arns.version_arn(ctx.region, ctx.account, project.name, name, created)
        row = VersionRow(
            arn=arn,
            project_arn=project.arn,
            name=name,
            created_ms=created,
            status="TRAINING_IN_PROGRESS",
            status_message="The model is being trained.",
            description=params.get("VersionDescription"),
            kms_key_id=params.get("KmsKeyId"),
            output_config=output,
            training_data=training,
            testing_data=testing,
            feature_config=params.get("FeatureConfig"),
            details={},
        )
        payload = build_training_payload(project.name, project.feature, row, self.training_budget_s,
                                         self.training_options)
        now = time.time()
        job = JobRow(version_arn=arn, kind="train", state="QUEUED", payload=payload, attempts=0, created=now, updated=now)
        try:
            self.metadata.add_version(row, job=job, tags=params.get("Tags"))
        except DuplicateError:
            raise ResourceInUseException(
                f"A version named {name} already exists in project {project.name}. Version names must be "
                "unique within a project: choose another VersionName."
            ) from None
        self.wake_worker()
        return {"ProjectVersionArn": arn}

    def describe_project_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        project = self._project(params["ProjectArn"])
        names = params.get("VersionNames")
        scope = f"versions|{project.arn}|{names}"
        offset, size = page_window(scope, params.get("NextToken"), params.get("MaxResults"))
        rows = self.metadata.list_versions(project.arn, names, offset=offset, limit=size + 1)
        chunk, token = rows[:size], next_token(scope, offset, size, len(rows))
        return {
            "ProjectVersionDescriptions": [version_description(r, project.feature) for r in chunk],
            "NextToken": token,
        }

    def delete_project_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._version(params["ProjectVersionArn"])
        if row.status in BUSY_STATUSES:
            verb = "training" if row.status == "TRAINING_IN_PROGRESS" else "running or changing state"
            raise ResourceInUseException(
                f"The project version {row.name} is {verb} (status {row.status}). "
                + ("Wait until training finishes, then delete it." if verb == "training"
                   else "Stop it with StopProjectVersion and wait for STOPPED, then delete it.")
            )
        self.metadata.delete_version(row.arn)
        return {"Status": "DELETING"}

    # -- serving ------------------------------------------------------------------------
    def _hosting(self) -> ModelHosting:
        if self.models is None:
            raise ResourceNotReadyException("This openrek server does not host models.")
        return self.models

    def start_project_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._version(params["ProjectVersionArn"])
        hosting = self._hosting()
        model = (row.details or {}).get("model")
        if row.status in ("RUNNING", "STARTING"):
            raise ResourceInUseException(f"The model {row.name} is already {row.status}.")
        if row.status not in ("TRAINING_COMPLETED", "STOPPED", "FAILED") or not model:
            raise ResourceNotReadyException(
                f"The model {row.name} cannot start: its status is {row.status}. Only a model whose training "
                "completed (TRAINING_COMPLETED) or a stopped model can be started."
            )
        fields = {"min_inference_units": params["MinInferenceUnits"],
                  "max_inference_units": params.get("MaxInferenceUnits")}
        if not self.metadata.transition_version(row.arn, ["TRAINING_COMPLETED", "STOPPED", "FAILED"], "STARTING",
                                                status_message="The model is starting.", **fields):
            raise ResourceInUseException(f"The model {row.name} changed state; describe it and try again.")
        hosting.start(row.arn, model["artifact"])
        return {"Status": "STARTING"}

    def stop_project_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._version(params["ProjectVersionArn"])
        hosting = self._hosting()
        if not self.metadata.transition_version(row.arn, ["RUNNING", "STARTING"], "STOPPING",
                                                status_message="The model is stopping."):
            raise ResourceInUseException(
                f"The model {row.name} is not running (status {row.status}), so it cannot be stopped."
            )
        hosting.stop(row.arn)
        return {"Status": "STOPPING"}

    def detect_custom_labels(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        from openrek.jobs.model_host import ModelNotLoaded

        arn = params["ProjectVersionArn"]
        row = self._version(arn)
        if row.status != "RUNNING":
            raise ResourceNotReadyException(
                f"The model {row.name} is not running (status {row.status}). Start it with "
                "StartProjectVersion and wait for RUNNING (aws rekognition wait project-version-running)."
            )
        data = image_bytes(self.objects, params["Image"])
        try:
            labels = self._hosting().predict(arn, data, params.get("MinConfidence"), params.get("MaxResults"))
        except ModelNotLoaded:
            raise ResourceNotReadyException(f"The model {row.name} is still loading; try again shortly.") from None
        except ValueError as exc:  # the predictor could not decode the image
            if getattr(exc, "code", "") == "InvalidImageFormatException":
                raise InvalidImageFormatException(str(exc)) from None
            raise
        return {"CustomLabels": labels}

    # -- tags ---------------------------------------------------------------------------
    def _tagged(self, arn: str) -> str:
        if not self._resource_exists(arn):
            raise ResourceNotFoundException(f"The resource {arn} does not exist.")
        return arn

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._tagged(params["ResourceArn"])
        if not self.metadata.put_tags(arn, params["Tags"], max_tags=MAX_TAGS_PER_RESOURCE):
            raise InvalidParameterException(
                f"A resource can have at most {MAX_TAGS_PER_RESOURCE} tags; remove some with UntagResource first."
            )
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._tagged(params["ResourceArn"])
        self.metadata.remove_tags(arn, params["TagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._tagged(params["ResourceArn"])
        return {"Tags": self.metadata.get_tags(arn)}


def _check_datasets(training: dict[str, Any] | None, testing: dict[str, Any] | None) -> None:
    """Manifest rules of CreateProjectVersion for a project without datasets (openrek has none yet)."""
    if training is None and testing is None:
        raise InvalidParameterException(
            "The project has no datasets, so TrainingData and TestingData are required: give the training "
            "manifest in TrainingData.Assets and either a testing manifest or TestingData AutoCreate=true."
        )
    if training is None or testing is None:
        missing = "TestingData" if testing is None else "TrainingData"
        raise InvalidParameterException(
            f"TrainingData and TestingData must be given together; {missing} is missing. "
            "Use TestingData AutoCreate=true to split the training manifest 80/20."
        )
    if not training.get("Assets"):
        raise InvalidParameterException("TrainingData.Assets must list at least one Ground Truth manifest.")
    for asset in training["Assets"] + (testing.get("Assets") or []):
        if not (asset.get("GroundTruthManifest") or {}).get("S3Object"):
            raise InvalidParameterException("Each asset needs GroundTruthManifest.S3Object (Bucket and Name).")
    auto = testing.get("AutoCreate", False)
    if auto and testing.get("Assets"):
        raise InvalidParameterException(
            "TestingData has both Assets and AutoCreate=true; give a testing manifest or AutoCreate, not both."
        )
    if not auto and not testing.get("Assets"):
        raise InvalidParameterException(
            "TestingData needs a testing manifest in Assets, or AutoCreate=true to hold out 20% of the training images."
        )


def _check_feature_config(feature: str, config: dict[str, Any] | None) -> None:
    if config is None:
        return
    moderation = config.get("ContentModeration")
    if feature == "CUSTOM_LABELS" and moderation is not None:
        raise InvalidParameterException(
            "FeatureConfig.ContentModeration applies to CONTENT_MODERATION projects (adapters), but this "
            "project's feature is CUSTOM_LABELS. Remove FeatureConfig or use a CONTENT_MODERATION project."
        )
    if feature == "CONTENT_MODERATION" and moderation is None:
        raise InvalidParameterException(
            "This is a CONTENT_MODERATION project: FeatureConfig must hold ContentModeration settings "
            "(for example ContentModeration={ConfidenceThreshold=50}), or be left out."
        )
