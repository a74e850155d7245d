"""The S3 REST endpoint's entry point: route a request to its operation, run it, render S3's errors.

`handle_s3` is called by the main ASGI app for every request that is not a Rekognition JSON call.
Authentication happens before (api/app.py); ownership of buckets is checked here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Message

from openrek.api.s3 import bucket_operations, listing, multipart_operations, object_operations
from openrek.api.s3.context import S3Context
from openrek.api.s3.encryption import kms_error
from openrek.api.s3.errors import S3Error
from openrek.api.s3.responses import error_response
from openrek.api.s3.routing import route
from openrek.security.kms_errors import KmsError
from openrek.security.sigv4 import VerifiedSignature
from openrek.service import authorization, s3_access
from openrek.service.context import RequestContext
from openrek.service.errors import ServiceError
from openrek.store.objects import NoSuchBucket, ObjectStore, ObjectStoreError, is_internal_bucket
from openrek.store.sealed_files import SealedFileError

logger = logging.getLogger(__name__)

Operation = Callable[[S3Context], Awaitable[Response]]

OPERATIONS: dict[str, Operation] = {
    "ListBuckets": bucket_operations.list_buckets,
    "CreateBucket": bucket_operations.create_bucket,
    "HeadBucket": bucket_operations.head_bucket,
    "DeleteBucket": bucket_operations.delete_bucket,
    "GetBucketLocation": bucket_operations.get_bucket_location,
    "ListObjects": listing.list_objects_v1,
    "ListObjectsV2": listing.list_objects_v2,
    "PutObject": object_operations.put_object,
    "GetObject": object_operations.get_object,
    "HeadObject": object_operations.head_object,
    "DeleteObject": object_operations.delete_object,
    "DeleteObjects": object_operations.delete_objects,
    "CopyObject": object_operations.copy_object,
    "CreateMultipartUpload": multipart_operations.create_multipart_upload,
    "UploadPart": multipart_operations.upload_part,
    "CompleteMultipartUpload": multipart_operations.complete_multipart_upload,
    "AbortMultipartUpload": multipart_operations.abort_multipart_upload,
    "ListParts": multipart_operations.list_parts,
    "ListMultipartUploads": multipart_operations.list_multipart_uploads,
    "PutBucketPolicy": bucket_operations.put_bucket_policy,
    "GetBucketPolicy": bucket_operations.get_bucket_policy,
    "DeleteBucketPolicy": bucket_operations.delete_bucket_policy,
}


def hidden_bucket_error(operation: str, bucket: str) -> ObjectStoreError:
    """What S3 answers for an internal bucket: it cannot be created, and otherwise it does not exist.

    The answer is the same as for any absent bucket, so nothing tells `.openrek-models` from `.no-such-name`.
    """
    if operation == "CreateBucket":
        return S3Error("InvalidBucketName", "Bucket names must not begin with a period.", bucket=bucket)
    return NoSuchBucket(f"The bucket {bucket!r} does not exist.", bucket=bucket)


# On an error, unread request bodies up to this size are drained so the connection can be reused.
_MAX_DRAIN = 64 * 1024 * 1024


class _BodyTracker:
    """Wraps the ASGI receive channel to know whether the request body has been read to its end."""

    def __init__(self, request: Request) -> None:
        self._receive = request.receive
        self.finished = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.finished = True
        return message

    async def drain(self) -> bool:
        """Read and drop the rest of the body; False if it was too large to drain."""
        drained = 0
        while not self.finished:
            message = await self.receive()
            drained += len(message.get("body", b""))
            if drained > _MAX_DRAIN:
                return False
        return True


# The IAM action and resource each operation needs (S3's authorization reference); "{b}" bucket, "{k}" key.
ACTIONS: dict[str, tuple[str, str]] = {
    "ListBuckets": ("s3:ListAllMyBuckets", "*"),
    "CreateBucket": ("s3:CreateBucket", "{b}"), "HeadBucket": ("s3:ListBucket", "{b}"),
    "DeleteBucket": ("s3:DeleteBucket", "{b}"), "GetBucketLocation": ("s3:GetBucketLocation", "{b}"),
    "ListObjects": ("s3:ListBucket", "{b}"), "ListObjectsV2": ("s3:ListBucket", "{b}"),
    "PutObject": ("s3:PutObject", "{b}/{k}"), "GetObject": ("s3:GetObject", "{b}/{k}"),
    "HeadObject": ("s3:GetObject", "{b}/{k}"), "DeleteObject": ("s3:DeleteObject", "{b}/{k}"),
    "DeleteObjects": ("s3:DeleteObject", "{b}/*"), "CopyObject": ("s3:PutObject", "{b}/{k}"),
    "CreateMultipartUpload": ("s3:PutObject", "{b}/{k}"), "UploadPart": ("s3:PutObject", "{b}/{k}"),
    "CompleteMultipartUpload": ("s3:PutObject", "{b}/{k}"),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", "{b}/{k}"),
    "ListParts": ("s3:ListMultipartUploadParts", "{b}/{k}"),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads", "{b}"),
    "PutBucketPolicy": ("s3:PutBucketPolicy", "{b}"), "GetBucketPolicy": ("s3:GetBucketPolicy", "{b}"),
    "DeleteBucketPolicy": ("s3:DeleteBucketPolicy", "{b}"),
}


def _action(operation: str, bucket: str | None, key: str | None) -> tuple[str, str]:
    action, pattern = ACTIONS.get(operation, (f"s3:{operation}", "{b}"))
    return action, "*" if pattern == "*" else "arn:aws:s3:::" + pattern.format(b=bucket or "", k=key or "")


def _conditions(request: Request) -> dict[str, str]:
    return {"aws:SecureTransport": "true" if request.url.scheme == "https" else "false",
            "aws:SourceIp": request.client.host if request.client else ""}


def _authorize(ctx: RequestContext | None, request: Request, operation: str, bucket: str | None,
               key: str | None) -> None:
    """AccessDenied unless the caller's identity policies allow the operation's action (root: always)."""
    if ctx is None or ctx.identity_policies is None:
        return
    action, resource = _action(operation, bucket, key)
    try:
        authorization.check(ctx, action, resource, _conditions(request))
    except ServiceError as exc:
        raise S3Error("AccessDenied", exc.message, bucket=bucket) from None


async def _authorize_access(s3: S3Context, caller: RequestContext | None, request: Request, operation: str,
                            bucket: str, key: str | None) -> None:
    """AccessDenied unless the caller may do the operation on the bucket (`service/s3_access.py`)."""
    if not s3.account or caller is None:
        _authorize(caller, request, operation, bucket, key)
        return
    action, resource = _action(operation, bucket, key)
    try:
        await s3.call(s3_access.check, s3.objects, caller, action, bucket, resource,
                      default_owner=s3.default_owner, conditions=_conditions(request))
    except ServiceError as exc:
        raise S3Error("AccessDenied", exc.message, bucket=bucket) from None


async def handle_s3(request: Request, objects: ObjectStore, request_id: str, account: str = "",
                    default_owner: str = "", signature: VerifiedSignature | None = None,
                    caller: RequestContext | None = None, kms: Any = None) -> Response:
    """Serve one S3 REST request (path-style, or virtual-hosted as <bucket>.s3.localhost) from `objects`.

    `account` is the caller's: a bucket belongs to the account that created it, and another account's
    requests on it are AccessDenied (bucket names stay global, as in S3). `caller` carries an IAM user's
    policies: each operation needs its S3 action (`ACTIONS`) allowed."""
    resource = request.url.path
    tracker = _BodyTracker(request)
    original = request
    request = Request(original.scope, tracker.receive)
    if hasattr(original, "_body"):  # the caller already read the body: hand it on
        request._body = original._body  # type: ignore[attr-defined]
        tracker.finished = True
    elif getattr(original, "_stream_consumed", False):
        tracker.finished = True
    try:
        found = route(request)
        if found.bucket is not None and is_internal_bucket(found.bucket):
            raise hidden_bucket_error(found.operation, found.bucket)
        ctx = S3Context(request=request, objects=objects, request_id=request_id, bucket=found.bucket,
                        key=found.key, account=account, default_owner=default_owner or account,
                        signature=signature, caller=caller, kms=kms)
        if found.bucket is None or found.operation == "CreateBucket":
            _authorize(caller, request, found.operation, found.bucket, found.key)
        else:
            await _authorize_access(ctx, caller, request, found.operation, found.bucket, found.key)
        if found.operation == "CopyObject" and "x-amz-copy-source" in request.headers:
            source = unquote(request.headers["x-amz-copy-source"].split("?", 1)[0]).lstrip("/")
            src_bucket, _, src_key = source.partition("/")
            if src_bucket and not is_internal_bucket(src_bucket):
                await _authorize_access(ctx, caller, request, "GetObject", src_bucket, src_key)
        response = await OPERATIONS[found.operation](ctx)
    except ObjectStoreError as error:
        response = error_response(error, request_id, request.method, resource)
    except KmsError as error:  # the object's KMS key is disabled, pending deletion or gone
        response = error_response(kms_error(error), request_id, request.method, resource)
    except SealedFileError:
        logger.exception("S3 request %s %s found a damaged object", request.method, resource)
        error = S3Error("InternalError", "The object's stored bytes fail their integrity check (damaged or "
                        "altered at rest); it cannot be read.")
        response = error_response(error, request_id, request.method, resource)
    except ClientDisconnect:
        logger.info("S3 client went away during %s %s", request.method, resource)
        return Response(b"", status_code=400)
    except Exception:
        logger.exception("S3 request %s %s failed", request.method, resource)
        error = S3Error("InternalError", "We encountered an internal error. Please try again.")
        response = error_response(error, request_id, request.method, resource)
    if not tracker.finished and not await tracker.drain():
        response.headers["Connection"] = "close"
    response.headers["x-amz-request-id"] = request_id
    response.headers["x-amz-id-2"] = request_id
    return response
