"""Declarative operation registration for any service: `@operation("CreateKey")` on a provider method.

`bind_operations(provider, guard)` finds every decorated method along the provider's classes and returns
the AWS operation name → `Operation` map the wire layer dispatches on. An AWS operation with no method
stays unimplemented (the wire layer answers NotImplementedException). A service's `guard`, when given,
runs before each call with the context, the operation's name and its parameters (Rekognition's tenancy
rule is one); it raises the service's error to refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from openrek.service.context import RequestContext

Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any]]
Guard = Callable[[RequestContext, str, dict[str, Any]], None]
MetadataOnly = bool | Callable[[dict[str, Any]], bool]  # or a function of the request's parameters
F = TypeVar("F", bound=Callable[..., dict[str, Any]])
_ATTR = "__aws_operation__"


@dataclass(frozen=True)
class OperationSpec:
    name: str
    # Touches only the metadata store (milliseconds): the wire layer may run it on the event loop. A
    # function of the request's parameters where that depends on the request.
    metadata_only: MetadataOnly = False


@dataclass(frozen=True)
class Operation:
    """A provider method bound to its AWS operation (and its service's guard)."""

    spec: OperationSpec
    call: Handler
    guard: Guard | None = None

    def metadata_only(self, params: dict[str, Any]) -> bool:
        """Whether this request touches only metadata (the wire layer then runs it on the event loop)."""
        only = self.spec.metadata_only
        return only(params) if callable(only) else only

    def __call__(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if self.guard is not None:
            self.guard(ctx, self.spec.name, params)
        return self.call(ctx, params)


def operation(name: str, *, metadata_only: MetadataOnly = False) -> Callable[[F], F]:
    """Marks a provider method as the implementation of the AWS operation `name`."""

    def mark(fn: F) -> F:
        setattr(fn, _ATTR, OperationSpec(name, metadata_only))
        return fn

    return mark


def bind_operations(provider: object, guard: Guard | None = None) -> dict[str, Operation]:
    found: dict[str, Operation] = {}
    for cls in reversed(type(provider).__mro__):
        for attr, value in vars(cls).items():
            spec = getattr(value, _ATTR, None)
            if isinstance(spec, OperationSpec):
                found[spec.name] = Operation(spec, getattr(provider, attr), guard)
    return found
