"""Authenticates a request for the api layer: SigV4 verified against the identity store, or — with
authentication off — everyone is the server's first account (the open mode for throwaway local use)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from openrek.security.identities import Caller, Identities
from openrek.security.sigv4 import SignedRequest, verify


class Authenticator:
    def __init__(self, identities: Identities | None, default_account: str) -> None:
        self.identities = identities
        self.default_account = default_account

    @property
    def enabled(self) -> bool:
        return self.identities is not None

    @property
    def open_caller(self) -> Caller:
        """Who every request is with authentication off."""
        return Caller(account=self.default_account, access_key="")

    def authenticate(self, request: SignedRequest) -> Caller:
        """The caller; raises `SigV4Error` for a request that is not signed by a known, active key."""
        if self.identities is None:
            return self.open_caller
        verified = verify(request, self.identities.secret_for, datetime.now(UTC))
        return self.identities.caller(verified.access_key, verified)


def payload_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def principal_of(identities: Identities | None, caller: Caller) -> tuple[str, tuple[Any, ...] | None]:
    """(principal ARN, identity-based policies) for authorization; None policies for a root or open caller."""
    if identities is None or caller.user_name is None:
        return f"arn:aws:iam::{caller.account}:root", None
    user = identities.metadata.get_iam_user(caller.account, caller.user_name)
    path = getattr(user, "path", None) or "/"
    return (f"arn:aws:iam::{caller.account}:user{path}{caller.user_name}",
            user_policies(identities, caller.account, caller.user_name))


def user_policies(identities: Identities, account: str, user_name: str) -> tuple[Any, ...]:
    """An IAM user's identity-based policies (inline and attached), parsed; none for a deleted user."""
    from openrek.security.policy_evaluation import Policy, PolicyKind

    return tuple(Policy.parse(name, document, PolicyKind.IDENTITY, strict=False)
                 for name, document in identities.identity_policies_of(account, user_name))
