"""Declarative operation registration: `@operation("CreateDataset")` on a provider method.

`bind_operations(provider)` finds every decorated method along the provider's classes and returns
the AWS operation name → `Operation` map the wire layer dispatches on. An AWS operation with no
method stays unimplemented (the wire layer answers NotImplementedException). Calling an `Operation`
first applies the tenancy rule (`tenancy.py`: a request names only its caller's resources) and then
authorization (`authorization.py`: the caller's policies allow `rekognition:<Operation>` on the resource).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from openrek.service.context import RequestContext
from openrek.service.rekognition import authorization, tenancy

Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any]]
F = TypeVar("F", bound=Callable[..., dict[str, Any]])
_ATTR = "__aws_operation__"


@dataclass(frozen=True)
class OperationSpec:
    name: str
    # Touches only the metadata store (milliseconds): the wire layer may run it on the event loop.
    metadata_only: bool = False


@dataclass(frozen=True)
class Operation:
    """A provider method bound to its AWS operation."""

    spec: OperationSpec
    call: Handler

    @property
    def metadata_only(self) -> bool:
        return self.spec.metadata_only

    def __call__(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tenancy.check(ctx, self.spec.name, params)
        authorization.check_operation(ctx, self.spec.name, params)
        return self.call(ctx, params)


def operation(name: str, *, metadata_only: bool = False) -> Callable[[F], F]:
    """Marks a provider method as the implementation of the AWS operation `name`."""

    def mark(fn: F) -> F:
        setattr(fn, _ATTR, OperationSpec(name, metadata_only))
        return fn

    return mark


def bind_operations(provider: object) -> dict[str, Operation]:
    found: dict[str, Operation] = {}
    for cls in reversed(type(provider).__mro__):
        for attr, value in vars(cls).items():
            spec = getattr(value, _ATTR, None)
            if isinstance(spec, OperationSpec):
                found[spec.name] = Operation(spec, getattr(provider, attr))
    return found
