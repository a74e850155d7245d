"""The api layer's side of authentication: a starlette request as a `SignedRequest`, and a failed check
rendered the way each protocol answers it (JSON `__type` for Rekognition and openrek's own routes, S3's
XML `<Error>` for S3)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from openrek.api.json11.serializer import serialize_error
from openrek.api.s3.xml_documents import error_document
from openrek.security.auth_errors import json_error, s3_error
from openrek.security.authenticator import payload_hash
from openrek.security.sigv4 import SignedRequest, SigV4Error


def signed_request(request: Request, body: bytes | None = None) -> SignedRequest:
    """The request as it arrived; `body` (when read) gives the payload hash for services that omit it."""
    scope = request.scope
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else quote(scope.get("path", "/"), safe="/~")
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
    return SignedRequest(method=request.method, raw_path=path, raw_query=scope.get("query_string", b"").decode("latin-1"),
                         headers=headers, payload_sha256=payload_hash(body) if body is not None else None)


def json_auth_error(error: SigV4Error, request_id: str) -> Response:
    code, status = json_error(error.kind)
    return Response(serialize_error(code, error.message, request_id), status_code=status,
                    media_type="application/x-amz-json-1.1", headers={"x-amzn-RequestId": request_id})


def s3_auth_error(error: SigV4Error, request: Request, request_id: str) -> Response:
    code, status = s3_error(error.kind)
    headers = {"x-amz-request-id": request_id, "x-amz-id-2": request_id}
    if request.method == "HEAD":
        return Response(b"", status_code=status, headers=headers)
    fields = [("AWSAccessKeyId", error.access_key)] if error.access_key else []
    body = error_document(code, error.message, request_id, fields)
    return Response(body, status_code=status, media_type="application/xml", headers=headers)
