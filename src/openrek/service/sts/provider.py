"""The STS provider: GetCallerIdentity — the caller's account, ARN (`…:root` or `…:user/<name>`) and id."""

from __future__ import annotations

from typing import Any

from openrek.security.identities import Caller
from openrek.service.caller_registry import Handler, bind_operations, operation
from openrek.service.iam.principals import root_arn, user_arn
from openrek.store.metadata import MetadataStore


class StsProvider:
    def __init__(self, metadata: MetadataStore) -> None:
        self.metadata = metadata
        self.operations: dict[str, Handler] = bind_operations(self)

    @operation("GetCallerIdentity")
    def get_caller_identity(self, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
        """Anyone signed may ask who it is (AWS needs no permission for it either)."""
        if caller.user_name is None:
            return {"Account": caller.account, "Arn": root_arn(caller.account), "UserId": caller.account}
        row = self.metadata.get_iam_user(caller.account, caller.user_name)
        path = row.path if row is not None else "/"
        user_id = row.user_id if row is not None else caller.access_key
        return {"Account": caller.account, "Arn": user_arn(caller.account, caller.user_name, path), "UserId": user_id}
