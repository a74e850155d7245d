"""Unit tests of the bounded JSON parser every outside document goes through (request bodies, manifest
lines, policy documents)."""

from __future__ import annotations

import pytest

from openrek import json_input
from openrek.json_input import JsonInputError


@pytest.mark.parametrize("text", [
    "[" * 100_000,  # the parser's own RecursionError
    "[" * 500 + "]" * 500,  # parses, but deeper than any walk over it should have to go
    '{"a": ' * 101 + "1" + "}" * 101,
    '{"Tags": {"k": ' + "[" * 200 + "]" * 200 + "}}",
])
def test_too_deep_is_an_input_error(text: str) -> None:
    with pytest.raises(JsonInputError, match="nested more than 100 levels deep"):
        json_input.loads(text)


def test_nesting_up_to_the_limit_parses() -> None:
    assert json_input.loads("[" * 100 + "]" * 100) is not None
    assert json_input.depth(json_input.loads('{"a": [{"b": 1}], "c": 2}')) == 3
    assert json_input.depth(5) == 0


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_constants_are_refused(literal: str) -> None:
    with pytest.raises(JsonInputError, match=f"{literal} is not a JSON value"):
        json_input.loads(f'{{"MinConfidence": {literal}}}')


def test_malformed_text_keeps_the_column() -> None:
    with pytest.raises(JsonInputError) as exc:
        json_input.loads('{"a": }')
    assert exc.value.colno == 7 and "column 7" in str(exc.value)
    with pytest.raises(JsonInputError):
        json_input.loads(b"\xff\xfe{")
    with pytest.raises(JsonInputError):  # Python refuses integers of more than 4300 digits
        json_input.loads("1" * 5000)
    assert isinstance(JsonInputError("x"), ValueError)  # callers catching ValueError keep working
