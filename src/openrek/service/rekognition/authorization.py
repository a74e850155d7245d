"""Authorization: may this caller do this action on this resource? Asked for every Custom Labels operation
(`rekognition:<Operation>` on the resource AWS names) and for the S3 reads and writes an operation does on
the caller's behalf (`s3:GetObject` on a manifest, `s3:PutObject` on the output location).

The account root may do anything in its account; an IAM user only what its identity-based policies allow,
decided by `security/policy_evaluation.py` with AWS's semantics. A refusal is AccessDeniedException with
AWS's wording ("User: … is not authorized to perform: … on resource: … because …").
"""

from __future__ import annotations

from typing import Any

from openrek.security.policy_evaluation import AuthorizationRequest, evaluate
from openrek.service.context import RequestContext
from openrek.service.errors import AccessDeniedException

# The request member naming the resource an operation acts on, most specific first.
_RESOURCE_MEMBERS = ("ProjectVersionArn", "SourceProjectVersionArn", "DatasetArn", "ResourceArn", "ProjectArn",
                     "DestinationProjectArn")


def resource_of(ctx: RequestContext, operation: str, params: dict[str, Any]) -> list[str]:
    """The ARNs `operation` acts on (checked each), or ["*"] for account-wide calls like DescribeProjects."""
    if operation == "CreateProject":
        return [f"arn:aws:rekognition:{ctx.region}:{ctx.account}:project/{params['ProjectName']}/*"]
    if operation == "DistributeDatasetEntries":
        return [d["Arn"] for d in params.get("Datasets") or []] or ["*"]
    for member in _RESOURCE_MEMBERS:
        if params.get(member):
            return [params[member]]
    return ["*"]


def check(ctx: RequestContext, action: str, resource: str, condition_keys: dict[str, Any] | None = None) -> None:
    """AccessDeniedException unless the caller may do `action` on `resource` (always, for the root)."""
    if ctx.identity_policies is None:
        return
    request = AuthorizationRequest(principal_arn=ctx.principal_arn, principal_account=ctx.account, is_root=False,
                                   action=action, resource_arn=resource, resource_account=ctx.account,
                                   condition_keys=condition_keys or {})
    decision = evaluate(request, identity_policies=ctx.identity_policies)
    if not decision.allowed:
        raise AccessDeniedException(decision.message)


def check_operation(ctx: RequestContext, operation: str, params: dict[str, Any]) -> None:
    for resource in resource_of(ctx, operation, params):
        check(ctx, f"rekognition:{operation}", resource, _request_tags(params))


def _request_tags(params: dict[str, Any]) -> dict[str, Any]:
    tags = params.get("Tags") or {}
    keys: dict[str, Any] = {f"aws:RequestTag/{k}": v for k, v in tags.items()} if isinstance(tags, dict) else {}
    if tags:
        keys["aws:TagKeys"] = list(tags)
    return keys
