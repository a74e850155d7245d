"""Handles one Rekognition JSON 1.1 request: target → operation, body → validated params → provider → body."""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from openrek.api.rekognition.model import operation_model
from openrek.api.rekognition.serializer import serialize_error, serialize_output
from openrek.api.rekognition.validation import validate_input
from openrek.service.context import RequestContext
from openrek.service.errors import (
    InternalServerError,
    NotImplementedOperation,
    SerializationException,
    ServiceError,
    UnknownOperationException,
)

CONTENT_TYPE = "application/x-amz-json-1.1"
TARGET_PREFIX = "RekognitionService."
log = logging.getLogger("openrek.api")


def _error(err: ServiceError, request_id: str) -> Response:
    return Response(
        serialize_error(err.code, err.message, request_id),
        status_code=err.status,
        media_type=CONTENT_TYPE,
        headers={"x-amzn-RequestId": request_id},
    )


def _parse_body(raw: bytes) -> Any:
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SerializationException(
            f"The request body is not valid JSON ({exc}). Send a JSON object with Content-Type {CONTENT_TYPE}."
        ) from None


async def handle_rekognition(request: Request, provider: Any, ctx: RequestContext) -> Response:
    target = request.headers.get("x-amz-target", "")
    if not target.startswith(TARGET_PREFIX):
        return _error(UnknownOperationException(f"Unknown target {target!r}: expected RekognitionService.<Operation>."),
                      ctx.request_id)
    name = target[len(TARGET_PREFIX):]
    op = operation_model(name)
    if op is None:
        return _error(UnknownOperationException(f"Rekognition has no operation named {name!r}."), ctx.request_id)
    try:
        handler = provider.operations.get(name)
        if handler is None:
            implemented = ", ".join(sorted(provider.operations))
            raise NotImplementedOperation(
                f"openrek does not implement the Rekognition operation {name} yet. Implemented: {implemented}."
            )
        params = validate_input(op.input_shape, _parse_body(await request.body()))
        # Operations that only touch metadata (milliseconds) run on the event loop; the rest on threads.
        if getattr(handler, "metadata_only", False):
            result = handler(ctx, params)
        else:
            result = await run_in_threadpool(handler, ctx, params)
        body = serialize_output(op.output_shape, result)
    except ServiceError as err:
        return _error(err, ctx.request_id)
    except Exception:  # a bug of ours: AWS's 500, with the request id to find it in the log
        log.exception("InternalServerError in %s (request %s)", name, ctx.request_id)
        return _error(InternalServerError(f"Internal server error; request id {ctx.request_id}."), ctx.request_id)
    return Response(body, media_type=CONTENT_TYPE, headers={"x-amzn-RequestId": ctx.request_id})
