"""IAM condition operators: String*, Arn*, Numeric*, Date*, Bool, IpAddress, Null, `…IfExists`, set qualifiers.

`compile_condition(operator, key, values)` turns one `"Operator": {"key": values}` entry of a Condition block
into a test of a request's condition keys; an unknown operator or a value it cannot read is a ConditionError
(the grammar checker reports it; the evaluator lets such a statement match nothing).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from openrek.security.policy_patterns import Context, Pattern, Style

QUALIFIERS = ("ForAnyValue", "ForAllValues")

# A value test: (request value, request context) -> does it match this one policy value?
_Test = Callable[[str, Context], bool]


class ConditionError(ValueError):
    """A condition entry the evaluator cannot read, in words a person can act on."""


def _string(style: Style, ignore_case: bool) -> Callable[[str, bool], _Test]:
    def make(value: str, variables: bool) -> _Test:
        return Pattern(value, style, ignore_case=ignore_case, variables=variables).matches
    return make


def _number(text: str) -> float:
    n = float(text)
    if math.isnan(n):
        raise ValueError(text)
    return n


def _date(text: str) -> float:
    """Seconds since the epoch of an ISO 8601 date/time (naive: UTC) or of an epoch number."""
    t = text.strip()
    try:
        return float(t)
    except ValueError:
        pass
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    d = datetime.fromisoformat(t)
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.timestamp()


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "Equals": lambda a, b: a == b,
    "LessThan": lambda a, b: a < b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanEquals": lambda a, b: a >= b,
}


def _ordered(parse: Callable[[str], float], compare: Callable[[float, float], bool], what: str
             ) -> Callable[[str, bool], _Test]:
    def make(value: str, variables: bool) -> _Test:
        try:
            bound = parse(value)
        except ValueError:
            raise ConditionError(f"{value!r} is not {what}.") from None

        def test(v: str, ctx: Context) -> bool:
            try:
                return compare(parse(v), bound)
            except ValueError:
                return False
        return test
    return make


def _bool(value: str, variables: bool) -> _Test:
    folded = value.lower()
    if folded not in ("true", "false"):
        raise ConditionError(f'Bool takes "true" or "false", not {value!r}.')
    return lambda v, ctx: v.lower() == folded


@lru_cache(maxsize=1024)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _ip(value: str, variables: bool) -> _Test:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ConditionError(f"{value!r} is not an IP address or CIDR block such as 203.0.113.0/24.") from None

    def test(v: str, ctx: Context) -> bool:
        address = _address(v)
        return address is not None and address in network
    return test


# Base operator → (value test maker, negated, takes policy variables).
_OPERATORS: dict[str, tuple[Callable[[str, bool], _Test], bool, bool]] = {
    "StringEquals": (_string(Style.LITERAL, False), False, True),
    "StringNotEquals": (_string(Style.LITERAL, False), True, True),
    "StringEqualsIgnoreCase": (_string(Style.LITERAL, True), False, True),
    "StringNotEqualsIgnoreCase": (_string(Style.LITERAL, True), True, True),
    "StringLike": (_string(Style.GLOB, False), False, True),
    "StringNotLike": (_string(Style.GLOB, False), True, True),
    # AWS documents ArnEquals and ArnLike alike: each ARN part compared, wildcards allowed.
    "ArnEquals": (_string(Style.ARN, False), False, True),
    "ArnLike": (_string(Style.ARN, False), False, True),
    "ArnNotEquals": (_string(Style.ARN, False), True, True),
    "ArnNotLike": (_string(Style.ARN, False), True, True),
    "Bool": (_bool, False, False),
    "IpAddress": (_ip, False, False),
    "NotIpAddress": (_ip, True, False),
}
for _name, _cmp in _COMPARE.items():
    _OPERATORS[f"Numeric{_name}"] = (_ordered(_number, _cmp, "a number"), False, False)
    _OPERATORS[f"Date{_name}"] = (_ordered(_date, _cmp, "an ISO 8601 date or epoch seconds"), False, False)
_OPERATORS["NumericNotEquals"] = (_OPERATORS["NumericEquals"][0], True, False)
_OPERATORS["DateNotEquals"] = (_OPERATORS["DateEquals"][0], True, False)


@dataclass(frozen=True)
class Operator:
    """A condition operator as written: its base, set qualifier and IfExists suffix."""

    name: str
    base: str
    qualifier: str | None
    if_exists: bool


def parse_operator(name: str) -> Operator:
    """The operator `name` spells ("ForAllValues:StringLikeIfExists", …); ConditionError if unknown."""
    qualifier, sep, rest = name.partition(":")
    if not sep:
        qualifier, rest = None, name
    elif qualifier not in QUALIFIERS:
        raise ConditionError(f"{name!r} has an unknown set qualifier; use ForAnyValue: or ForAllValues:.")
    if_exists = rest.endswith("IfExists") and rest != "IfExists"
    base = rest[: -len("IfExists")] if if_exists else rest
    if base == "Null":
        if if_exists or qualifier:
            raise ConditionError("Null takes neither a set qualifier nor IfExists.")
    elif base not in _OPERATORS:
        raise ConditionError(f"{name!r} is not a condition operator (e.g. StringEquals, ArnLike, IpAddress, "
                             "NumericLessThan, DateGreaterThan, Bool, Null).")
    return Operator(name, base, qualifier, if_exists)


def _policy_values(raw: Any, where: str) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise ConditionError(f"{where} has no values.")
    out = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, str):
            out.append(item)
        elif isinstance(item, int | float):
            out.append(str(item))
        else:
            raise ConditionError(f"{where} values must be strings, numbers or booleans.")
    return out


class Condition:
    """One key under one operator: true or false for a request's condition keys."""

    __slots__ = ("operator", "key", "_tests", "_negated", "_null")

    def __init__(self, operator: Operator, key: str, values: Sequence[str], variables: bool) -> None:
        self.operator = operator
        self.key = key.lower()  # condition key names are case-insensitive
        self._null: set[bool] | None = None
        self._tests: tuple[_Test, ...] = ()
        self._negated = False
        if operator.base == "Null":
            wanted = {v.lower() for v in values}
            if not wanted <= {"true", "false"}:
                raise ConditionError(f'Null takes "true" (the key is absent) or "false" (present), not {values}.')
            self._null = {w == "true" for w in wanted}
            return
        make, self._negated, takes_variables = _OPERATORS[operator.base]
        self._tests = tuple(make(v, variables and takes_variables) for v in values)

    def holds(self, ctx: Context) -> bool:
        values = ctx.get(self.key)
        if self._null is not None:
            return (not values) in self._null
        op = self.operator
        if not values:  # absent, or an empty set
            if op.if_exists or op.qualifier == "ForAllValues":
                return True
            if op.qualifier == "ForAnyValue":
                return False
            return self._negated  # "not equal to" holds for a key the request does not have
        tests, negated = self._tests, self._negated
        if op.qualifier == "ForAllValues":
            return all(any(t(v, ctx) for t in tests) != negated for v in values)
        if op.qualifier == "ForAnyValue":
            return any(any(t(v, ctx) for t in tests) != negated for v in values)
        hit = any(t(v, ctx) for v in values for t in tests)
        return hit != negated

    def __repr__(self) -> str:
        return f"Condition({self.operator.name}, {self.key})"


def compile_condition(operator: str, key: str, raw_values: Any, *, variables: bool = True) -> Condition:
    """One condition entry; `variables` False (a 2008-10-17 policy) reads `${…}` literally."""
    op = parse_operator(operator)
    if not isinstance(key, str) or not key:
        raise ConditionError(f"{operator} needs condition key names.")
    return Condition(op, key, _policy_values(raw_values, f"{operator}.{key}"), variables)


def compile_block(block: Any, *, variables: bool = True) -> tuple[Condition, ...]:
    """All entries of a statement's Condition block (they must all hold)."""
    if not isinstance(block, dict):
        raise ConditionError('Condition must map operators to objects, e.g. {"StringEquals": {"aws:SourceAccount": '
                             '"123456789012"}}.')
    out = []
    for operator, keys in block.items():
        if not isinstance(keys, dict) or not keys:
            raise ConditionError(f"Condition.{operator} must be an object of condition keys and values.")
        for key, raw in keys.items():
            out.append(compile_condition(operator, key, raw, variables=variables))
    return tuple(out)
