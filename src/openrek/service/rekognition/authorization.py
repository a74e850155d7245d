"""Custom Labels' side of authorization: which resource each operation acts on, so that
`openrek.service.authorization.check` can ask for `rekognition:<Operation>` on it; the S3 reads and writes an
operation does for the caller (`s3:GetObject` on a manifest, `s3:PutObject` on the output) ask `check` too.
"""

from __future__ import annotations

from typing import Any

from openrek.service.authorization import check
from openrek.service.context import RequestContext

__all__ = ["check", "check_operation", "resource_of"]

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


def check_operation(ctx: RequestContext, operation: str, params: dict[str, Any]) -> None:
    for resource in resource_of(ctx, operation, params):
        check(ctx, f"rekognition:{operation}", resource, _request_tags(params))


def _request_tags(params: dict[str, Any]) -> dict[str, Any]:
    tags = params.get("Tags") or {}
    keys: dict[str, Any] = {f"aws:RequestTag/{k}": v for k, v in tags.items()} if isinstance(tags, dict) else {}
    if tags:
        keys["aws:TagKeys"] = list(tags)
    return keys
