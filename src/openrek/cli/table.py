"""``--output table``: AWS CLI v1's boxed tables, titled with the operation name.

Sections nest by indentation; a section with one row and headers turns vertical when the table
would be wider than the terminal. Colours (blue cells, dim yellow borders) only with ``--color on``
or, with ``auto``, on a terminal.
"""

from __future__ import annotations

import os
import struct
import sys
import unicodedata
from typing import Any, TextIO

RESET = "\x1b[0m"
CELL = "\x1b[1m\x1b[34m"
BORDER = "\x1b[2m\x1b[33m"


def text_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in text)


def terminal_width(default: int = 80) -> int:
    try:
        from fcntl import ioctl
        from termios import TIOCGWINSZ

        return struct.unpack("hhhh", ioctl(sys.stdout, TIOCGWINSZ, "\000" * 8))[1]
    except Exception:
        return default


def _center(text: str, length: int, left: str = "|", right: str = "|", width: int | None = None) -> str:
    width = text_width(text) if width is None else width
    start = (length // 2) - (width // 2) - 1
    so_far = text_width(left) + start + width
    return left + " " * start + text + " " * (length - text_width(right) - so_far) + right


def _left(text: str, length: int, left: str = "|", right: str = "|", width: int | None = None) -> str:
    width = text_width(text) if width is None else width
    pad = 2 if length - (width + 2 + text_width(left) + text_width(right)) >= 0 else 0
    so_far = len(left) + pad + width
    return left + " " * pad + text + " " * (length - so_far - len(right)) + right


class Section:
    def __init__(self, title: str = "", indent: int = 0) -> None:
        self.title = title
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self.indent = indent
        self._ncols: int | None = None
        self._widths: list[int] = []

    def _track(self, row: list[str]) -> None:
        if not self._widths:
            self._widths = [text_width(e) for e in row]
        else:
            for i, e in enumerate(row):
                self._widths[i] = max(text_width(e), self._widths[i])

    def add_header(self, headers: list[str]) -> None:
        self._track(headers)
        if self._ncols is None:
            self._ncols = len(headers)
        self.headers = headers

    def add_row(self, row: list[Any]) -> None:
        if self._ncols is None:
            self._ncols = len(row)
        if len(row) != self._ncols:
            raise ValueError(f"Row should have {self._ncols} elements, instead it has {len(row)}")
        cells = [str(r) for r in row]
        self.rows.append(cells)
        self._track(cells)

    def column_widths(self, padding: int = 0, max_width: int | None = None) -> list[int]:
        raw = [w + padding for w in self._widths]
        if max_width is None or not raw:
            return raw
        factor = max_width / float(sum(raw))
        scaled = [int(round(factor * w)) for w in raw]
        off = sum(scaled) - max_width
        while off != 0:
            order = range(len(scaled)) if off > 0 else reversed(range(len(scaled)))
            for i in order:
                if off > 0:
                    scaled[i] -= 1
                    off -= 1
                else:
                    scaled[i] += 1
                    off += 1
                if off == 0:
                    break
        return scaled

    def total_width(self, padding: int = 0, outer: int = 0) -> int:
        total = sum(w + padding for w in self.column_widths()) + 2 + 2 * outer
        return max(text_width(self.title) + 2 + 2 * outer, total)


class Table:
    def __init__(self, colored: bool, width: int | None = None) -> None:
        self.sections: list[Section] = []
        self.current: Section | None = None
        self.colored = colored
        self.width = terminal_width() if width is None else width

    def new_section(self, title: str, indent: int = 0) -> None:
        self.current = Section(title, indent)
        self.sections.append(self.current)

    def _max_width(self) -> int:
        return max(s.total_width(padding=4, outer=s.indent) for s in self.sections)

    def render(self, out: TextIO) -> None:
        width = self._max_width()
        if width > self.width:
            for i, s in enumerate(self.sections):
                if len(s.rows) == 1 and s.headers:
                    v = Section(s.title, s.indent)
                    for h, e in zip(s.headers, s.rows[0], strict=False):
                        v.add_row([h, e])
                    self.sections[i] = v
            width = self._max_width()
        self._write(out, "-" * width + "\n")
        for s in self.sections:
            self._section(s, width, out)

    # Colour mimics colorama with autoreset: every write is followed by a reset when colour is on.
    def _write(self, out: TextIO, text: str) -> None:
        out.write(text)
        if self.colored:
            out.write(RESET)

    def _cell(self, text: str) -> str:
        return CELL + text + RESET if self.colored else text

    def _indent_char(self) -> str:
        return BORDER + "|" + RESET if self.colored else "|"

    def _line(self, out: TextIO, indent: int, text: str) -> None:
        bar = self._indent_char()
        self._write(out, bar * indent)
        if text.endswith("\n"):
            self._write(out, text[:-1])
            self._write(out, bar * indent)
            self._write(out, "\n")
        else:
            self._write(out, text)

    def _section(self, s: Section, width: int, out: TextIO) -> None:
        width -= s.indent * 2
        if s.title:
            self._line(out, s.indent, _center(s.title, width, "|", "|", text_width(s.title)) + "\n")
            if not s.headers and not s.rows:
                self._line(out, s.indent, "+%s+" % ("-" * (width - 2)) + "\n")
        if s.headers:
            widths = s.column_widths(padding=4, max_width=width)
            line = ""
            for i, (w, h) in enumerate(zip(widths, s.headers, strict=False)):
                line += _center(h, w, "|" if i == 0 else "", "|", text_width(h))
            self._rule(out, s.indent, widths)
            self._line(out, s.indent, line + "\n")
        if s.rows:
            widths = s.column_widths(padding=4, max_width=width)
            if not widths:
                return
            self._rule(out, s.indent, widths)
            for row in s.rows:
                line = ""
                for i, (w, e) in enumerate(zip(widths, row, strict=False)):
                    line += _left(self._cell(e), w, "|" if i == 0 else "", "|", text_width(e))
                self._line(out, s.indent, line + "\n")
            self._rule(out, s.indent, widths)

    def _rule(self, out: TextIO, indent: int, widths: list[int]) -> None:
        parts = ["+%s+" % ("-" * (w - 2)) if i == 0 else "%s+" % ("-" * (w - 1)) for i, w in enumerate(widths)]
        self._line(out, indent, "".join(parts) + "\n")


def _scalar(v: Any) -> bool:
    return not isinstance(v, (list, dict))


def _split_keys(d: dict[str, Any]) -> tuple[list[str], list[str]]:
    return sorted(k for k in d if _scalar(d[k])), sorted(k for k in d if not _scalar(d[k]))


class _Builder:
    def __init__(self, table: Table) -> None:
        self.t = table

    def build(self, title: str | None, current: Any, indent: int = 0) -> bool:
        if not current:
            return False
        if title is not None:
            self.t.new_section(title, indent)
        if isinstance(current, list):
            if isinstance(current[0], dict):
                self._from_list(current, indent, title)
            else:
                for item in current:
                    if _scalar(item):
                        self._row([item])
                    elif all(_scalar(e) for e in item):
                        self._row(list(item))
                    else:
                        self.build(None, item)
        if isinstance(current, dict):
            self._from_dict(current, indent)
        return True

    def _row(self, row: list[Any]) -> None:
        assert self.t.current is not None
        self.t.current.add_row(row)

    def _header(self, headers: list[str]) -> None:
        assert self.t.current is not None
        self.t.current.add_header(headers)

    def _from_dict(self, current: dict[str, Any], indent: int) -> None:
        headers, more = _split_keys(current)
        if len(headers) == 1:
            self._row([headers[0], current[headers[0]]])
        elif headers:
            self._header(headers)
            self._row([current[k] for k in headers])
        for k in more:
            self.build(k, current[k], indent + 1)

    def _from_list(self, current: list[Any], indent: int, title: str | None) -> None:
        headers_set: set[str] = set()
        more_set: set[str] = set()
        for item in current:
            h, m = _split_keys(item)
            headers_set.update(h)
            more_set.update(m)
        headers, more = sorted(headers_set), sorted(more_set)
        self._header(headers)
        for n, element in enumerate(current):
            if n and more:
                self.t.new_section(title or "", indent)
                self._header(headers)
            self._row([element.get(h, "") for h in headers])
            for k in more:
                if k in element:
                    self.build(k, element[k], indent + 1)


def _colored(color: str, stream: TextIO) -> bool:
    if color == "on":
        return True
    if color == "off":
        return False
    if color == "auto":
        try:
            return os.isatty(sys.stdout.fileno())
        except Exception:
            return False
    raise ValueError(f"Unknown color option: {color}")


def render_table(title: str, data: Any, color: str, stream: TextIO) -> None:
    table = Table(_colored(color, stream))
    if _Builder(table).build(title, data):
        try:
            table.render(stream)
        except OSError:
            pass
