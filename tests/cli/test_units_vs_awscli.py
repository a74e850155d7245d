"""In-process differential tests against awscli's own pieces (awscli is a test dependency only).

Random inputs through openrek's shorthand parser and output formatters and through awscli's;
results must be identical. Fast, so it runs thousands of cases.
"""

from __future__ import annotations

import argparse
import io
import random
from typing import Any

import pytest

awscli_shorthand = pytest.importorskip("awscli.shorthand")

from openrek.cli import formatters, shorthand  # noqa: E402
from openrek.cli.table import render_table  # noqa: E402

ALPHABET = list("ab=,[]{}'\"\\ @:.-_x1 ") + ["\n", "é", "\t"]
SEEDS = ["A=b,C=d", "A=[a,b],B={c=d,e=[f]}", "A='x,y',B=\"q\\\"r\"", "A=a\\,b,C=1", "K=,L=", "A=b,c,D=e",
         "Assets=[{GroundTruthManifest={S3Object={Bucket=b,Name=k}}}]", "a= b , c =d", "A={B=[{C=d},{E='f'}]}"]


def _mutate(rnd: random.Random) -> str:
    if rnd.random() < 0.5:
        chars = list(rnd.choice(SEEDS))
        for _ in range(rnd.randint(0, 3)):
            pos = rnd.randint(0, len(chars))
            op = rnd.random()
            if op < 0.4:
                chars.insert(pos, rnd.choice(ALPHABET))
            elif chars and op < 0.8:
                del chars[min(pos, len(chars) - 1)]
            elif chars:
                chars[min(pos, len(chars) - 1)] = rnd.choice(ALPHABET)
        return "".join(chars)
    return "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, 12)))


def _outcome(fn: Any, text: str, error: type[Exception]) -> tuple[str, Any]:
    try:
        return "ok", fn(text)
    except error as e:
        return "error", str(e)


def test_shorthand_parser_matches_awscli() -> None:
    rnd = random.Random(7)
    for _ in range(20000):
        text = _mutate(rnd)
        theirs = _outcome(awscli_shorthand.ShorthandParser().parse, text, awscli_shorthand.ShorthandParseError)
        ours = _outcome(shorthand.parse, text, shorthand.ShorthandError)
        assert ours == theirs, text


def _random_doc(rnd: random.Random, depth: int = 0) -> Any:
    kind = rnd.random()
    if depth > 3 or kind < 0.4:
        return rnd.choice(["x", "a longer value", 1, 2.5, True, None, "é", "", 1700000000.123, "日本"])
    if kind < 0.7:
        keys = rnd.sample(["Name", "Arn", "Status", "Items", "Z", "a", "Count", "Tags"], rnd.randint(1, 5))
        return {k: _random_doc(rnd, depth + 1) for k in keys}
    n = rnd.randint(0, 3)
    if rnd.random() < 0.5:
        return [_random_doc(rnd, depth + 1) for _ in range(n)]
    return [{k: _random_doc(rnd, depth + 2) for k in rnd.sample(["Name", "Value", "Sub"], 2)} for _ in range(n)]


def test_text_format_matches_awscli() -> None:
    from awscli.text import format_text

    rnd = random.Random(11)
    for _ in range(3000):
        doc = {"Top": _random_doc(rnd), "More": _random_doc(rnd)}
        theirs, ours = io.StringIO(), io.StringIO()
        try:
            format_text(doc, theirs)
            expected: tuple[str, str] = ("ok", theirs.getvalue())
        except Exception as e:  # awscli fails on lists mixing objects and lists; so must we
            expected = ("error", type(e).__name__)
        try:
            formatters.write_text(doc, ours)
            got: tuple[str, str] = ("ok", ours.getvalue())
        except Exception as e:
            got = ("error", type(e).__name__)
        assert got == expected, doc


def test_table_format_matches_awscli() -> None:
    from awscli.formatter import TableFormatter

    rnd = random.Random(13)
    for _ in range(1500):
        doc = {"Top": _random_doc(rnd), "Rows": [_random_doc(rnd, 2) for _ in range(rnd.randint(0, 3))]}
        theirs = io.StringIO()
        try:
            TableFormatter(argparse.Namespace(color="off", query=None))("Op", doc, theirs)
            expected: tuple[str, Any] = ("ok", theirs.getvalue())
        except Exception as e:  # awscli fails on some shapes (e.g. mixed rows); so must we
            expected = ("error", type(e).__name__)
        ours = io.StringIO()
        try:
            render_table("Op", doc, "off", ours)
            got: tuple[str, Any] = ("ok", ours.getvalue())
        except Exception as e:
            got = ("error", type(e).__name__)
        if expected[0] == "error":
            assert got[0] == "error", (doc, expected)
        else:
            assert got == expected, doc
