"""May this caller use this KMS key for this action? One rule for the KMS API, for S3's SSE-KMS and for a
Custom Labels version's KmsKeyId: the key policy (the one CreateKey stored, AWS's default when given none)
together with the caller's identity policies, by KMS's rule (`evaluate_key_policy`): the default key
policy names the account root, which hands the decision to the account's IAM policies; a key policy that
names neither the caller nor its account locks it out, root included.

Operations that name no key (CreateKey, ListKeys, ListAliases) need only an identity-policy Allow on "*".
Grants do not authorize here (openrek records them but does not let a grantee use a key through one).
"""

from __future__ import annotations

import uuid
from typing import Any

from openrek.security.kms_errors import KmsError
from openrek.security.kms_keys import KeyRecord, KmsKeys, alias_arn
from openrek.security.policy_evaluation import AuthorizationRequest, Policy, PolicyKind, evaluate_key_policy
from openrek.service import authorization
from openrek.service.context import RequestContext
from openrek.service.errors import AccessDeniedException

# Operations that act on no one key: identity policies alone decide, on "*".
ACCOUNT_WIDE = frozenset({"CreateKey", "ListKeys", "ListAliases", "RetireGrant"})


def check_key(caller: RequestContext, action: str, record: KeyRecord) -> None:
    """AccessDeniedException unless `caller` may do `action` (e.g. "kms:Decrypt") with the key."""
    request = AuthorizationRequest(
        principal_arn=caller.principal_arn or f"arn:aws:iam::{caller.account}:root",
        principal_account=caller.account, is_root=caller.identity_policies is None, action=action,
        resource_arn=record.arn, resource_account=record.account)
    key_policy = Policy.parse("key policy", record.policy, PolicyKind.RESOURCE, strict=False)
    decision = evaluate_key_policy(request, caller.identity_policies or (), [key_policy])
    if not decision.allowed:
        raise AccessDeniedException(decision.message)


def _key_of(keys: KmsKeys, ctx: RequestContext, operation: str, params: dict[str, Any]) -> KeyRecord | None:
    """The key an operation acts on, or None when it names none that exists (the operation then answers
    NotFoundException or InvalidCiphertextException itself)."""
    try:
        if operation == "Decrypt" and not params.get("KeyId"):
            blob = params.get("CiphertextBlob") or b""
            if len(blob) < 17:
                return None
            return keys.resolve_key(ctx.account, ctx.region, str(uuid.UUID(bytes=bytes(blob[1:17]))))
        if operation == "CreateAlias":
            return keys.resolve_key(ctx.account, ctx.region, params["TargetKeyId"])
        if operation == "DeleteAlias":
            return keys.resolve_key(ctx.account, ctx.region, params["AliasName"])
        if params.get("KeyId"):
            return keys.resolve_key(ctx.account, ctx.region, params["KeyId"])
    except (KmsError, ValueError, TypeError, KeyError):
        return None
    return None


def guard(keys: KmsKeys) -> Any:
    """The KMS provider's guard: `kms:<Operation>` on the key it acts on (and, for alias operations, on
    the alias too, as AWS asks)."""

    def check(ctx: RequestContext, operation: str, params: dict[str, Any]) -> None:
        action = f"kms:{operation}"
        if operation in ("CreateAlias", "DeleteAlias") and isinstance(params.get("AliasName"), str):
            authorization.check(ctx, action, alias_arn(ctx.region, ctx.account, params["AliasName"]))
        if operation in ACCOUNT_WIDE or (operation == "ListAliases" and not params.get("KeyId")):
            authorization.check(ctx, action, "*")
            return
        record = _key_of(keys, ctx, operation, params)
        if record is not None:
            check_key(ctx, action, record)

    return check
