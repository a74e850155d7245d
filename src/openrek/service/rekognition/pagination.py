"""Opaque NextToken values for Describe*/List* pagination: a position bound to the listing it came from.

A token is `version | HMAC(scope, position) | position`, base64url: the MAC, keyed by the server's master
key (so tokens survive a restart), covers the listing's scope (operation, account, resource, filters) and
the position (an offset, or the last entry's id). A token that was altered, forged or made for another
listing fails the MAC and is InvalidPaginationTokenException, before its position reaches a query.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Callable

from openrek.service.errors import InvalidPaginationTokenException

_VERSION = 1
_MAC_BYTES = 16
_PURPOSE = "rekognition-next-token"
_MAX_POSITION = 2**62  # far above any offset or row id; keeps a position inside SQLite's 64-bit integers


class PageTokens:
    """Makes and checks NextToken values with `mac(purpose, data)` (a MasterKey's); without one, with a key
    of this process (tokens then last until the server restarts)."""

    def __init__(self, mac: Callable[[str, bytes], bytes] | None = None) -> None:
        if mac is None:
            key = secrets.token_bytes(32)
            mac = lambda purpose, data: hmac.digest(key, purpose.encode() + b"\x00" + data, "sha256")  # noqa: E731
        self._mac = mac

    def _tag(self, scope: str, payload: bytes) -> bytes:
        return self._mac(_PURPOSE, scope.encode() + b"\x00" + payload)[:_MAC_BYTES]

    def encode(self, scope: str, position: int) -> str:
        payload = str(int(position)).encode("ascii")
        return base64.urlsafe_b64encode(bytes([_VERSION]) + self._tag(scope, payload) + payload).decode("ascii")

    def decode(self, scope: str, token: str | None) -> int:
        """The position a token of `scope` carries (0 without a token)."""
        if not token:
            return 0
        try:
            raw = base64.urlsafe_b64decode(token.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeError):
            raw = b""
        version, tag, payload = raw[:1], raw[1:1 + _MAC_BYTES], raw[1 + _MAC_BYTES:]
        if (version != bytes([_VERSION]) or not payload.isdigit() or len(payload) > 19
                or not hmac.compare_digest(tag, self._tag(scope, payload)) or int(payload) > _MAX_POSITION):
            raise InvalidPaginationTokenException(
                "The NextToken is not valid for this request. Pass the NextToken from the previous response "
                "unchanged, with the same filters."
            )
        return int(payload)

    def page(self, items: list, scope: str, token: str | None, max_results: int | None,
             default: int = 100) -> tuple[list, str | None]:
        """The page of an in-memory listing, and the token of the next one (None on the last page)."""
        start = self.decode(scope, token)
        size = max_results or default
        chunk = items[start: start + size]
        nxt = self.encode(scope, start + size) if start + size < len(items) else None
        return chunk, nxt

    def window(self, scope: str, token: str | None, max_results: int | None, default: int = 100) -> tuple[int, int]:
        """(offset, size) of the requested page; fetch size + 1 rows to learn whether another page follows."""
        return self.decode(scope, token), max_results or default

    def next_token(self, scope: str, offset: int, size: int, fetched: int) -> str | None:
        return self.encode(scope, offset + size) if fetched > size else None
