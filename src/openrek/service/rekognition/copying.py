"""CopyProjectVersion: a trained version copied into another project (same account), as a `copy` job.

The copy gets its own model files (so it survives deleting the source), its own tags, output
config and KMS key, and `SourceProjectVersionArn`; it serves like the original once COPYING_COMPLETED.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from openrek.lifecycle import STARTABLE, VersionStatus, version_message, version_sources
from openrek.manifests.output_files import EVALUATION_SUMMARY, output_key
from openrek.security.policy_evaluation import AuthorizationRequest, Policy, PolicyKind, evaluate
from openrek.service.context import RequestContext
from openrek.service.errors import (
    AccessDeniedException,
    InvalidParameterException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from openrek.service.rekognition import arns
from openrek.service.rekognition.base import ProviderBase, now_ms, queued_job
from openrek.service.rekognition.registry import operation
from openrek.service.rekognition.training_jobs import MODELS_BUCKET, artifact_prefix
from openrek.service.rekognition.version_keys import DETAIL as KMS_DETAIL
from openrek.service.rekognition.version_keys import check_model_readable
from openrek.store.metadata import DuplicateError, MetadataStore
from openrek.store.objects import ObjectStore, ObjectStoreError
from openrek.store.schema import VersionRow
from openrek.store.sealed_files import Encryption

log = logging.getLogger("openrek.copy")
JOB_KIND = "copy"
# Details of the source that describe the model itself and carry over to the copy.
_CARRIED = ("TrainingDataResult", "TestingDataResult", "ManifestSummary", "BillableTrainingTimeInSeconds",
            "TrainingEndTimestamp")


class CopyOperations(ProviderBase):
    @operation("CopyProjectVersion", metadata_only=True)
    def copy_project_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        source_project = self._project(params["SourceProjectArn"])
        source = self.metadata.get_version(params["SourceProjectVersionArn"])
        if source is None or source.project_arn != source_project.arn:
            raise ResourceNotFoundException(
                f"The project version {params['SourceProjectVersionArn']} does not exist in the project "
                f"{source_project.arn}. Check both ARNs (DescribeProjectVersions lists a project's versions).")
        target = self._project(params["DestinationProjectArn"])
        if source_project.account != ctx.account:
            self._check_copy_policy(ctx, source_project.arn, source.arn)
        if source_project.feature != "CUSTOM_LABELS" or target.feature != "CUSTOM_LABELS":
            raise InvalidParameterException("CopyProjectVersion copies Custom Labels models only; adapters "
                                            "(CONTENT_MODERATION projects) cannot be copied.")
        model = (source.details or {}).get("model")
        if not model or source.status not in (*STARTABLE, VersionStatus.RUNNING):
            raise ResourceInUseException(
                f"The project version {source.name} has no trained model to copy (status {source.status}). "
                "Copy a version whose training completed.")
        output = params["OutputConfig"]
        self._check_output_bucket(ctx, output)
        key_arn = self._resolve_kms_key(ctx, params.get("KmsKeyId"))
        source_key = (source.details or {}).get(KMS_DETAIL)
        if source_key and self.kms_keys is not None:  # the model must be decrypted to be copied
            check_model_readable(self.kms_keys, source_key, source.name, "be copied")
        name = params["VersionName"]
        if self.metadata.list_versions(target.arn, [name]):
            raise _duplicate(name, target.name)
        created = now_ms()
        arn = arns.version_arn(ctx.region, ctx.account, target.name, name, created)
        carried = {k: v for k, v in (source.details or {}).items() if k in _CARRIED}
        row = VersionRow(
            arn=arn, project_arn=target.arn, name=name, created_ms=created,
            status=VersionStatus.COPYING_IN_PROGRESS,
            status_message=version_message(VersionStatus.COPYING_IN_PROGRESS),
            description=source.description, kms_key_id=params.get("KmsKeyId"), output_config=output,
            training_data=source.training_data, testing_data=source.testing_data,
            feature_config=source.feature_config,
            details={**carried, "SourceProjectVersionArn": source.arn, **({KMS_DETAIL: key_arn} if key_arn else {})},
        )
        payload = {
            "version_arn": arn, "source_model": model, "source_evaluation": (source.details or {}).get("EvaluationResult"),
            "artifact_prefix": artifact_prefix(target.name, name, created),
            "output_bucket": output["S3Bucket"], "output_prefix": output.get("S3KeyPrefix", ""),
            "project_name": target.name, "version_name": name, "kms_key_arn": key_arn,
        }
        job = queued_job(arn, JOB_KIND, payload)
        try:
            self.metadata.add_version(row, job=job, tags=params.get("Tags"))
        except DuplicateError:
            raise _duplicate(name, target.name) from None
        self.wake_worker()
        return {"ProjectVersionArn": arn}


    def _check_copy_policy(self, ctx: RequestContext, project_arn: str, version_arn: str) -> None:
        """A copy from another account needs a project policy of the source project that allows it."""
        policies = [Policy.parse(r.name, r.document, PolicyKind.RESOURCE, strict=False)
                    for r in self.metadata.list_policies(project_arn)]
        source_account = version_arn.split(":")[4]
        request = AuthorizationRequest(
            principal_arn=f"arn:aws:iam::{ctx.account}:root", principal_account=ctx.account, is_root=True,
            action="rekognition:CopyProjectVersion", resource_arn=version_arn, resource_account=source_account)
        decision = evaluate(request, resource_policies=policies)
        if not decision.allowed:
            raise AccessDeniedException(
                f"{decision.message} Ask the owner of {project_arn} to allow it with PutProjectPolicy "
                "(Principal: your account, Action: rekognition:CopyProjectVersion).")


def _duplicate(name: str, project: str) -> ResourceInUseException:
    return ResourceInUseException(
        f"A version named {name} already exists in project {project}; choose another VersionName.")


class CopyWork:
    """Runs `copy` jobs: the model files (and evaluation summary) copied, then COPYING_COMPLETED."""

    def __init__(self, metadata: MetadataStore, objects: ObjectStore) -> None:
        self.metadata = metadata
        self.objects = objects

    def run(self, payload: dict[str, Any]) -> None:
        arn = payload["version_arn"]
        try:
            details = self._copy(payload)
        except Exception as exc:
            log.exception("copy of %s failed", arn)
            self.give_up(payload, f"{type(exc).__name__}: {exc}")
            return
        row = self.metadata.update_version(arn, details=details)
        if row is not None:
            self.metadata.transition_version(arn, version_sources(VersionStatus.COPYING_COMPLETED),
                                             VersionStatus.COPYING_COMPLETED,
                                             status_message=version_message(VersionStatus.COPYING_COMPLETED))

    def give_up(self, payload: dict[str, Any], reason: str) -> None:
        self.metadata.transition_version(
            payload["version_arn"], version_sources(VersionStatus.COPYING_FAILED), VersionStatus.COPYING_FAILED,
            status_message=f"The model could not be copied ({reason}). Delete this version and copy again.")

    def _copy(self, payload: dict[str, Any]) -> dict[str, Any]:
        objects = self.objects.writing_as(Encryption.for_key(payload.get("kms_key_arn")))  # the copy's key
        model = payload["source_model"]
        artifact = model["artifact"]
        src_prefix = artifact["name"].rsplit("/", 1)[0] + "/"
        prefix = payload["artifact_prefix"]
        description = json.loads(objects.get_bytes(artifact["bucket"], artifact["name"]))
        description["project_version_arn"] = payload["version_arn"]
        for key in objects.list_objects(artifact["bucket"], src_prefix):
            name = key.key[len(src_prefix):]
            if name == "model.json" or "/" in name:
                continue
            objects.copy_object(artifact["bucket"], key.key, MODELS_BUCKET, prefix + name)
        json_key = prefix + "model.json"
        objects.put_object(MODELS_BUCKET, json_key, json.dumps(description, indent=2).encode("utf-8"),
                                content_type="application/json")
        details: dict[str, Any] = {"model": {**model, "artifact": {"bucket": MODELS_BUCKET, "name": json_key,
                                                                    "version": None}}}
        evaluation = payload.get("source_evaluation")
        if evaluation:
            copied = dict(evaluation)
            summary = (evaluation.get("Summary") or {}).get("S3Object")
            if summary:
                key = output_key(payload["output_prefix"], EVALUATION_SUMMARY, payload["project_name"],
                                 payload["version_name"])
                try:
                    objects.copy_object(summary["Bucket"], summary["Name"], payload["output_bucket"], key)
                    copied["Summary"] = {"S3Object": {"Bucket": payload["output_bucket"], "Name": key}}
                except ObjectStoreError:  # the source's summary is gone: the model still copies
                    log.warning("evaluation summary s3://%s/%s not copied", summary["Bucket"], summary["Name"])
                    copied.pop("Summary", None)
            details["EvaluationResult"] = copied
        return details
