"""Handles one JSON 1.1 request for whichever service its `X-Amz-Target` prefix names.

A `JsonService` binds a botocore service model to a provider (an object whose `operations` map AWS
operation names to `(ctx, params) -> dict` callables); `JsonServices` finds a request's service by the
target prefix the model declares (`RekognitionService.`, `TrentService.`), then the body is validated
against the operation's input shape, handed to the provider and serialised by its output shape.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from openrek import json_input
from openrek.api.json11.serializer import serialize_error, serialize_output
from openrek.api.json11.validation import validate_input
from openrek.api.service_models import operation_model, service_model
from openrek.service.context import RequestContext
from openrek.service.errors import (
    InternalServerError,
    NotImplementedOperation,
    SerializationException,
    ServiceError,
    UnknownOperationException,
)

CONTENT_TYPE = "application/x-amz-json-1.1"
log = logging.getLogger("openrek.api")


@dataclass(frozen=True)
class JsonService:
    """One JSON 1.1 service: its botocore model's name and the provider that implements it."""

    name: str  # botocore's service name: "rekognition", "kms"
    provider: Any

    @property
    def target_prefix(self) -> str:
        return service_model(self.name).metadata["targetPrefix"] + "."

    @property
    def label(self) -> str:
        return service_model(self.name).metadata.get("serviceId", self.name)


class JsonServices:
    """The JSON 1.1 services of one endpoint, looked up by a request's target prefix."""

    def __init__(self, services: Iterable[JsonService], metadata_on_loop: bool = True) -> None:
        self._by_prefix = {service.target_prefix: service for service in services}
        self.metadata_on_loop = metadata_on_loop  # False: even metadata-only requests run on threads

    def for_target(self, target: str) -> JsonService | None:
        prefix, dot, _ = target.partition(".")
        return self._by_prefix.get(prefix + dot) if dot else None

    def unknown_target(self, target: str) -> ServiceError:
        expected = " or ".join(f"{prefix}<Operation>" for prefix in sorted(self._by_prefix))
        return UnknownOperationException(f"Unknown target {target!r}: expected {expected}.")


def error_response(err: ServiceError, request_id: str) -> Response:
    return Response(serialize_error(err.code, err.message, request_id), status_code=err.status,
                    media_type=CONTENT_TYPE, headers={"x-amzn-RequestId": request_id})


def _parse_body(raw: bytes) -> Any:
    if not raw.strip():
        return {}
    try:
        return json_input.loads(raw)
    except json_input.JsonInputError as exc:
        raise SerializationException(
            f"The request body is not valid JSON ({exc}). "
            f"Send a JSON object with Content-Type {CONTENT_TYPE}."
        ) from None


async def handle_json11(request: Request, services: JsonServices, ctx: RequestContext, body: bytes) -> Response:
    """Answers the request (`body`: as read within the cap) with the operation's output, or with AWS's
    error body (never a traceback)."""
    target = request.headers.get("x-amz-target", "")
    service = services.for_target(target)
    if service is None:
        return error_response(services.unknown_target(target), ctx.request_id)
    name = target[len(service.target_prefix):]
    op = operation_model(service.name, name)
    if op is None:
        return error_response(UnknownOperationException(f"{service.label} has no operation named {name!r}."),
                              ctx.request_id)
    try:
        handler = service.provider.operations.get(name)
        if handler is None:
            implemented = ", ".join(sorted(service.provider.operations))
            raise NotImplementedOperation(
                f"openrek does not implement the {service.label} operation {name} yet. "
                f"Implemented: {implemented}."
            )
        params = validate_input(op.input_shape, _parse_body(body))
        # Requests that only touch a local metadata file (milliseconds) run on the event loop: a hop to a
        # worker thread and back costs more than that once the threads contend for the GIL. The rest, and
        # every request on a network database, run on threads.
        if services.metadata_on_loop and handler.metadata_only(params):
            result = handler(ctx, params)
        else:
            result = await run_in_threadpool(handler, ctx, params)
        body = serialize_output(op.output_shape, result)
    except ServiceError as err:
        return error_response(err, ctx.request_id)
    except Exception:  # a bug of ours: AWS's 500, with the request id to find it in the log
        log.exception("InternalServerError in %s.%s (request %s)", service.name, name, ctx.request_id)
        return error_response(InternalServerError(f"Internal server error; request id {ctx.request_id}."),
                              ctx.request_id)
    return Response(body, media_type=CONTENT_TYPE, headers={"x-amzn-RequestId": ctx.request_id})
