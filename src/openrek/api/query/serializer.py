"""Output shapes and errors as query-protocol XML, the way botocore's QueryParser reads them:
`<OpResponse><OpResult>…</OpResult><ResponseMetadata><RequestId>…` for answers, and
`<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error><RequestId>…` for errors.

Lists are `<member>` children (repeated elements when flattened), maps `<entry><key/><value/></entry>`,
timestamps ISO 8601 in UTC, booleans `true`/`false`, blobs base64.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape


def _timestamp(value: Any) -> str:
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, UTC)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _text(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return _timestamp(value)
    if kind == "blob":
        raw = value.encode() if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).decode("ascii")
    return escape(str(value))


def _element(name: str, shape: Shape, value: Any, out: list[str]) -> None:
    if value is None:
        return
    if isinstance(shape, ListShape) and shape.serialization.get("flattened"):
        member_name = str(shape.member.serialization.get("name", name))
        for item in value:
            _element(member_name, shape.member, item, out)
        return
    out.append(f"<{name}>")
    _body(shape, value, out)
    out.append(f"</{name}>")


def _body(shape: Shape, value: Any, out: list[str]) -> None:
    if isinstance(shape, StructureShape):
        for member_name, member in shape.members.items():
            if member_name in value:
                _element(str(member.serialization.get("name", member_name)), member, value[member_name], out)
    elif isinstance(shape, ListShape):
        member_name = str(shape.member.serialization.get("name", "member"))
        for item in value:
            _element(member_name, shape.member, item, out)
    elif isinstance(shape, MapShape):
        key_name = str(shape.key.serialization.get("name", "key"))
        value_name = str(shape.value.serialization.get("name", "value"))
        for k, v in value.items():
            out.append("<entry>")
            _element(key_name, shape.key, k, out)
            _element(value_name, shape.value, v, out)
            out.append("</entry>")
    else:
        out.append(_text(shape, value))


def _namespace(op: OperationModel) -> str:
    ns = op.metadata.get("xmlNamespace")
    if isinstance(ns, dict):
        ns = ns.get("uri")
    return f' xmlns="{escape(str(ns))}"' if ns else ""


def serialize_output(op: OperationModel, result: dict[str, Any], request_id: str) -> bytes:
    """The answer document for `op`; members of `result` the output shape does not name are left out."""
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{op.name}Response{_namespace(op)}>']
    shape = op.output_shape
    if shape is not None:
        wrapper = str(shape.serialization.get("resultWrapper", f"{op.name}Result"))
        out.append(f"<{wrapper}>")
        _body(shape, result, out)
        out.append(f"</{wrapper}>")
    out.append(f"<ResponseMetadata><RequestId>{escape(request_id)}</RequestId></ResponseMetadata>")
    out.append(f"</{op.name}Response>")
    return "".join(out).encode("utf-8")


def serialize_error(code: str, message: str, request_id: str, sender: bool = True, namespace: str = "") -> bytes:
    ns = f' xmlns="{escape(namespace)}"' if namespace else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse{ns}><Error>'
            f"<Type>{'Sender' if sender else 'Receiver'}</Type><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message></Error><RequestId>{escape(request_id)}</RequestId>"
            "</ErrorResponse>").encode()
