"""S3's error codes, their HTTP statuses, and the `S3Error` the wire layer raises and renders.

Store errors (`ObjectStoreError`) carry the same codes; `status_for` gives either one its HTTP status.
"""

from __future__ import annotations

from openrek.store.objects import ObjectStoreError

# HTTP status for each S3 error code we emit; anything unlisted is a client error (400).
STATUS_BY_CODE: dict[str, int] = {
    "AccessDenied": 403,
    "BadDigest": 400,
    "BucketAlreadyExists": 409,
    "BucketAlreadyOwnedByYou": 409,
    "BucketNotEmpty": 409,
    "EntityTooLarge": 400,
    "EntityTooSmall": 400,
    "IncompleteBody": 400,
    "InternalError": 500,
    "InvalidArgument": 400,
    "InvalidBucketName": 400,
    "InvalidDigest": 400,
    "InvalidPart": 400,
    "InvalidPartOrder": 400,
    "InvalidRange": 416,
    "InvalidRequest": 400,
    "KeyTooLongError": 400,
    "MalformedXML": 400,
    "MethodNotAllowed": 405,
    "MissingContentLength": 411,
    "NoSuchBucket": 404,
    "NoSuchKey": 404,
    "NoSuchUpload": 404,
    "NotImplemented": 501,
    "NotModified": 304,
    "PreconditionFailed": 412,
    "SignatureDoesNotMatch": 403,
    "NoSuchBucketPolicy": 404,
    "MalformedPolicy": 400,
    "InvalidAccessKeyId": 403,
    "RequestTimeTooSkewed": 403,
    "ServiceUnavailable": 503,  # a remote object store did not answer
}


class S3Error(ObjectStoreError):
    """An S3 error raised by the wire layer itself (bad request, digest mismatch, unsupported operation)."""

    def __init__(self, code: str, message: str, *, bucket: str | None = None, key: str | None = None,
                 status: int | None = None, extra: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(code, message, bucket=bucket, key=key)
        self.status = status if status is not None else STATUS_BY_CODE.get(code, 400)
        self.extra = dict(extra or {})  # more fields for the <Error> document
        self.headers = dict(headers or {})  # more response headers


def shown_value(text: str, limit: int = 64) -> str:
    """A client's value as an error document may echo it (ArgumentValue): cut to `limit` characters, and
    escaped when it holds characters XML cannot carry (NUL, other controls)."""
    cut = text if len(text) <= limit else text[:limit] + "..."
    return cut if cut.isprintable() else ascii(cut)


def status_for(error: ObjectStoreError) -> int:
    if isinstance(error, S3Error):
        return error.status
    return STATUS_BY_CODE.get(error.code, 400)


def not_implemented(what: str) -> S3Error:
    return S3Error("NotImplemented", f"openrek's S3 endpoint does not implement {what}.")
