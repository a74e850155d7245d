"""CreateProjectVersion (from manifests or from the project's datasets), DescribeProjectVersions,
DeleteProjectVersion."""

from __future__ import annotations

from typing import Any

from openrek.lifecycle import DATASET_READY, VERSION_BUSY, VersionStatus, version_message
from openrek.service.context import RequestContext
from openrek.service.errors import InvalidParameterException, ResourceInUseException
from openrek.service.rekognition import arns
from openrek.service.rekognition.base import ProviderBase, now_ms, queued_job, s3_object
from openrek.service.rekognition.dataset_snapshot import write_snapshot
from openrek.service.rekognition.registry import operation
from openrek.service.rekognition.training_jobs import (
    MODELS_BUCKET,
    artifact_prefix,
    build_training_payload,
    job_caller,
)
from openrek.service.rekognition.version_keys import DETAIL as KMS_DETAIL
from openrek.service.rekognition.versions_view import version_description
from openrek.store.metadata import DuplicateError
from openrek.store.schema import ProjectRow, VersionRow
from openrek.store.sealed_files import Encryption


def _trains_from_manifests(params: dict[str, Any]) -> bool:
    """A version trained from manifests writes no dataset snapshot: metadata, two bucket lookups and the
    checks, so it runs on the event loop. Only a request without TrainingData and TestingData can train
    from datasets (a project with datasets refuses the others), and that writes the snapshot on a thread."""
    return params.get("TrainingData") is not None or params.get("TestingData") is not None


