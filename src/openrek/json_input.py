"""Parses JSON that arrives from outside (request bodies, manifest lines, policy documents) within bounds.

`json.loads` alone is not enough for hostile text: a body of `[[[[…` raises RecursionError (not
ValueError) in the parser, and a document nested a few hundred levels deep parses but then breaks
every recursive walk over it (validation, error rendering, stripping keys). It also accepts `NaN` and
`Infinity`, which are not JSON and cannot be written back as JSON. `loads` refuses all of these with
one exception type, `JsonInputError` (a ValueError), whose `msg`/`colno` say what and where.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 100  # arrays and objects inside each other; AWS's deepest input shape needs fewer than 10


class JsonInputError(ValueError):
    """Text that is no JSON a client should send: malformed, with NaN/Infinity, or nested too deep."""

    def __init__(self, msg: str, colno: int | None = None) -> None:
        super().__init__(msg if colno is None else f"{msg} at column {colno}")
        self.msg = msg
        self.colno = colno


def _refuse_constant(name: str) -> Any:
    raise JsonInputError(f"{name} is not a JSON value (numbers must be finite)")


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """The parsed value, or JsonInputError; at most `max_depth` arrays/objects nested in each other."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except JsonInputError:
        raise
    except RecursionError:
        raise JsonInputError(f"arrays and objects are nested more than {max_depth} levels deep") from None
    except json.JSONDecodeError as exc:
        raise JsonInputError(exc.msg, exc.colno) from None
    except (ValueError, UnicodeDecodeError) as exc:  # bad UTF-8, an integer of over 4300 digits
        raise JsonInputError(str(exc)) from None
    if depth(value, max_depth) > max_depth:
        raise JsonInputError(f"arrays and objects are nested more than {max_depth} levels deep")
    return value


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deep arrays and objects nest in `value` (0 for a scalar), counted without recursion; stops
    counting once past `limit`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest
