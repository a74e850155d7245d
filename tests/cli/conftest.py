"""Fixtures of the CLI suite: the corpus run once through both CLIs, a temp HOME, a recorder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli import corpus
from tests.cli.oracle import cli_env, run_batch
from tests.cli.recorder import Recorder


@pytest.fixture(scope="session")
def cli_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cli-home")
    corpus.write_files(home)
    return home


@pytest.fixture(scope="session")
def oracle_results(cli_home: Path) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Every corpus case run by ``aws`` and by ``openrek`` (one process each, one recorder each)."""
    env = cli_env(cli_home)
    args = [a for _, a in corpus.CASES]
    aws = run_batch("aws", args, cli_home, env)
    ork = run_batch("openrek", args, cli_home, env)
    return {cid: (a, o) for (cid, _), a, o in zip(corpus.CASES, aws, ork, strict=True)}


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with Recorder() as rec:
        yield rec
