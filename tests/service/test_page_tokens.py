"""NextToken values: MACed with the master key, bound to their listing, and checked before use."""

from __future__ import annotations

import base64
import secrets

import pytest

from openrek.security.master_key import MasterKey
from openrek.service.errors import InvalidPaginationTokenException
from openrek.service.rekognition.pagination import PageTokens


def test_round_trip_and_restart() -> None:
    key = secrets.token_bytes(32)
    tokens = PageTokens(MasterKey(key).mac)
    token = tokens.encode("projects|a", 40)
    assert tokens.decode("projects|a", token) == 40 and tokens.decode("projects|a", None) == 0
    assert PageTokens(MasterKey(key).mac).decode("projects|a", token) == 40  # the same key after a restart


@pytest.mark.parametrize("tamper", [
    lambda t, scope: (PageTokens(MasterKey(secrets.token_bytes(32)).mac), t, scope),  # another server's key
    lambda t, scope: (None, t, scope + "x"),  # another listing
    lambda t, scope: (None, t[:-1], scope),
    lambda t, scope: (None, "%%%", scope),
    lambda t, scope: (None, base64.urlsafe_b64encode(base64.urlsafe_b64decode(t)[:-1] + b"9").decode(), scope),
])
def test_altered_tokens_are_refused(tamper) -> None:  # type: ignore[no-untyped-def]
    tokens = PageTokens(MasterKey(secrets.token_bytes(32)).mac)
    other, token, scope = tamper(tokens.encode("entries|d", 12), "entries|d")
    with pytest.raises(InvalidPaginationTokenException):
        (other or tokens).decode(scope, token)


def test_without_a_master_key_tokens_last_for_the_process() -> None:
    tokens = PageTokens()
    assert tokens.decode("s", tokens.encode("s", 3)) == 3
    with pytest.raises(InvalidPaginationTokenException):
        PageTokens().decode("s", tokens.encode("s", 3))


def test_pages() -> None:
    tokens = PageTokens()
    items = list(range(5))
    chunk, nxt = tokens.page(items, "s", None, 2)
    seen = list(chunk)
    while nxt:
        chunk, nxt = tokens.page(items, "s", nxt, 2)
        seen += chunk
    assert seen == items
