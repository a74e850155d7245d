"""Who is calling and where: the parts of a request the service needs, free of HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestContext:
    account: str
    region: str
    request_id: str
    # The caller: an IAM user's ARN and its identity-based policies (parsed `Policy` objects); for the
    # account root (and an open server) `identity_policies` is None, and root may do anything in its account.
    principal_arn: str = ""
    identity_policies: tuple[Any, ...] | None = None
