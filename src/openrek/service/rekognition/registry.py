"""Rekognition's operation registration: the generic `@operation` (`openrek.service.registry`) with the
tenancy rule (`tenancy.py`) as its guard, so a request names only its caller's resources."""

from __future__ import annotations

from openrek.service.registry import Operation, OperationSpec, operation
from openrek.service.registry import bind_operations as _bind
from openrek.service.rekognition import tenancy

__all__ = ["Operation", "OperationSpec", "bind_operations", "operation"]


def bind_operations(provider: object) -> dict[str, Operation]:
    return _bind(provider, guard=tenancy.check)