class VersionOperations(ProviderBase):
    @operation("CreateProjectVersion", metadata_only=_trains_from_manifests)
    def create_project_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        project = self._project(params["ProjectArn"])
        name = params["VersionName"]
        training = params.get("TrainingData")
        testing = params.get("TestingData")
        datasets = {d.dataset_type: d for d in self.metadata.list_datasets([project.arn])}
        if datasets:
            if training is not None or testing is not None:
                raise InvalidParameterException(
                    f"The project {project.name} has datasets, so it trains from them: leave out TrainingData "
                    "and TestingData. To train from manifests instead, delete the project's datasets "
                    "(DeleteDataset) or use another project."
                )
            self._check_datasets_trainable(project, datasets)
        else:
            _check_manifests(training, testing)
            for data in (training, testing):
                for asset in (data or {}).get("Assets") or []:
                    ref = asset["GroundTruthManifest"]["S3Object"]
                    self._check_bucket_access(ctx, ref["Bucket"], "s3:GetObject", ref["Name"])
        _check_feature_config(project.feature, params.get("FeatureConfig"))
        output = params["OutputConfig"]
        self._check_output_bucket(ctx, output)
        key_arn = self._resolve_kms_key(ctx, params.get("KmsKeyId"))
        created = now_ms()
        arn = arns.version_arn(ctx.region, ctx.account, project.name, name, created)
        # The database refuses a duplicate name when the version is added; asking first spares a snapshot.
        if datasets and self.metadata.list_versions(project.arn, [name]):
            raise _duplicate_version(name, project.name)
        row = VersionRow(
            arn=arn,
            project_arn=project.arn,
            name=name,
            created_ms=created,
            status=VersionStatus.TRAINING_IN_PROGRESS,
            status_message=version_message(VersionStatus.TRAINING_IN_PROGRESS),
            description=params.get("VersionDescription"),
            kms_key_id=params.get("KmsKeyId"),
            output_config=output,
            training_data=training,
            testing_data=testing,
            feature_config=params.get("FeatureConfig"),
            details={KMS_DETAIL: key_arn} if key_arn else {},
        )
        snapshot = None
        if datasets:  # what the datasets hold now: later edits change no trained version
            snapshot = write_snapshot(self.metadata, self.objects.writing_as(Encryption.for_key(key_arn)),
                                      artifact_prefix(project.name, name, created), datasets["TRAIN"].arn,
                                      datasets["TEST"].arn)
        payload = build_training_payload(project.name, project.feature, row, self.training_budget_s,
                                         self.training_options, snapshot=snapshot, kms_key_arn=key_arn,
                                         caller=job_caller(ctx, self.default_owner))
        job = queued_job(arn, "train", payload)
        try:
            self.metadata.add_version(row, job=job, tags=params.get("Tags"))
        except DuplicateError:
            raise _duplicate_version(name, project.name) from None
        self.wake_worker()
        return {"ProjectVersionArn": arn}

    def _check_datasets_trainable(self, project: ProjectRow, datasets: dict[str, Any]) -> None:
        for kind in ("TRAIN", "TEST"):
            if kind not in datasets:
                other = "training" if kind == "TRAIN" else "test"
                hint = ("create one with CreateDataset (DatasetType TEST), empty, then split the training "
                        "dataset into it with DistributeDatasetEntries" if kind == "TEST"
                        else "create one with CreateDataset (DatasetType TRAIN)")
                raise InvalidParameterException(
                    f"The project {project.name} has no {other} dataset, and training from datasets needs "
                    f"both a TRAIN and a TEST dataset: {hint}."
                )
        for kind, row in sorted(datasets.items(), reverse=True):
            if row.status not in DATASET_READY:
                raise InvalidParameterException(
                    f"The {kind} dataset {row.arn} is {row.status}"
                    + (f" ({row.status_message})" if row.status_message and "FAILED" in row.status else "")
                    + ": a model trains only from datasets that are CREATE_COMPLETE or UPDATE_COMPLETE. "
                    + ("Wait until DescribeDataset shows it complete." if "PROGRESS" in row.status else
                       "Fix the problem the status message names (UpdateDatasetEntries, or delete and create "
                       "the dataset again).")
                )
            if not self.metadata.count_entries(row.arn):
                hint = ("Split the training dataset into it with DistributeDatasetEntries, or add images with "
                        "UpdateDatasetEntries." if kind == "TEST" else "Add images with UpdateDatasetEntries.")
                raise InvalidParameterException(f"The {kind} dataset {row.arn} is empty. {hint}")

    @operation("DescribeProjectVersions", metadata_only=True)
    def describe_project_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        project = self._project(params["ProjectArn"])
        names = params.get("VersionNames")
        scope = f"versions|{project.arn}|{names}"
        offset, size = self.page_tokens.window(scope, params.get("NextToken"), params.get("MaxResults"))
        rows = self.metadata.list_versions(project.arn, names, offset=offset, limit=size + 1)
        chunk, token = rows[:size], self.page_tokens.next_token(scope, offset, size, len(rows))
        return {
            "ProjectVersionDescriptions": [version_description(r, project.feature) for r in chunk],
            "NextToken": token,
        }

    @operation("DeleteProjectVersion")  # not metadata-only: it removes the version's files too
    def delete_project_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._version(params["ProjectVersionArn"])
        if row.status in VERSION_BUSY:
            if row.status == VersionStatus.TRAINING_IN_PROGRESS:
                hint = "Wait until training finishes, then delete it."
            elif row.status == VersionStatus.COPYING_IN_PROGRESS:
                hint = "Wait until the copy finishes, then delete it."
            else:
                hint = "Stop it with StopProjectVersion and wait for STOPPED, then delete it."
            raise ResourceInUseException(f"The project version {row.name} is busy (status {row.status}). {hint}")
        copying = [v for v in self.metadata.versions_in_status([VersionStatus.COPYING_IN_PROGRESS])
                   if (v.details or {}).get("SourceProjectVersionArn") == row.arn]
        if copying:
            raise ResourceInUseException(
                f"The project version {row.name} is being copied to {copying[0].arn}; wait until that copy is "
                "COPYING_COMPLETED (or failed), then delete it.")
        self.metadata.delete_version(row.arn)
        self._delete_version_files(row)
        return {"Status": "DELETING"}

    def _delete_version_files(self, row: VersionRow) -> None:
        """The model, image copies and dataset snapshot of a deleted version (the user's outputs stay)."""
        project = self.metadata.get_project(row.project_arn)
        if project is None:
            return
        prefix = artifact_prefix(project.name, row.name, row.created_ms)
        for info in list(self.objects.list_objects(MODELS_BUCKET, prefix)):
            self.objects.delete_object(MODELS_BUCKET, info.key)


def _duplicate_version(name: str, project: str) -> ResourceInUseException:
    return ResourceInUseException(
        f"A version named {name} already exists in project {project}. Version names must be "
        "unique within a project: choose another VersionName."
    )


def _check_manifests(training: dict[str, Any] | None, testing: dict[str, Any] | None) -> None:
    """Manifest rules of CreateProjectVersion for a project without datasets."""
    if training is None and testing is None:
        raise InvalidParameterException(
            "The project has no datasets, so TrainingData and TestingData are required: give the training "
            "manifest in TrainingData.Assets and either a testing manifest or TestingData AutoCreate=true. "
            "Or create the project's datasets first (CreateDataset) and train from them."
        )
    if training is None or testing is None:
        missing = "TestingData" if testing is None else "TrainingData"
        raise InvalidParameterException(
            f"TrainingData and TestingData must be given together; {missing} is missing. "
            "Use TestingData AutoCreate=true to split the training manifest 80/20."
        )
    if not training.get("Assets"):
        raise InvalidParameterException("TrainingData.Assets must list at least one Ground Truth manifest.")
    for member, data in (("TrainingData", training), ("TestingData", testing)):
        for i, asset in enumerate(data.get("Assets") or [], 1):
            s3_object((asset.get("GroundTruthManifest") or {}).get("S3Object"),
                      f"{member}.Assets.{i}.GroundTruthManifest.S3Object")
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
