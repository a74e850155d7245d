"""`GET /_openrek/model-export`: download a trained version's `model.onnx` or `model.json` (not an AWS API).

    GET /_openrek/model-export?ProjectVersionArn=<arn>&File=model.onnx   (the default)
    GET /_openrek/model-export?ProjectVersionArn=<arn>&File=model.json

It shares the port with Rekognition and S3; "_openrek" can never be an S3 bucket name, so the path
cannot shadow a bucket. Errors are JSON `{"__type", "Message"}` as Rekognition's: 404 for a version (or
path) that does not exist, 400 for a bad request or a version without a model.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from openrek.api.json11.serializer import serialize_error
from openrek.api.s3.routing import VIRTUAL_HOST_SUFFIX
from openrek.service.context import RequestContext
from openrek.service.errors import (
    AccessDeniedException,
    InternalServerError,
    ResourceNotFoundException,
    ServiceError,
    UnknownOperationException,
    ValidationException,
)
from openrek.service.rekognition.arns import parse_arn
from openrek.service.rekognition.model_export import check_export, export_metadata, export_model

PREFIX = "/_openrek/"
PATH = "/_openrek/model-export"
FILES = ("model.onnx", "model.json")
log = logging.getLogger("openrek.api")


def is_openrek_request(request: Request) -> bool:
    """True for openrek's own (non-AWS) endpoints: a path under /_openrek/, not sent virtual-hosted style
    (there the path is an object key of the bucket in the Host, and S3 keeps it)."""
    path = request.url.path
    host = (request.headers.get("host") or "").rsplit(":", 1)[0].lower()
    return (path.startswith(PREFIX) or path == PREFIX.rstrip("/")) and not host.endswith(VIRTUAL_HOST_SUFFIX)


def _error(err: ServiceError, request_id: str) -> Response:
    status = 404 if isinstance(err, ResourceNotFoundException) else err.status
    return Response(serialize_error(err.code, err.message, request_id), status_code=status,
                    media_type="application/json", headers={"x-amzn-RequestId": request_id})


def _file(request: Request) -> tuple[str, str]:
    """(ProjectVersionArn, File) from the query, or ValidationException."""
    if request.method != "GET":
        raise ValidationException(f"{PATH} answers GET only, not {request.method}.")
    arn = request.query_params.get("ProjectVersionArn")
    if not arn:
        raise ValidationException(
            f"ProjectVersionArn is required: GET {PATH}?ProjectVersionArn=<version ARN>&File=model.onnx")
    name = request.query_params.get("File", FILES[0])
    if name not in FILES:
        raise ValidationException(f"File must be {' or '.join(FILES)}, not {name!r}.")
    return arn, name


def _body(provider: Any, arn: str, name: str) -> bytes:
    if name == "model.json":
        description = export_metadata(provider.metadata, provider.objects, arn)
        return json.dumps(description, indent=2).encode("utf-8")
    return export_model(provider.metadata, provider.objects, arn).onnx


async def handle_openrek(request: Request, provider: Any, request_id: str, caller: RequestContext) -> Response:
    """Serve one request under /_openrek/ for `caller` (its account, and its policies: see `check_export`)."""
    account = caller.account
    try:
        if request.url.path != PATH:
            raise UnknownOperationException(
                f"openrek has no endpoint {request.url.path}; the model download is "
                f"GET {PATH}?ProjectVersionArn=<version ARN>&File=model.onnx|model.json.", status=404)
        arn, name = _file(request)
        owner = parse_arn(arn)
        if owner is not None and owner.account != account:
            raise AccessDeniedException(f"The project version {arn} belongs to another account ({owner.account}).",
                                        status=403)
        try:
            await run_in_threadpool(check_export, provider.metadata, provider.kms_keys, caller, arn)
        except AccessDeniedException as denied:
            raise AccessDeniedException(denied.message, status=403) from None
        body = await run_in_threadpool(_body, provider, arn, name)
    except ServiceError as err:
        return _error(err, request_id)
    except Exception:
        log.exception("model export failed (request %s)", request_id)
        return _error(InternalServerError(f"Internal server error; request id {request_id}."), request_id)
    media_type = "application/json" if name.endswith(".json") else "application/octet-stream"
    headers = {"x-amzn-RequestId": request_id, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media_type, headers=headers)
