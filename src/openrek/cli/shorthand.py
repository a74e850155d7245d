"""Shorthand syntax (``Key=value,Other={A=b},List=[x,y]``) parsed the way AWS CLI v1 parses it.

``parse`` is purely syntactic; ``coerce`` then walks the parsed value with the argument's shape,
turning strings into numbers and booleans and single values into one-element lists.
"""

from __future__ import annotations

from typing import Any

from openrek.cli.model import Shape

_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.#/:")
_WHITESPACE = frozenset(" \t\n\r\x0b\x0c")


def _first_char_ok(ch: str) -> bool:
    # Anything printable except space, quotes, comma, equals, '[' and '{' (and nothing beyond the BMP).
    o = ord(ch)
    return 0x21 <= o <= 0xFFFF and ch not in "\"',=[{"


def _first_follow_ok(ch: str) -> bool:
    # Whitespace or printable, except quotes, comma, ']' and '}'.
    return ch.isspace() or (0x21 <= ord(ch) <= 0xFFFF and ch not in "\"',]}")


def _second_follow_ok(ch: str) -> bool:
    # Whitespace or printable, except quotes, comma and equals.
    return ch.isspace() or (0x21 <= ord(ch) <= 0xFFFF and ch not in "\"',=")


class ShorthandError(Exception):
    """Base of the parse errors; the message points at the failing character."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


def _point_at(text: str, index: int) -> str:
    before, after = text[:index], text[index:]
    shown, rest, col = text, "", index
    if "\n" in before:
        col = index - before.rindex("\n") - 1
    if "\n" in after:
        cut = index + after.index("\n")
        shown, rest = text[:cut], text[cut:]
    return f"{shown}\n{' ' * col}^{rest}"


class ShorthandSyntaxError(ShorthandError):
    def __init__(self, text: str, expected: str, actual: str, index: int) -> None:
        super().__init__(f"Expected: '{expected}', received: '{actual}' for input:\n{_point_at(text, index)}")


class DuplicateKeyError(ShorthandError):
    def __init__(self, key: str, text: str, index: int) -> None:
        super().__init__(
            f'Second instance of key "{key}" encountered for input:\n{_point_at(text, index)}\n'
            'This is often because there is a preceding "," instead of a space.'
        )


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.load_files = False

    # -- low level -------------------------------------------------------------------------
    def eof(self) -> bool:
        return self.i >= len(self.s)

    def cur(self) -> str | None:
        return self.s[self.i] if self.i < len(self.s) else None

    def skip_ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in _WHITESPACE:
            self.i += 1

    def expect(self, ch: str, ws: bool = False) -> None:
        if ws:
            self.skip_ws()
        if self.eof():
            raise ShorthandSyntaxError(self.s, ch, "EOF", self.i)
        if self.s[self.i] != ch:
            raise ShorthandSyntaxError(self.s, ch, self.s[self.i], self.i)
        self.i += 1
        if ws:
            self.skip_ws()

    def word(self, follow: Any) -> str | None:
        """A bare word: one start character then follow characters; ``\\,`` counts as one."""
        s, i, n = self.s, self.i, len(self.s)
        start = i
        first = True
        while i < n:
            if s.startswith("\\,", i):
                i += 2
            elif (first and _first_char_ok(s[i])) or (not first and follow(s[i])):
                i += 1
            else:
                break
            first = False
        if i == start:
            return None
        self.i = i
        return s[start:i]

    def quoted(self, q: str) -> str:
        s, start = self.s, self.i
        if self.cur() != q:
            name = "singled quoted" if q == "'" else "double quoted"
            raise ShorthandSyntaxError(s, f"<{name}>", "<none>", self.i)
        i = start + 1
        last_escaped_quote = -1
        end = -1
        while i < len(s):
            if s.startswith("\\" + q, i):
                last_escaped_quote = i + 1
                i += 2
            elif s[i] == q:
                end = i
                break
            else:
                i += 1
        if end < 0:
            if last_escaped_quote < 0:
                name = "singled quoted" if q == "'" else "double quoted"
                raise ShorthandSyntaxError(s, f"<{name}>", "<none>", self.i)
            end = last_escaped_quote
        self.i = end + 1
        inner = s[start + 1 : end]
        value = inner.replace("\\" + q, q).replace("\\\\", "\\")
        return self.maybe_file(value)

    def maybe_file(self, value: str) -> Any:
        if self.load_files:
            from openrek.cli.paramfile import load_local

            loaded = load_local(value)
            if loaded is not None:
                return loaded
        return value

    # -- grammar ---------------------------------------------------------------------------
    def parameter(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        key, val = self.keyval()
        params[key] = val
        last = self.i
        while not self.eof():
            self.expect(",", ws=True)
            key, val = self.keyval()
            if key in params:
                raise DuplicateKeyError(key, self.s, last + 1)
            params[key] = val
            last = self.i
        return params

    def key(self) -> str:
        start = self.i
        while not self.eof() and self.s[self.i] in _KEY_CHARS:
            self.i += 1
        return self.s[start : self.i]

    def at_sign(self) -> None:
        self.load_files = False
        try:
            self.expect("@", ws=True)
            self.load_files = True
        except ShorthandSyntaxError:
            pass

    def keyval(self) -> tuple[str, Any]:
        key = self.key()
        self.at_sign()
        self.expect("=", ws=True)
        return key, self.values()

    def values(self) -> Any:
        if self.eof():
            return ""
        if self.cur() == "[":
            return self.explicit_list()
        if self.cur() == "{":
            return self.hash_literal()
        return self.csv_value()

    def csv_value(self) -> Any:
        first = self.first_value()
        self.skip_ws()
        if self.eof() or self.s[self.i] != ",":
            return first
        self.expect(",", ws=True)
        items = [first]
        while True:
            try:
                current = self.second_value()
                self.skip_ws()
                if self.eof():
                    items.append(current)
                    break
                self.expect(",", ws=True)
                items.append(current)
            except ShorthandSyntaxError:
                if self.eof():
                    raise
                while self.i >= 0 and self.s[self.i] != ",":
                    self.i -= 1
                break
        return first if len(items) == 1 else items

    def bare_value(self, follow: Any) -> Any:
        raw = self.word(follow)
        if raw is None:
            return None
        return self.maybe_file(raw.replace("\\,", ",").rstrip())

    def first_value(self) -> Any:
        c = self.cur()
        if c == "'" or c == '"':
            return self.quoted(c)
        value = self.bare_value(_first_follow_ok)
        return "" if value is None else value

    def second_value(self) -> Any:
        c = self.cur()
        if c == "'" or c == '"':
            return self.quoted(c)
        value = self.bare_value(_second_follow_ok)
        if value is None:
            raise ShorthandSyntaxError(self.s, "<second>", "<none>", self.i)
        return value

    def explicit_list(self) -> list[Any]:
        self.expect("[", ws=True)
        items: list[Any] = []
        while self.cur() != "]":
            items.append(self.explicit_value())
            self.skip_ws()
            if self.cur() != "]":
                self.expect(",")
                self.skip_ws()
        self.expect("]")
        return items

    def explicit_value(self) -> Any:
        c = self.cur()
        if c == "[":
            return self.explicit_list()
        if c == "{":
            return self.hash_literal()
        return self.first_value()

    def hash_literal(self) -> dict[str, Any]:
        self.expect("{", ws=True)
        out: dict[str, Any] = {}
        while self.cur() != "}":
            key = self.key()
            self.at_sign()
            self.expect("=", ws=True)
            value = self.explicit_value()
            self.skip_ws()
            if self.cur() != "}":
                self.expect(",")
                self.skip_ws()
            out[key] = value
        self.expect("}")
        return out


def parse(text: str) -> dict[str, Any]:
    """Parse one shorthand string into nested dicts, lists and strings."""
    if isinstance(text, bytes):
        # ``fileb://`` contents given to a structure: fail with v1's (accidental) messages.
        if text:
            raise TypeError("'in <string>' requires string as left operand, not int")
        raise TypeError("a bytes-like object is required, not 'str'")
    return _Parser(text).parameter()


class DocumentTypeError(Exception):
    pass


def coerce(value: Any, shape: Shape) -> None:
    """Adjust a parsed shorthand value in place to the types its shape asks for."""
    _visit({}, shape, "", value)


def _visit(parent: Any, shape: Shape, name: Any, value: Any) -> None:
    t = shape.type_name
    if t == "structure":
        if value is not None and shape.is_document_type:
            raise DocumentTypeError()
        if not isinstance(value, dict):
            return
        for member_name, member_shape in shape.members.items():
            try:
                _visit(value, member_shape, member_name, value.get(member_name))
            except DocumentTypeError:
                raise ShorthandError(
                    "Shorthand syntax does not support document types. Use JSON input for top-level "
                    f"argument to specify nested parameter: {member_name}"
                ) from None
    elif t == "list":
        if not isinstance(value, list):
            if value is not None:
                parent[name] = [value]
            return
        for i, element in enumerate(value):
            _visit(value, shape.member, i, element)
    elif t == "map":
        if not isinstance(value, dict):
            return
        for k, v in value.items():
            _visit(value, shape.value, k, v)
    else:
        if value is None:
            return
        if t in ("integer", "long"):
            parent[name] = int(value)
        elif t in ("double", "float"):
            parent[name] = float(value)
        elif t == "boolean":
            if value.lower() == "true":
                parent[name] = True
            elif value.lower() == "false":
                parent[name] = False
