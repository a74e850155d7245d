"""Building S3 responses: XML bodies, the object headers GetObject/HeadObject share, and error responses."""

from __future__ import annotations

from starlette.responses import Response

from openrek.api.s3.encryption import response_headers
from openrek.api.s3.errors import S3Error, status_for
from openrek.api.s3.xml_documents import Element, error_document, http_date, to_bytes
from openrek.store.objects import ObjectInfo, ObjectStoreError

XML_TYPE = "application/xml"


def xml_response(document: Element, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(to_bytes(document), status_code=status, media_type=XML_TYPE, headers=headers)


def empty_response(status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(b"", status_code=status, headers=headers)


def object_headers(info: ObjectInfo) -> dict[str, str]:
    headers = {
        "ETag": info.etag,
        "Last-Modified": http_date(info.last_modified),
        "Content-Type": info.content_type,
        "Accept-Ranges": "bytes",
        **response_headers(info.encryption),
    }
    for name, value in info.metadata.items():
        headers[f"x-amz-meta-{name}"] = value
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
