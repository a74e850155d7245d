"""Authenticates a request for the api layer: SigV4 verified against the identity store, or — with
authentication off — everyone is the server's first account (the open mode for throwaway local use)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

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
