"""The ASGI application: one port serving the JSON 1.1 services (Rekognition, KMS) and path-style S3.

Requests carrying `X-Amz-Target` go to the JSON 1.1 service its prefix names (Rekognition, KMS), form-encoded
POSTs to `/` signed for `iam` or `sts` to the query-protocol services, paths under `/_openrek/` (never an S3
bucket) to openrek's own endpoints (model export, accounts); everything else is S3.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from openrek.api.accounts import PATH as ACCOUNTS_PATH
from openrek.api.accounts import handle_accounts
from openrek.api.authentication import json_auth_error, s3_auth_error, signed_request
from openrek.api.json11.handler import JsonService, JsonServices, error_response, handle_json11
from openrek.api.model_export import handle_openrek, is_openrek_request
from openrek.api.query.handler import handle_query, query_auth_error, query_error_response, query_service
from openrek.api.rekognition.handler import rekognition_service
from openrek.api.request_body import BodyTooLarge, read_body
from openrek.api.s3.handler import handle_s3
from openrek.api.sigv4 import credential_scope, is_region_name
from openrek.security.authenticator import Authenticator, principal_of
from openrek.security.sigv4 import SigV4Error, SigV4ErrorKind
from openrek.service.context import RequestContext
from openrek.service.errors import ValidationException
from openrek.store.objects import ObjectStore

logger = logging.getLogger(__name__)


def create_app(
    provider: Any,
    objects: ObjectStore,
    account: str,
    default_region: str,
    on_startup: Callable[[], None] | None = None,
    on_shutdown: Callable[[], None] | None = None,
    authenticator: Authenticator | None = None,
    query_providers: Mapping[str, Any] | None = None,
    json_services: Iterable[JsonService] = (),
    kms_keys: Any = None,
    metadata_on_loop: bool = True,
) -> Starlette:
    """The app; without an `authenticator` (or with one that is off) every request is the first account's.

    `provider` is Rekognition's; `json_services` are the further JSON 1.1 services (KMS) on the same port;
    `query_providers`: the IAM and STS providers by service name (`iam`, `sts`). `metadata_on_loop`: lookups
    of the metadata store may run on the event loop (a local SQLite file answers in microseconds); False for
    a network database, whose round trips must never stall the loop: then every lookup runs on a thread.
    """

    auth = authenticator or Authenticator(None, account)
    services = JsonServices([rekognition_service(provider), *json_services], metadata_on_loop=metadata_on_loop)

    async def authenticate(request: Request, body: bytes | None) -> Any:
        """The caller (its access key is looked up in the metadata store when signatures are verified)."""
        if not auth.enabled:
            return auth.open_caller
        signed = signed_request(request, body)
        return auth.authenticate(signed) if metadata_on_loop else await run_in_threadpool(auth.authenticate, signed)

    async def context_of_caller(caller: Any, request: Request, request_id: str) -> RequestContext:
        if metadata_on_loop or caller.user_name is None:
            return context_of(caller, request, request_id)
        return await run_in_threadpool(context_of, caller, request, request_id)

    def context_of(caller: Any, request: Request, request_id: str) -> RequestContext:
        """Who calls (account, IAM policies) and where: the credential scope's region when it is one."""
        principal, policies = principal_of(auth.identities, caller)
        scope = credential_scope(request.headers, request.url.query)
        region = scope.region if scope is not None and is_region_name(scope.region) else default_region
        return RequestContext(account=caller.account, region=region, request_id=request_id,
                              principal_arn=principal, identity_policies=policies)

    async def dispatch(request: Request) -> Response:
        try:
            return await serve(request)
        except ClientDisconnect:  # the client went away while its body was being read: nobody to answer
            logger.info("client went away during %s %s", request.method, request.url.path)
            return Response(b"", status_code=400)

    async def serve(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        query = query_service(request, credential_scope(request.headers, request.url.query))
        if query is not None:
            try:
                body = await read_body(request)
            except BodyTooLarge as exc:
                return query_error_response(query, "ValidationError", exc.message, request_id, exc.status)
            try:
                caller = await authenticate(request, body)
            except SigV4Error as exc:
                return query_auth_error(exc, query, request_id)
            return await handle_query(query, body, query_providers or {}, caller, request_id)
        if "x-amz-target" in request.headers:
            try:
                body = await read_body(request)
            except BodyTooLarge as exc:
                return error_response(ValidationException(exc.message, status=exc.status), request_id)
            try:
                caller = await authenticate(request, body)
            except SigV4Error as exc:
                return json_auth_error(exc, request_id)
            scope = credential_scope(request.headers, request.url.query)
            if scope is not None and not is_region_name(scope.region):
                return json_auth_error(SigV4Error(SigV4ErrorKind.MALFORMED, (
                    f"Credential should be scoped to a valid region, not {scope.region!r} (for example "
                    "us-east-1): the region goes into every ARN.")), request_id)
            return await handle_json11(request, services, await context_of_caller(caller, request, request_id),
                                       body)
        openrek_route = is_openrek_request(request)
        body = None
        if openrek_route:
            try:
                body = await read_body(request)
            except BodyTooLarge as exc:
                return error_response(ValidationException(exc.message, status=exc.status), request_id)
        try:
            caller = await authenticate(request, body)
        except SigV4Error as exc:
            return json_auth_error(exc, request_id) if openrek_route else s3_auth_error(exc, request, request_id)
        if openrek_route and request.url.path == ACCOUNTS_PATH:
            return await handle_accounts(request, auth.identities, caller, account, request_id, body or b"")
        who = await context_of_caller(caller, request, request_id)
        if openrek_route:
            return await handle_openrek(request, provider, request_id, who)
        return await handle_s3(request, objects, request_id, caller.account, account, caller.signature, who,
                               kms=kms_keys)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if on_startup:
            on_startup()
        try:
            yield
        finally:
            if on_shutdown:
                on_shutdown()

    methods = ["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH"]
    routes = [Route("/{path:path}", dispatch, methods=methods)]
    return Starlette(routes=routes, lifespan=lifespan)
