"""Authorization: may this caller do this action on this resource? One question for every service (Custom
Labels, S3, …), answered from the caller in the `RequestContext`.

The account root may do anything in its account; an IAM user only what its identity-based policies allow,
decided by `security/policy_evaluation.py` with AWS's semantics. A refusal is AccessDeniedException with
AWS's wording ("User: … is not authorized to perform: … on resource: … because …").
"""

from __future__ import annotations

from typing import Any

from openrek.security.policy_evaluation import AuthorizationRequest, evaluate
from openrek.service.context import RequestContext
from openrek.service.errors import AccessDeniedException


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
