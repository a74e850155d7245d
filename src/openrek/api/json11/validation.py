"""Validates a JSON 1.1 request (any service) against botocore's input shape, producing AWS's
ValidationException text.

AWS (Coral) reports constraint failures as
`N validation error(s) detected: Value '<v>' at '<path>' failed to satisfy constraint: Member must …`,
with member paths in lower camel case and 1-based `.N.member` steps for list items. Wrong JSON
types are a SerializationException, as AWS's JSON services report them.
"""

from __future__ import annotations

import base64
import binascii
import math
from functools import lru_cache
from typing import Any

import regex
from botocore.model import ListShape, MapShape, Shape, StructureShape

from openrek.service.errors import SerializationException, ValidationException

_MAX_LISTED = 10
_MAX_ECHOED = 100  # characters of a value repeated in a message
# The ranges of Smithy's integer and long; a JSON number outside them does not deserialize (as on AWS).
_INTEGRAL_RANGE = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> regex.Pattern[str] | None:
    try:
        return regex.compile(pattern)
    except regex.error:
        return None


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _render(value: Any) -> str:
    """The value as AWS echoes it in a message, cut to `_MAX_ECHOED` characters: an error about a 50 MB
    member is not a 50 MB answer. Blobs are never echoed (AWS shows the Java buffer, not the bytes)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "'true'" if value else "'false'"
    if isinstance(value, (bytes, bytearray)):
        return f"'java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]'"
    if isinstance(value, list):
        text = "[" + ", ".join(_shown(v) for v in value[:_MAX_ECHOED]) + "]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{_shown(k)}={_shown(v)}" for k, v in list(value.items())[:_MAX_ECHOED]) + "}"
    else:
        text = str(value)
    return f"'{_cut(text)}'"


def _shown(value: Any) -> str:
    """A list item or map entry inside an echoed value (nested containers are not spelled out)."""
    if isinstance(value, list):
        return "[…]" if value else "[]"
    if isinstance(value, dict):
        return "{…}" if value else "{}"
    return _cut(str(value))


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_ECHOED else text[:_MAX_ECHOED] + "…"


class _Collector:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, value: Any, path: str, constraint: str) -> None:
        self.errors.append(f"Value {_render(value)} at '{path}' failed to satisfy constraint: {constraint}")


def _type_error(path: str, value: Any, expected: str) -> SerializationException:
    kind = type(value).__name__
    kind = {"str": "string", "int": "number", "float": "number", "bool": "boolean", "dict": "object",
            "list": "array", "NoneType": "null"}.get(kind, kind)
    return SerializationException(
        f"Expected {expected} at '{path or 'body'}' but found a JSON {kind}: {_render(value)}."
    )


def _length_constraints(shape: Shape, value: Any, size: int, path: str, out: _Collector, what: str) -> None:
    lo = shape.metadata.get("min")
    hi = shape.metadata.get("max")
    if lo is not None and size < lo:
        out.add(value, path, f"Member must have {what} greater than or equal to {lo}")
    if hi is not None and size > hi:
        out.add(value, path, f"Member must have {what} less than or equal to {hi}")


def _check_string(shape: Shape, value: Any, path: str, out: _Collector) -> None:
    if not isinstance(value, str):
        raise _type_error(path, value, "a string")
    _length_constraints(shape, value, len(value), path, out, "length")
    pattern = shape.metadata.get("pattern")
    if pattern:
        compiled = _compiled(pattern)
        if compiled is not None and compiled.fullmatch(value) is None:
            out.add(value, path, f"Member must satisfy regular expression pattern: {pattern}")
    if shape.enum and value not in shape.enum:
        out.add(value, path, "Member must satisfy enum value set: [" + ", ".join(shape.enum) + "]")


def _check_number(shape: Shape, value: Any, path: str, out: _Collector) -> None:
    integral = shape.type_name in ("integer", "long")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _type_error(path, value, "an integer" if integral else "a number")
    if isinstance(value, float) and not math.isfinite(value):  # 1e999 parses as inf; NaN cannot be echoed back
        raise _type_error(path, value, "a finite number")
    if integral and isinstance(value, float) and not value.is_integer():
        raise _type_error(path, value, "an integer")
    if integral:
        low, high = _INTEGRAL_RANGE[shape.type_name]
        if not low <= value <= high:
            raise SerializationException(
                f"The number at '{path}' is out of range for {'an' if shape.type_name == 'integer' else 'a'} "
                f"{shape.type_name} ({low} to {high}): "
                f"{_render(value)}.")
    lo = shape.metadata.get("min")
    hi = shape.metadata.get("max")
    if lo is not None and value < lo:
        out.add(value, path, f"Member must have value greater than or equal to {lo}")
    if hi is not None and value > hi:
        out.add(value, path, f"Member must have value less than or equal to {hi}")


def _check(shape: Shape, value: Any, path: str, out: _Collector) -> Any:
    """Checks `value` against `shape`; returns the value converted for the service (blobs decoded)."""
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            raise _type_error(path, value, "an object")
        result: dict[str, Any] = {}
        for name in shape.required_members:
            if value.get(name) is None:
                out.add(None, _join(path, name), "Member must not be null")
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                result[name] = _check(member, value[name], _join(path, name), out)
        return result
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            raise _type_error(path, value, "an array")
        _length_constraints(shape, value, len(value), path, out, "length")
        return [_check(shape.member, item, f"{path}.{i}.member", out) for i, item in enumerate(value, 1)]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            raise _type_error(path, value, "an object")
        _length_constraints(shape, value, len(value), path, out, "length")
        keys = _Collector()
        values = _Collector()
        converted = {}
        for k, v in value.items():
            _check(shape.key, k, path, keys)
            converted[k] = _check(shape.value, v, path, values)
        if keys.errors:
            out.add(value, path, "Map keys must satisfy constraint: [" + ", ".join(_constraints(keys)) + "]")
        if values.errors:
            out.add(value, path, "Map value must satisfy constraint: [" + ", ".join(_constraints(values)) + "]")
        return converted
    if kind == "string":
        _check_string(shape, value, path, out)
        return value
    if kind in ("integer", "long", "float", "double"):
        _check_number(shape, value, path, out)
        return int(value) if kind in ("integer", "long") else float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _type_error(path, value, "a boolean")
        return value
    if kind == "blob":
        if not isinstance(value, str):
            raise _type_error(path, value, "a base64-encoded string")
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SerializationException(f"Value at '{path}' is not valid base64.") from exc
        _length_constraints(shape, data, len(data), path, out, "length")
        return data
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise _type_error(path, value, "a timestamp")
        return value
    return value


def _constraints(collector: _Collector) -> list[str]:
    seen: list[str] = []
    for err in collector.errors:
        text = err.split("failed to satisfy constraint: ", 1)[-1]
        if text not in seen:
            seen.append(text)
    return seen


def _join(path: str, name: str) -> str:
    member = _lower_camel(name)
    return f"{path}.{member}" if path else member


def validate_input(shape: StructureShape | None, params: Any) -> dict[str, Any]:
    """Returns the validated parameters (blobs decoded) or raises AWS's error for them."""
    if shape is None:
        if params not in ({}, None):
            return dict(params) if isinstance(params, dict) else {}
        return {}
    if not isinstance(params, dict):
        raise SerializationException("The request body must be a JSON object.")
    out = _Collector()
    result = _check(shape, params, "", out)
    if out.errors:
        count = len(out.errors)
        noun = "error" if count == 1 else "errors"
        listed = "; ".join(out.errors[:_MAX_LISTED])
        raise ValidationException(f"{count} validation {noun} detected: {listed}")
    return result
