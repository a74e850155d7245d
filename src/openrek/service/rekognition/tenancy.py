"""Tenancy: a request may name only its own account's Custom Labels resources.

Every ARN in a request (any member whose name ends in `Arn`, at any depth) must carry the caller's
account; another account's ARN is refused as AWS refuses it without a resource policy —
`AccessDeniedException` naming the action and the resource. The one exception AWS makes is
CopyProjectVersion's source, which a project policy of the source account may open: that operation
evaluates the policies itself (copying.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from openrek.service.context import RequestContext
from openrek.service.errors import AccessDeniedException
from openrek.service.rekognition import arns


def _arns(value: Any, name: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _arns(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from _arns(item, name)
    elif isinstance(value, str) and name.endswith("Arn"):
        yield name, value


# Members another account may name, because a resource policy of theirs decides (the operation checks it).
_POLICY_DECIDED = {"CopyProjectVersion": {"SourceProjectArn", "SourceProjectVersionArn"}}


def check(ctx: RequestContext, operation: str, params: dict[str, Any]) -> None:
    """Raises AccessDeniedException if `params` name another account's resource."""
    exempt = _POLICY_DECIDED.get(operation, set())
    for member, value in _arns(params):
        if member in exempt:
            continue
        parsed = arns.parse_arn(value)
        if parsed is None or parsed.account == ctx.account:
            continue
        raise AccessDeniedException(
            f"User: arn:aws:iam::{ctx.account}:root is not authorized to perform: rekognition:{operation} on "
            f"resource: {value} ({member} belongs to account {parsed.account}; no resource-based policy allows "
            "access from this account).")
