"""`POST /_openrek/accounts`: the server's root creates a further account (not an AWS API).

    POST /_openrek/accounts   {"Name": "team-b"}
    → {"AccountId": "…", "Name": "team-b", "AccessKeyId": "…", "SecretAccessKey": "…"}

Only the root of the server's first account may call it, and only with authentication on (each account
is a namespace of its own, which an open server cannot tell apart). Errors are JSON `{"__type", "Message"}`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from openrek import json_input
from openrek.api.json11.serializer import serialize_error
from openrek.security.identities import Caller, Identities
from openrek.service.errors import (
    AccessDeniedException,
    ResourceAlreadyExistsException,
    ServiceError,
    ValidationException,
)
from openrek.store.errors import DuplicateError

PATH = "/_openrek/accounts"
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def _created(identities: Identities | None, caller: Caller, first_account: str, body: bytes) -> dict[str, Any]:
    if identities is None:
        raise ValidationException("Accounts need authentication, and this server is open (--auth off or "
                                  "OPENREK_AUTH=off): start it without them.")
    if not (caller.is_root and caller.account == first_account):
        raise AccessDeniedException(
            f"Only the root of the server's first account ({first_account}) may create accounts; "
            f"{caller.access_key} is not it.")
    try:
        name = json_input.loads(body or b"{}").get("Name")
    except (ValueError, AttributeError):
        name = None
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationException('The body must be {"Name": "<1-64 letters, digits, . _ ->"}.')
    try:
        account_id, key, secret = identities.create_account(name)
    except DuplicateError:
        raise ResourceAlreadyExistsException(f"An account named {name} already exists.") from None
    return {"AccountId": account_id, "Name": name, "AccessKeyId": key, "SecretAccessKey": secret}


async def handle_accounts(request: Request, identities: Identities | None, caller: Caller, first_account: str,
                          request_id: str, body: bytes) -> Response:
    headers = {"x-amzn-RequestId": request_id}
    try:
        if request.method != "POST":
            raise ValidationException(f"{PATH} answers POST only.")
        out = _created(identities, caller, first_account, body)
    except ServiceError as err:
        status = 403 if isinstance(err, AccessDeniedException) else err.status
        return Response(serialize_error(err.code, err.message, request_id), status_code=status,
                        media_type="application/json", headers=headers)
    return Response(json.dumps(out).encode(), media_type="application/json", headers=headers)
