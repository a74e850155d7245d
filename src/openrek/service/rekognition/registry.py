"""Rekognition's operation registration: the generic `@operation` (`openrek.service.registry`) with a guard
that applies the tenancy rule (`tenancy.py`: a request names only its caller's resources) and then
authorization (`authorization.py`: the caller's policies allow `rekognition:<Operation>` on the resource)."""

from __future__ import annotations

from typing import Any

from openrek.service.context import RequestContext
from openrek.service.registry import Operation, OperationSpec, operation
from openrek.service.registry import bind_operations as _bind
from openrek.service.rekognition import authorization, tenancy

__all__ = ["Operation", "OperationSpec", "bind_operations", "operation"]


def _guard(ctx: RequestContext, name: str, params: dict[str, Any]) -> None:
    tenancy.check(ctx, name, params)
    authorization.check_operation(ctx, name, params)


def bind_operations(provider: object) -> dict[str, Operation]:
    return _bind(provider, guard=_guard)
