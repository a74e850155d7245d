"""Handles one query-protocol request (IAM, STS): form body → operation → validated params → provider → XML.

A request comes here when it is a form-encoded POST to `/` signed for the `iam` or `sts` service (its SigV4
credential scope says which; in open mode the scope still routes). Provider errors carry AWS's code; the
HTTP status and Sender/Receiver come from the service model's error shapes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from openrek.api.json11.validation import validate_input
from openrek.api.query.models import SERVICES, error_statuses, operation_model, service_model
from openrek.api.query.parser import parse_params
from openrek.api.query.serializer import serialize_error, serialize_output
from openrek.api.sigv4 import CredentialScope
from openrek.security.auth_errors import query_error
from openrek.security.identities import Caller
from openrek.security.sigv4 import SigV4Error
from openrek.service.errors import ServiceError, ValidationException

CONTENT_TYPE = "text/xml"
FORM = "application/x-www-form-urlencoded"
log = logging.getLogger("openrek.api")


def query_service(request: Request, scope: CredentialScope | None) -> str | None:
    """`iam` or `sts` when the request is theirs, else None."""
    if scope is None or scope.service not in SERVICES or request.method != "POST" or request.url.path != "/":
        return None
    return scope.service if request.headers.get("content-type", "").startswith(FORM) else None


def _namespace(service: str) -> str:
    ns = service_model(service).metadata.get("xmlNamespace", "")
    return str(ns.get("uri", "") if isinstance(ns, dict) else ns)


def _error(service: str, code: str, message: str, request_id: str, status: int | None = None) -> Response:
    known_status, sender = error_statuses(service).get(code, (400, True))
    return Response(serialize_error(code, message, request_id, sender, _namespace(service)),
                    status_code=status or known_status, media_type=CONTENT_TYPE,
                    headers={"x-amzn-RequestId": request_id})


def query_error_response(service: str, code: str, message: str, request_id: str, status: int) -> Response:
    """An error answered before the request reaches an operation (its body too large, say)."""
    return _error(service, code, message, request_id, status)


def query_auth_error(error: SigV4Error, service: str, request_id: str) -> Response:
    code, status = query_error(error.kind)
    return _error(service, code, error.message, request_id, status)


async def handle_query(service: str, body: bytes, providers: Mapping[str, Any], caller: Caller,
                       request_id: str) -> Response:
    params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    action = params.pop("Action", "")
    params.pop("Version", None)
    op = operation_model(service, action) if action else None
    if op is None:
        what = f"{service.upper()} has no action named {action!r}." if action else "The request names no Action."
        return _error(service, "InvalidAction", what, request_id, 400)
    provider = providers.get(service)
    handler = provider.operations.get(action) if provider is not None else None
    if handler is None:
        implemented = ", ".join(sorted(provider.operations)) if provider is not None else "none"
        return _error(service, "NotImplemented",
                      f"openrek does not implement the {service.upper()} action {action} yet. Implemented: "
                      f"{implemented}.", request_id, 400)
    try:
        try:
            request = validate_input(op.input_shape, parse_params(op.input_shape, params))
        except ValidationException as exc:
            raise ServiceError(exc.message, code="ValidationError") from None
        result = await run_in_threadpool(handler, caller, request)
        answer = serialize_output(op, result or {}, request_id)
    except ServiceError as err:
        status = None if err.code in error_statuses(service) else err.status
        return _error(service, err.code, err.message, request_id, status)
    except Exception:  # a bug of ours: a 500 with the request id to find it in the log
        log.exception("ServiceFailure in %s %s (request %s)", service, action, request_id)
        return _error(service, "ServiceFailure", f"Internal server error; request id {request_id}.", request_id, 500)
    return Response(answer, media_type=CONTENT_TYPE, headers={"x-amzn-RequestId": request_id})
