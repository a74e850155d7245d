"""Form parameters of a query-protocol request as botocore's input shape: `A.B` for structure members,
`L.member.N` (or `L.N` when flattened) for lists, `M.entry.N.key`/`.value` for maps, scalars typed.

The inverse of botocore's QuerySerializer; text that is not a number or boolean where the shape wants one
becomes a ValidationError naming the parameter.
"""

from __future__ import annotations

from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from openrek.service.errors import ServiceError


class QueryParseError(ServiceError):
    code = "ValidationError"


def _name(shape: Shape, default: str) -> str:
    return str(shape.serialization.get("name", default))


def _has_prefix(params: dict[str, str], prefix: str) -> bool:
    dotted = prefix + "."
    return prefix in params or any(k.startswith(dotted) for k in params)


def _scalar(shape: Shape, text: str, key: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise QueryParseError(f"Value '{text}' for parameter {key} is not a valid integer.") from None
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            raise QueryParseError(f"Value '{text}' for parameter {key} is not a valid number.") from None
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise QueryParseError(f"Value '{text}' for parameter {key} is not a valid boolean (true or false).")
        return text.lower() == "true"
    return text  # strings, timestamps (ISO 8601 text) and blobs (base64, decoded by validation)


def _parse(shape: Shape, params: dict[str, str], prefix: str) -> Any:
    if isinstance(shape, StructureShape):
        found: dict[str, Any] = {}
        for member_name, member in shape.members.items():
            key = _name(member, member_name)
            full = f"{prefix}.{key}" if prefix else key
            if _has_prefix(params, full):
                found[member_name] = _parse(member, params, full)
        return found
    if isinstance(shape, ListShape):
        if params.get(prefix) == "":
            return []  # botocore sends an empty list as `Name=`
        if shape.serialization.get("flattened"):
            base = prefix
        else:
            base = f"{prefix}.{_name(shape.member, 'member')}"
        items = []
        i = 1
        while _has_prefix(params, f"{base}.{i}"):
            items.append(_parse(shape.member, params, f"{base}.{i}"))
            i += 1
        return items
    if isinstance(shape, MapShape):
        base = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        key_name, value_name = _name(shape.key, "key"), _name(shape.value, "value")
        result: dict[str, Any] = {}
        i = 1
        while _has_prefix(params, f"{base}.{i}"):
            key = params.get(f"{base}.{i}.{key_name}")
            if key is None:
                raise QueryParseError(f"Parameter {base}.{i}.{key_name} is missing.")
            result[key] = _parse(shape.value, params, f"{base}.{i}.{value_name}")
            i += 1
        return result
    text = params.get(prefix)
    if text is None:
        raise QueryParseError(f"Parameter {prefix} must be a single value, not a structure.")
    return _scalar(shape, text, prefix)


def parse_params(shape: StructureShape | None, params: dict[str, str]) -> dict[str, Any]:
    """The request's parameters (less Action and Version) shaped like boto3's call arguments."""
    if shape is None:
        return {}
    return dict(_parse(shape, params, ""))
