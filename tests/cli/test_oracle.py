"""The oracle: for each corpus case, ``openrek`` sends the same bodies and prints the same as ``aws``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cli import corpus
from tests.cli.oracle import bodies, normalize


def test_corpus_is_large_enough() -> None:
    assert len(corpus.CASES) >= 60


@pytest.mark.parametrize("case_id", [c[0] for c in corpus.CASES if c[0] not in corpus.BETTER_THAN_AWS])
def test_same_as_aws(case_id: str, oracle_results: dict[str, tuple[dict[str, Any], dict[str, Any]]]) -> None:
    aws, ork = oracle_results[case_id]
    assert bodies(ork["requests"]) == bodies(aws["requests"])
    assert ork["rc"] == aws["rc"], (aws["stderr"], ork["stderr"])
    assert normalize(ork["stderr"], ork["url"]) == normalize(aws["stderr"], aws["url"])
    assert normalize(ork["stdout"], ork["url"]) == normalize(aws["stdout"], aws["url"])


@pytest.mark.parametrize("case_id", sorted(corpus.BETTER_THAN_AWS))
def test_skeleton_output_where_aws_fails(case_id: str, oracle_results: dict[str, tuple[dict[str, Any], dict[str, Any]]]) -> None:
    aws, ork = oracle_results[case_id]
    assert aws["rc"] == 255 and "Parameter validation failed" in aws["stderr"]
    assert (ork["rc"], ork["stderr"], ork["requests"]) == (0, "", [])
    sample = json.loads(ork["stdout"])
    assert sample and all(len(v) >= 20 for k, v in sample.items() if k.endswith("Arn"))
