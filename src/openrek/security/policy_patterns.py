"""IAM policy patterns: `*`/`?` wildcards, ARNs matched part by part, and `${…}` policy variables.

Compiled once per policy; a pattern without variables is a prebuilt regex (or a plain comparison), one with
variables is resolved against the request's condition keys each time and its regex cached.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from enum import Enum
from functools import lru_cache

Context = Mapping[str, tuple[str, ...]]
"""Condition keys of one request: lower-cased name → its values (one for a single-valued key)."""

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


class Style(Enum):
    """How the wildcards of a pattern read."""

    LITERAL = "literal"  # no wildcards: the whole string must be equal
    GLOB = "glob"  # `*` any run of characters, `?` any one
    ARN = "arn"  # a glob per ARN part: in the first five parts a wildcard never crosses a `:`


# A token is (kind, text, default): kind "wild" (literal text whose wildcards count), "text" (literal text
# whose wildcards do not: an escape such as ${*}), "var" (text is the lower-cased key name, default the
# text after a comma: ${aws:userid, 'shared'}) or, once compiled, "src" (a regex fragment).
_Token = tuple[str, str, str | None]


def _tokens(pattern: str, variables: bool) -> list[_Token]:
    if not variables or "${" not in pattern:
        return [("wild", pattern, None)]
    out: list[_Token] = []
    pos = 0
    for m in _VARIABLE.finditer(pattern):
        if m.start() > pos:
            out.append(("wild", pattern[pos:m.start()], None))
        inner = m.group(1)
        if inner in _ESCAPES:
            out.append(("text", _ESCAPES[inner], None))
        else:
            d = _DEFAULT.match(inner)
            if d:
                out.append(("var", d.group(1).lower(), d.group(2)))
            else:
                out.append(("var", inner.strip().lower(), None))
        pos = m.end()
    if pos < len(pattern):
        out.append(("wild", pattern[pos:], None))
    return out


def _glob_source(text: str, style: Style, part: int) -> tuple[str, int]:
    """The regex for literal text with its wildcards; `part` is the ARN part it starts in (updated)."""
    if style is Style.LITERAL:
        return re.escape(text), part
    out = []
    for ch in text:
        in_head = style is Style.ARN and part < 5
        if ch == "*":
            out.append("[^:]*" if in_head else ".*")
        elif ch == "?":
            out.append("[^:]" if in_head else ".")
        else:
            if ch == ":" and style is Style.ARN:
                part += 1
            out.append(re.escape(ch))
    return "".join(out), part


@lru_cache(maxsize=4096)
def _compiled(source: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(source, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _resolve(key: str, default: str | None, ctx: Context) -> str | None:
    values = ctx.get(key)
    if values is not None and len(values) == 1:
        return values[0]
    return default


class Pattern:
    """One pattern of a policy (an Action, Resource, or condition value), ready to match strings."""

    __slots__ = ("text", "_match", "_tokens", "_style", "_ignore_case")

    def __init__(self, text: str, style: Style, *, ignore_case: bool = False, variables: bool = False) -> None:
        self.text = text
        self._style = style
        self._ignore_case = ignore_case
        tokens = _tokens(text, variables)
        if style is Style.ARN and sum(t.count(":") for kind, t, _ in tokens if kind != "var") < 5:
            self._style = style = Style.GLOB  # not a whole ARN ("*", "arn:aws:s3*"): one glob over the string
        self._tokens: list[_Token] | None = None
        self._match: Callable[[str], object] | None = None  # truthy: a match
        if any(kind == "var" for kind, _, _ in tokens):
            self._tokens = self._prerender(tokens)
            return
        literal = "".join(t for _, t, _ in tokens)
        has_wildcards = style is not Style.LITERAL and any(
            kind == "wild" and ("*" in t or "?" in t) for kind, t, _ in tokens)
        if style is not Style.LITERAL and literal == "*" and tokens[0][0] == "wild":
            self._match = _always
        elif not has_wildcards:
            if ignore_case:
                folded = literal.lower()
                self._match = lambda s: s.lower() == folded
            else:
                self._match = literal.__eq__
        else:
            self._match = _compiled("".join(t for _, t, _ in self._prerender(tokens)), ignore_case).fullmatch

    def _prerender(self, tokens: list[_Token]) -> list[_Token]:
        """The tokens with their literal text turned into regex source once ("src"); variables stay."""
        out: list[_Token] = []
        part = 0
        for kind, text, default in tokens:
            if kind == "wild":
                src, part = _glob_source(text, self._style, part)
                out.append(("src", src, None))
            elif kind == "text":
                out.append(("src", re.escape(text), None))
            else:
                out.append((kind, text, default))
        return out

    def matches(self, value: str, ctx: Context) -> bool:
        """Whether `value` matches; a variable the request has no (single) value for matches nothing."""
        if self._match is not None:
            return bool(self._match(value))
        assert self._tokens is not None
        pieces = []
        for kind, text, default in self._tokens:
            if kind == "src":
                pieces.append(text)
                continue
            resolved = _resolve(text, default, ctx)
            if resolved is None:
                return False
            pieces.append(re.escape(resolved))
        return _compiled("".join(pieces), self._ignore_case).fullmatch(value) is not None

    def __repr__(self) -> str:
        return f"Pattern({self.text!r}, {self._style.value})"


def _always(_: str) -> bool:
    return True
