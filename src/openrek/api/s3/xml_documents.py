"""S3's XML documents: rendering response bodies and error bodies, parsing the request bodies we accept.

Element names and nesting follow botocore's s3 model (botocore/data/s3/2006-03-01/service-2.json).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from datetime import datetime
from email.utils import format_datetime

from openrek.api.s3.errors import S3Error, shown_value
from openrek.api.s3.numbers import decimal

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
OWNER_ID = "openrek"
OWNER_NAME = "openrek"

Element = ET.Element


def iso8601(dt: datetime) -> str:
    """The timestamp form S3 uses in XML: 2006-02-03T16:45:09.000Z."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def http_date(dt: datetime) -> str:
    """The timestamp form of HTTP headers (RFC 1123 / 7231): Fri, 03 Feb 2006 16:45:09 GMT."""
    return format_datetime(dt.replace(microsecond=0), usegmt=True)


def root(tag: str, namespaced: bool = True) -> Element:
    element = ET.Element(tag)
    if namespaced:
        element.set("xmlns", S3_NS)
    return element


def add(parent: Element, tag: str, text: str | int | bool | None = None) -> Element:
    child = ET.SubElement(parent, tag)
    if isinstance(text, bool):
        child.text = "true" if text else "false"
    elif text is not None:
        child.text = str(text)
    return child


def add_owner(parent: Element, tag: str = "Owner") -> Element:
    owner = add(parent, tag)
    add(owner, "ID", OWNER_ID)
    add(owner, "DisplayName", OWNER_NAME)
    return owner


def to_bytes(element: Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="utf-8",
                                                                      xml_declaration=False)


def error_document(code: str, message: str, request_id: str, fields: Sequence[tuple[str, str]] = ()) -> bytes:
    error = root("Error", namespaced=False)
    add(error, "Code", code)
    add(error, "Message", message)
    for name, value in fields:
        add(error, name, value)
    add(error, "RequestId", request_id)
    add(error, "HostId", request_id)
    return to_bytes(error)


# ------------------------------------------------------------------------------------------------ parsing


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_body(body: bytes, expected_root: str) -> Element:
    """Parse a request body whose root element must be `expected_root` (any namespace)."""
    try:
        element = ET.fromstring(body)
    except ET.ParseError:
        raise S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate "
                      "against our published schema.") from None
    if _local(element.tag) != expected_root:
        raise S3Error("MalformedXML", f"Expected a <{expected_root}> document, got <{_local(element.tag)}>.")
    return element


def children(element: Element, tag: str) -> Iterable[Element]:
    return (child for child in element if _local(child.tag) == tag)


def child_text(element: Element, tag: str) -> str | None:
    for child in children(element, tag):
        return child.text or ""
    return None


def parse_delete(body: bytes) -> tuple[list[str], bool]:
    """A DeleteObjects body: the keys to delete and whether Quiet was asked for."""
    document = parse_body(body, "Delete")
    keys = []
    for obj in children(document, "Object"):
        key = child_text(obj, "Key")
        if key is None:
            raise S3Error("MalformedXML", "Each <Object> in a <Delete> request needs a <Key>.")
        keys.append(key)
    if not keys or len(keys) > 1000:
        raise S3Error("MalformedXML", "A <Delete> request must name between 1 and 1000 objects.")
    quiet = (child_text(document, "Quiet") or "").strip().lower() == "true"
    return keys, quiet


def parse_complete_multipart(body: bytes) -> list[tuple[int, str]]:
    """A CompleteMultipartUpload body: (part number, etag) in the order given."""
    document = parse_body(body, "CompleteMultipartUpload")
    parts = []
    for part in children(document, "Part"):
        number, etag = child_text(part, "PartNumber"), child_text(part, "ETag")
        if number is None or etag is None:
            raise S3Error("MalformedXML", "Each <Part> needs a <PartNumber> and an <ETag>.")
        value = decimal(number.strip())
        if value is None:
            raise S3Error("MalformedXML", f"<PartNumber> {shown_value(number)} is not a part number.")
        parts.append((value, etag))
    if not parts:
        raise S3Error("MalformedXML", "A <CompleteMultipartUpload> request must list at least one part.")
    return parts
