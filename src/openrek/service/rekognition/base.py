"""What every group of Custom Labels operations shares: the stores, the job queue, resource lookups."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from openrek.service import s3_access
from openrek.service.context import RequestContext
from openrek.service.errors import InvalidParameterException, ResourceNotFoundException
from openrek.service.rekognition.pagination import PageTokens
from openrek.serving.host import ModelHost
from openrek.store.metadata import MetadataStore
from openrek.store.objects import ObjectStore, is_internal_bucket
from openrek.store.schema import JobRow, ProjectRow, VersionRow

if TYPE_CHECKING:
    from openrek.security.kms_keys import KmsKeys


def s3_object(ref: dict[str, Any] | None, where: str) -> dict[str, Any]:
    """`ref` (an `S3Object`: Bucket, Name, Version, each optional in the model), once Bucket and Name are
    there; else AWS's InvalidParameterException naming the member (`where` is the S3Object's path)."""
    if not ref:
        raise InvalidParameterException(f"{where} is missing: give the manifest's Bucket and Name.")
    for member in ("Bucket", "Name"):
        if not ref.get(member):
            raise InvalidParameterException(
                f"{where}.{member} is missing: an S3Object needs both Bucket and Name (and optionally Version).")
    return ref


def now_ms() -> int:
    return int(time.time() * 1000)


def queued_job(resource_arn: str, kind: str, payload: dict[str, Any]) -> JobRow:
    """A new job of `kind` on a resource, to insert with the resource (or its status change)."""
    now = time.time()
    return JobRow(version_arn=resource_arn, kind=kind, state="QUEUED", payload=payload, attempts=0, created=now,
                  updated=now)


class ProviderBase:
    """State and lookups; the operation groups (projects, versions, datasets, …) are mixed in on top."""

    def __init__(self, metadata: MetadataStore, objects: ObjectStore, wake_worker: Callable[[], None],
                 training_budget_s: float = 600.0, models: ModelHost | None = None,
                 training_options: dict[str, Any] | None = None, default_owner: str = "000000000000",
                 kms_keys: KmsKeys | None = None) -> None:
        self.metadata = metadata
        self.default_owner = default_owner  # the owner of buckets made before owners were recorded
        self.objects = objects
        self.wake_worker = wake_worker
        self.training_budget_s = training_budget_s
        self.models = models
        self.training_options = training_options or {}
        # The server's KMS keys, to check a version's KmsKeyId against. None means KMS is not configured:
        # KmsKeyId is then accepted and stored unchecked, as before KMS existed.
        self.kms_keys = kms_keys
        # NextToken values are MACed with the server's master key (the one KMS wraps key material with).
        self.page_tokens = PageTokens(kms_keys.master_key.mac if kms_keys is not None else None)

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

    def _dataset(self, arn: str) -> Any:
        row = self.metadata.get_dataset(arn)
        if row is None:
            raise ResourceNotFoundException(
                f"The dataset {arn} does not exist. Check the ARN (DescribeProjects lists each project's "
                "datasets under Datasets)."
            )
        return row

    def _check_bucket_access(self, ctx: RequestContext, bucket: str, action: str, key: str = "*") -> None:
        """AccessDeniedException unless the caller may do `action` on the object (its bucket's owner's
        policies, or the bucket policy for another account's bucket), as S3 itself would decide."""
        if is_internal_bucket(bucket) or not self.objects.bucket_exists(bucket):
            return  # a missing bucket is reported where it matters (at once, or by the job)
        s3_access.check(self.objects, ctx, action, bucket, s3_access.object_arn(bucket, key),
                        default_owner=self.default_owner)

    def _resolve_kms_key(self, ctx: RequestContext, key_id: str | None) -> str | None:
        """The ARN of the key a CreateProjectVersion/CopyProjectVersion names (None: no key, or no KMS)."""
        if not key_id or self.kms_keys is None:
            return None
        from openrek.service.rekognition.version_keys import resolve_for_request

        return resolve_for_request(self.kms_keys, ctx, key_id)

    def _check_output_bucket(self, ctx: RequestContext, output: dict[str, Any]) -> str:
        bucket = output.get("S3Bucket")
        if not bucket:
            raise InvalidParameterException("OutputConfig.S3Bucket is required: name the bucket for training results.")
        if is_internal_bucket(bucket) or not self.objects.bucket_exists(bucket):
            raise InvalidParameterException(
                f"The output bucket {bucket} does not exist or cannot be written. Create it "
                f"(aws s3 mb s3://{bucket}) or choose another OutputConfig.S3Bucket."
            )
        self._check_bucket_access(ctx, bucket, "s3:PutObject", (output.get("S3KeyPrefix") or "") + "*")
        return bucket
