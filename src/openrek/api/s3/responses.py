"""Building S3 responses: XML bodies, the object headers GetObject/HeadObject share, and error responses."""

from __future__ import annotations

import base64
import re

from starlette.responses import Response

from openrek.api.s3.encryption import response_headers
from openrek.api.s3.errors import S3Error, shown_value, status_for
from openrek.api.s3.xml_documents import Element, error_document, http_date, to_bytes
from openrek.store.objects import ObjectInfo, ObjectStoreError

XML_TYPE = "application/xml"

# What a header value may hold as it is: tab, printable ASCII and printable Latin-1. Not CR, LF, NUL or
# other controls (they end or split the header: the server drops the connection rather than send them),
# nor anything outside Latin-1 (starlette encodes header values as Latin-1).
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token
_HEADER_SAFE = re.compile(r"[\t\x20-\x7e\xa0-\xff]*")


def header_value_problem(value: str) -> str | None:
    """Why `value` cannot be sent as an HTTP header value as it is (None: it can), in S3's words."""
    if _HEADER_SAFE.fullmatch(value):
        return None
    if any(ord(ch) > 0xFF for ch in value):
        return "Header value cannot be represented using ISO-8859-1."
    return "Header value contains a control character (CR, LF, NUL or another), which is not allowed."


def checked_header_value(value: str, argument: str) -> str:
    """`value`, or InvalidArgument naming `argument` when it cannot be a header value (see `header_value_problem`)."""
    problem = header_value_problem(value)
    if problem is not None:
        raise S3Error("InvalidArgument", problem, extra={"ArgumentName": argument, "ArgumentValue": shown_value(value, 256)})
    return value


def _stored_header_value(value: str) -> str:
    """A stored value (content type, user metadata) as a header: as it is when it can be, else encoded as
    RFC 2047 UTF-8, as S3 returns metadata that is not US-ASCII; never a response that cannot be sent."""
    if header_value_problem(value) is None:
        return value
    return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8", "surrogatepass")).decode("ascii") + "?="


def xml_response(document: Element, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(to_bytes(document), status_code=status, media_type=XML_TYPE, headers=headers)


def empty_response(status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(b"", status_code=status, headers=headers)


def object_headers(info: ObjectInfo) -> dict[str, str]:
    headers = {
        "ETag": info.etag,
        "Last-Modified": http_date(info.last_modified),
        "Content-Type": _stored_header_value(info.content_type),
        "Accept-Ranges": "bytes",
        **response_headers(info.encryption),
    }
    for name, value in info.metadata.items():
        if _HEADER_NAME.fullmatch(name):
            headers[f"x-amz-meta-{name}"] = _stored_header_value(value)
    return headers


def error_response(error: ObjectStoreError, request_id: str, method: str, resource: str) -> Response:
    """S3's error form: an <Error> document, or no body at all for HEAD requests."""
    status = status_for(error)
    headers = {"x-amz-request-id": request_id, "x-amz-id-2": request_id}
    if isinstance(error, S3Error):
        headers.update(error.headers)
    if method == "HEAD" or status == 304:
        return Response(b"", status_code=status, headers=headers)
    fields: list[tuple[str, str]] = []
    if error.bucket and error.code in ("NoSuchBucket", "BucketNotEmpty", "BucketAlreadyOwnedByYou",
                                       "BucketAlreadyExists", "InvalidBucketName"):
        fields.append(("BucketName", error.bucket))
    if error.key is not None and error.code in ("NoSuchKey", "KeyTooLongError"):
        fields.append(("Key", error.key))
    if error.code == "NoSuchUpload" or not fields:
        fields.append(("Resource", resource))
    if isinstance(error, S3Error):
        fields.extend(error.extra.items())
    body = error_document(error.code, error.message, request_id, fields)
    return Response(body, status_code=status, media_type=XML_TYPE, headers=headers)
