"""The KMS provider: each implemented AWS KMS operation, registered by name, onto `KmsKeys`.

Most operations forward their validated members as the snake_case keyword arguments `KmsKeys` takes
(`CiphertextBlob` → `ciphertext_blob`), with the caller's account and the request's region from the
`RequestContext`; a member the model knows but openrek does not support (Decrypt's `Recipient`) is an
`UnsupportedOperationException` naming it. `KmsKeys` resolves every key id, ARN and alias within the
caller's account and region, so another account's key is simply not found; the guard (`access.py`) asks
the key policy and the caller's IAM policies for `kms:<Operation>` before each call.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from openrek.security.kms_errors import NotFoundException, UnsupportedOperationException, ValidationException
from openrek.security.kms_keys import KmsKeys
from openrek.service.context import RequestContext
from openrek.service.kms import access
from openrek.service.registry import Operation, bind_operations, operation

DEFAULT_POLICY_NAME = "default"
_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake_case(member: str) -> str:
    """An AWS member or operation name in Python: `PendingWindowInDays` → `pending_window_in_days`."""
    return _WORD_START.sub("_", member).lower()


def _forwarded(name: str) -> Callable[[KmsProvider, RequestContext, dict[str, Any]], dict[str, Any]]:
    """A provider method for operation `name` that calls `KmsKeys.<snake_case(name)>`."""

    @operation(name, metadata_only=True)
    def call(self: KmsProvider, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.forward(name, ctx, params)

    call.__name__ = call.__qualname__ = snake_case(name)
    return call


class KmsProvider:
    """The KMS operations over one key store."""

    def __init__(self, keys: KmsKeys) -> None:
        self.keys = keys
        self.operations: dict[str, Operation] = bind_operations(self, access.guard(keys))

    def forward(self, name: str, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        method = getattr(self.keys, snake_case(name))
        accepted = inspect.signature(method).parameters
        kwargs = {snake_case(member): value for member, value in params.items()}
        unsupported = sorted(member for member in params if snake_case(member) not in accepted)
        if unsupported:
            raise UnsupportedOperationException(
                f"openrek does not support {', '.join(unsupported)} in {name}; leave it out of the request.")
        # Members the model leaves optional (Decrypt's CiphertextBlob, for its Recipient form) that openrek needs.
        missing = [p for p in list(accepted)[2:] if accepted[p].default is inspect.Parameter.empty and p not in kwargs]
        if missing:
            member = "".join(part.capitalize() for part in missing[0].split("_"))
            raise ValidationException(f"1 validation error detected: Value null at '{member[0].lower()}{member[1:]}' "
                                      "failed to satisfy constraint: Member must not be null")
        return method(ctx.account, ctx.region, **kwargs)  # type: ignore[no-any-return]

    create_key = _forwarded("CreateKey")
    describe_key = _forwarded("DescribeKey")
    list_keys = _forwarded("ListKeys")
    enable_key = _forwarded("EnableKey")
    disable_key = _forwarded("DisableKey")
    schedule_key_deletion = _forwarded("ScheduleKeyDeletion")
    cancel_key_deletion = _forwarded("CancelKeyDeletion")
    create_alias = _forwarded("CreateAlias")
    list_aliases = _forwarded("ListAliases")
    delete_alias = _forwarded("DeleteAlias")
    encrypt = _forwarded("Encrypt")
    decrypt = _forwarded("Decrypt")
    generate_data_key = _forwarded("GenerateDataKey")
    generate_data_key_without_plaintext = _forwarded("GenerateDataKeyWithoutPlaintext")
    create_grant = _forwarded("CreateGrant")
    list_grants = _forwarded("ListGrants")
    retire_grant = _forwarded("RetireGrant")
    revoke_grant = _forwarded("RevokeGrant")

    @operation("GetKeyPolicy", metadata_only=True)
    def get_key_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """The key policy CreateKey stored (AWS's default one when it was given none)."""
        name = params.get("PolicyName", DEFAULT_POLICY_NAME)
        record = self.keys.resolve_key(ctx.account, ctx.region, params["KeyId"])
        if name != DEFAULT_POLICY_NAME:
            raise NotFoundException(f"No key policy named {name!r}: the only key policy name is "
                                    f"'{DEFAULT_POLICY_NAME}'")
        return {"Policy": record.policy, "PolicyName": DEFAULT_POLICY_NAME}
