"""What the IAM operations share: the store, who may call (the account root, or a user its own identity-based
policies allow), lookups that raise NoSuchEntity, pagination by Marker/MaxItems, and the response shapes."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from openrek.security.identities import ROOT_ACCOUNT_NAME, Caller
from openrek.security.policy_evaluation import AuthorizationRequest, Policy, PolicyKind, evaluate
from openrek.service.iam.errors import AccessDenied, NoSuchEntity
from openrek.service.iam.principals import caller_arn, user_arn
from openrek.store.errors import DuplicateError
from openrek.store.metadata import MetadataStore

DEFAULT_MAX_ITEMS = 100


def now_ms() -> int:
    return int(time.time() * 1000)


def timestamp(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def user_shape(row: Any) -> dict[str, Any]:
    return {"Path": row.path, "UserName": row.name, "UserId": row.user_id,
            "Arn": user_arn(row.account_id, row.name, row.path), "CreateDate": timestamp(row.created_ms)}


def key_metadata(row: Any, account_root: bool) -> dict[str, Any]:
    shape = {"AccessKeyId": row.access_key_id, "Status": row.status, "CreateDate": timestamp(row.created_ms)}
    return shape if account_root else {"UserName": row.user_name, **shape}


def page(items: Sequence[Any], key: Callable[[Any], str], params: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """The items after `Marker` (the key of the first item of the page), at most `MaxItems` of them, and the
    IsTruncated/Marker members of the answer."""
    marker = params.get("Marker")
    start = 0
    if marker:
        start = next((i for i, item in enumerate(items) if key(item) >= marker), len(items))
    size = params.get("MaxItems") or DEFAULT_MAX_ITEMS
    chunk = list(items[start:start + size])
    rest = items[start + size:]
    return chunk, ({"IsTruncated": True, "Marker": key(rest[0])} if rest else {"IsTruncated": False})


class IamBase:
    def __init__(self, metadata: MetadataStore) -> None:
        self.metadata = metadata

    def authorize(self, caller: Caller, action: str, resource: str) -> None:
        """The account root may do everything; a user what its own inline and attached policies allow."""
        principal = caller_arn(caller, self._path_of(caller))
        request = AuthorizationRequest(principal_arn=principal, principal_account=caller.account,
                                       is_root=caller.is_root, action=f"iam:{action}", resource_arn=resource,
                                       resource_account=caller.account)
        policies: list[Policy] = []
        if caller.user_name is not None:
            for name, document in self.metadata.identity_policies_of(caller.account, caller.user_name):
                policies.append(Policy.parse(name, document, PolicyKind.IDENTITY, strict=False))
        decision = evaluate(request, policies)
        if not decision.allowed:
            raise AccessDenied(decision.message)

    def _path_of(self, caller: Caller) -> str:
        if caller.user_name is None:
            return "/"
        row = self.metadata.get_iam_user(caller.account, caller.user_name)
        return row.path if row is not None else "/"

    def ensure_account(self, account: str) -> None:
        """Open mode never registered the server's account: rows of this account need it (foreign keys)."""
        if self.metadata.get_account(account) is not None:
            return
        name = ROOT_ACCOUNT_NAME if self.metadata.find_account(ROOT_ACCOUNT_NAME) is None else account
        try:
            self.metadata.add_account(account, name, now_ms())
        except DuplicateError:
            pass

    def user(self, caller: Caller, name: str) -> Any:
        row = self.metadata.get_iam_user(caller.account, name)
        if row is None:
            raise NoSuchEntity(f"The user with name {name} cannot be found.")
        return row

    def target_user(self, caller: Caller, params: dict[str, Any]) -> str | None:
        """The user a request names, else the caller itself (None: the account root)."""
        name = params.get("UserName")
        if name is None:
            return caller.user_name
        self.user(caller, name)
        return str(name)

    def user_resource(self, caller: Caller, name: str | None) -> str:
        if name is None:
            return caller_arn(caller)
        row = self.metadata.get_iam_user(caller.account, name)
        return user_arn(caller.account, name, row.path if row is not None else "/")
