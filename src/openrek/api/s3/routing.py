"""Which S3 operation a request is: bucket and key from the path (path-style, what stock clients send to a
custom endpoint), or from a `<bucket>.s3.localhost` Host (virtual-hosted style); operation from the method,
the sub-resource query parameters and a few headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from starlette.requests import Request

from openrek.api.s3.errors import S3Error, not_implemented

# Sub-resources (query parameters) of buckets and objects that openrek does not implement.
_UNSUPPORTED_BUCKET = ("accelerate", "acl", "analytics", "cors", "encryption", "intelligent-tiering",
                       "inventory", "lifecycle", "logging", "metrics", "notification", "object-lock",
                       "ownershipControls", "policyStatus", "publicAccessBlock", "replication",
                       "requestPayment", "tagging", "versioning", "versions", "website")
_UNSUPPORTED_OBJECT = ("acl", "attributes", "legal-hold", "restore", "retention", "select", "tagging",
                       "torrent")


VIRTUAL_HOST_SUFFIX = ".s3.localhost"


@dataclass(frozen=True)
class Route:
    operation: str
    bucket: str | None
    key: str | None


def _path_bucket_key(request: Request) -> tuple[str | None, str | None]:
    raw = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
    raw = raw.split(b"?", 1)[0]
    try:
        path = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise S3Error("InvalidURI", "Couldn't parse the specified URI: it is not valid UTF-8.") from None
    host = (request.headers.get("host") or "").rsplit(":", 1)[0].lower()
    if host.endswith(VIRTUAL_HOST_SUFFIX) and len(host) > len(VIRTUAL_HOST_SUFFIX):
        # Virtual-hosted style: http://<bucket>.s3.localhost:<port>/<key>
        return host[: -len(VIRTUAL_HOST_SUFFIX)], path[1:] or None
    path = path[1:] if path.startswith("/") else path
    if not path:
        return None, None
    bucket, _, key = path.partition("/")
    return bucket, key or None


def route(request: Request) -> Route:
    method = request.method.upper()
    query = request.query_params
    bucket, key = _path_bucket_key(request)

    if bucket is None:
        if method == "GET":
            return Route("ListBuckets", None, None)
        raise S3Error("MethodNotAllowed", f"The {method} method is not allowed on the service root.")

    if key is None:
        for name in _UNSUPPORTED_BUCKET:
            if name in query:
                raise not_implemented(f"the bucket sub-resource ?{name}")
        if "policy" in query:
            operation = {"GET": "GetBucketPolicy", "PUT": "PutBucketPolicy", "DELETE": "DeleteBucketPolicy"}.get(method)
            if operation:
                return Route(operation, bucket, None)
            raise S3Error("MethodNotAllowed", f"The {method} method is not allowed on ?policy.")
        if method == "GET":
            if "location" in query:
                return Route("GetBucketLocation", bucket, None)
            if "uploads" in query:
                return Route("ListMultipartUploads", bucket, None)
            if query.get("list-type") == "2":
                return Route("ListObjectsV2", bucket, None)
            return Route("ListObjects", bucket, None)
        operation = {"PUT": "CreateBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket"}.get(method)
        if method == "POST" and "delete" in query:
            operation = "DeleteObjects"
        if operation:
            return Route(operation, bucket, None)
        raise S3Error("MethodNotAllowed", f"The {method} method is not allowed on a bucket here.")

    for name in _UNSUPPORTED_OBJECT:
        if name in query:
            raise not_implemented(f"the object sub-resource ?{name}")
    if method == "PUT":
        if "uploadId" in query or "partNumber" in query:
            if "x-amz-copy-source" in request.headers:
                raise not_implemented("UploadPartCopy")
            return Route("UploadPart", bucket, key)
        if "x-amz-copy-source" in request.headers:
            return Route("CopyObject", bucket, key)
        return Route("PutObject", bucket, key)
    if method == "GET":
        return Route("ListParts" if "uploadId" in query else "GetObject", bucket, key)
    if method == "HEAD":
        return Route("HeadObject", bucket, key)
    if method == "DELETE":
        return Route("AbortMultipartUpload" if "uploadId" in query else "DeleteObject", bucket, key)
    if method == "POST":
        if "uploads" in query:
            return Route("CreateMultipartUpload", bucket, key)
        if "uploadId" in query:
            return Route("CompleteMultipartUpload", bucket, key)
    raise S3Error("MethodNotAllowed", f"The {method} method is not allowed on an object here.")
