"""Serializes a provider's result dict into a JSON 1.1 body (any service), following the operation's
output shape.

Timestamps travel as epoch seconds (numbers), blobs as base64; members the shape does not know
and `None` values are dropped, so the provider cannot leak internal fields onto the wire. Only JSON
goes out: a non-finite float member is left out (with a warning), and any other one fails the
answer rather than put a bare `NaN` in the body.
"""

from __future__ import annotations

import base64
import json
import logging
import math
from datetime import datetime
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

log = logging.getLogger("openrek.api")


def _epoch(value: Any) -> float | int:
    if isinstance(value, datetime):
        return round(value.timestamp(), 3)
    return value


def _finite(value: Any) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def _shape_value(shape: Shape, value: Any) -> Any:
    if isinstance(shape, StructureShape):
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            item = value.get(name)
            if item is None:
                continue
            if member.type_name in ("float", "double") and not _finite(item):
                # Stored before NaN was refused on input: leave the member out rather than fail the listing.
                log.warning("dropped the non-finite %s %s=%r from an answer", shape.name, name, item)
                continue
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
    # allow_nan=False: a NaN or infinity would go out as a bare `NaN`, which no JSON parser reads; better
    # the operation's 500 (and a log line to find the bug) than an answer the client cannot parse.
    return json.dumps(_shape_value(shape, result), separators=(",", ":"), allow_nan=False).encode()


def serialize_error(code: str, message: str, request_id: str) -> bytes:
    body = {"__type": code, "Message": message, "Code": code, "Logref": request_id}
    return json.dumps(body).encode()
