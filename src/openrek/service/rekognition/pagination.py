"""Opaque NextToken values for Describe* pagination: an offset bound to the listing it came from."""

from __future__ import annotations

import base64
import hashlib
import json

from openrek.service.errors import InvalidPaginationTokenException


def _scope_digest(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:16]


def encode_token(scope: str, offset: int) -> str:
    raw = json.dumps({"o": offset, "s": _scope_digest(scope)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_token(scope: str, token: str | None) -> int:
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        offset = int(data["o"])
        if data["s"] != _scope_digest(scope) or offset < 0:
            raise ValueError("scope")
    except (ValueError, KeyError, TypeError, UnicodeError) as exc:
        raise InvalidPaginationTokenException(
            "The NextToken is not valid for this request. Pass the NextToken from the previous response "
            "unchanged, with the same filters."
        ) from exc
    return offset


def page(items: list, scope: str, token: str | None, max_results: int | None, default: int = 100) -> tuple[list, str | None]:
    start = decode_token(scope, token)
    size = max_results or default
    chunk = items[start : start + size]
    nxt = encode_token(scope, start + size) if start + size < len(items) else None
    return chunk, nxt


def page_window(scope: str, token: str | None, max_results: int | None, default: int = 100) -> tuple[int, int]:
    """(offset, size) of the requested page; fetch size + 1 rows to learn whether another page follows."""
    return decode_token(scope, token), max_results or default


def next_token(scope: str, offset: int, size: int, fetched: int) -> str | None:
    return encode_token(scope, offset + size) if fetched > size else None
