"""Declarative registration for providers whose operations act for the authenticated caller (IAM, STS):
`@operation("CreateUser")` on a method `(caller, params) -> dict`; `bind_operations(provider)` maps AWS
operation names to the bound methods for the wire layer. An operation with no method stays unimplemented.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from openrek.security.identities import Caller

Handler = Callable[[Caller, dict[str, Any]], dict[str, Any]]
F = TypeVar("F", bound=Callable[..., dict[str, Any]])
_ATTR = "__aws_caller_operation__"


def operation(name: str) -> Callable[[F], F]:
    """Marks a provider method as the implementation of the AWS operation `name`."""

    def mark(fn: F) -> F:
        setattr(fn, _ATTR, name)
        return fn

    return mark


def bind_operations(provider: object) -> dict[str, Handler]:
    found: dict[str, Handler] = {}
    for cls in reversed(type(provider).__mro__):
        for attr, value in vars(cls).items():
            name = getattr(value, _ATTR, None)
            if isinstance(name, str):
                found[name] = getattr(provider, attr)
    return found
