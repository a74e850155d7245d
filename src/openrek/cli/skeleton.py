"""``--generate-cli-skeleton``: sample JSON for an input (or output) shape.

Placeholders as AWS CLI v1 prints them: "" for strings, 0 / 0.0 for numbers, true for booleans,
"1970-01-01T00:00:00" for timestamps, null for blobs, ``{"KeyName": ...}`` for maps, one-element
lists, and ``{}`` where a structure recurses. Enums: v1 picks a random value; openrek picks the
first one so that the output is reproducible.
"""

from __future__ import annotations

import json
from typing import Any

from openrek.cli.model import Shape


def generate(shape: Shape | None, use_member_names: bool = False) -> Any:
    if shape is None:
        return {}
    return _gen(shape, [], "", use_member_names)


def _gen(shape: Shape, stack: list[str], name: str, names: bool) -> Any:
    stack.append(shape.name)
    try:
        t = shape.type_name
        if t == "structure":
            if stack.count(shape.name) > 1:
                return {}
            return {m: _gen(s, stack, m, names) for m, s in shape.members.items()}
        if t == "list":
            return [_gen(shape.member, stack, shape.member.name if names else "", names)]
        if t == "map":
            return {"KeyName": _gen(shape.value, stack, "", names)}
        if t == "string":
            if names:
                return name
            return shape.enum[0] if shape.enum else ""
        if t in ("integer", "long"):
            return 0
        if t in ("float", "double"):
            return 0.0
        if t == "boolean":
            return True
        if t == "timestamp":
            return "1970-01-01T00:00:00"
        return None
    finally:
        stack.pop()


def render(shape: Shape | None) -> str:
    """The input skeleton exactly as printed (indent 4, ASCII escapes, trailing newline)."""
    return json.dumps(generate(shape), indent=4) + "\n"
