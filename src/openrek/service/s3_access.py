"""May this caller read or write this object? The one rule for S3 access, asked by the S3 API, by
Rekognition's request-time checks and by training jobs, which read and write for their caller.

In the bucket owner's account the caller's identity policies decide (the root may do anything). From
another account the bucket policy must allow the caller and, for an IAM user, its identity policies too, as
AWS's cross-account rule says. A refusal is AccessDeniedException naming the action and resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openrek.security.policy_evaluation import AuthorizationRequest, Policy, PolicyKind, evaluate
from openrek.service import authorization
from openrek.service.context import RequestContext
from openrek.service.errors import AccessDeniedException
from openrek.store.objects import ObjectStore

# Bucket operations only the owner may do, whatever its bucket policy says.
OWNER_ONLY = frozenset({"s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy", "s3:DeleteBucket"})


def object_arn(bucket: str, key: str | None = None) -> str:
    return f"arn:aws:s3:::{bucket}" + (f"/{key}" if key is not None else "")


def check(objects: ObjectStore, caller: RequestContext, action: str, bucket: str, resource: str, *,
          default_owner: str, conditions: Mapping[str, Any] | None = None) -> None:
    """AccessDeniedException unless `caller` may do `action` on `resource` in `bucket` (a bucket that does not
    exist: the caller's own policies decide, and the operation reports the missing bucket)."""
    condition_keys = dict(conditions or {})
    if not objects.bucket_exists(bucket):
        authorization.check(caller, action, resource, condition_keys)
        return
    owner = objects.bucket_owner(bucket) or default_owner
    if owner == caller.account:
        authorization.check(caller, action, resource, condition_keys)
        return
    policy = None if action in OWNER_ONLY else objects.bucket_policy(bucket)
    if policy is None:
        raise AccessDeniedException(
            f"User: {caller.principal_arn or caller.account} is not authorized to perform: {action} on resource: "
            f"{resource}: the bucket {bucket} belongs to another account, and no bucket policy of it allows you.")
    decision = evaluate(
        AuthorizationRequest(principal_arn=caller.principal_arn or f"arn:aws:iam::{caller.account}:root",
                             principal_account=caller.account, is_root=caller.identity_policies is None,
                             action=action, resource_arn=resource, resource_account=owner,
                             condition_keys=condition_keys),
        identity_policies=caller.identity_policies or (),
        resource_policies=[Policy.parse("bucket policy", policy, PolicyKind.RESOURCE, strict=False)])
    if not decision.allowed:
        raise AccessDeniedException(decision.message)
