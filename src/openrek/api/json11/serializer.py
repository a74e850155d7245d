"""Serializes a provider's result dict into a JSON 1.1 body (any service), following the operation's
output shape.

Timestamps travel as epoch seconds (numbers), blobs as base64; members the shape does not know
and `None` values are dropped, so the provider cannot leak internal fields onto the wire.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape


def _epoch(value: Any) -> float | int:
    if isinstance(value, datetime):
        return round(value.timestamp(), 3)
    return value


def _shape_value(shape: Shape, value: Any) -> Any:
    if isinstance(shape, StructureShape):
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            item = value.get(name)
            if item is not None:
                out[name] = _shape_value(member, item)
        return out
    if isinstance(shape, ListShape):
        return [_shape_value(shape.member, item) for item in value]
    if isinstance(shape, MapShape):
        return {k: _shape_value(shape.value, v) for k, v in value.items()}
    if shape.type_name == "timestamp":
        return _epoch(value)
    if shape.type_name == "blob":
        raw = value if isinstance(value, bytes) else str(value).encode()
        return base64.b64encode(raw).decode("ascii")
    return value


def serialize_output(shape: StructureShape | None, result: dict[str, Any] | None) -> bytes:
    if shape is None or not result:
        return b"{}"
    return json.dumps(_shape_value(shape, result), separators=(",", ":")).encode()


def serialize_error(code: str, message: str, request_id: str) -> bytes:
    body = {"__type": code, "Message": message, "Code": code, "Logref": request_id}
    return json.dumps(body).encode()
