"""``--generate-cli-skeleton input`` for every operation: byte for byte what ``aws`` prints.

aws fills enum strings with a random choice; openrek uses the first value. For inputs with enums
both outputs are compared after replacing every string that is one of the shape's enum values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from openrek.cli.model import load_service_model
from openrek.cli.naming import kebab
from tests.cli.oracle import cli_env, run_batch

MODEL = load_service_model()
OPS = [kebab(n) for n in MODEL.operation_names]


def _enum_values() -> set[str]:
    return {v for s in MODEL.shapes.values() for v in s.get("enum", [])}


@pytest.fixture(scope="module")
def skeletons(cli_home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Any]]:
    d = tmp_path_factory.mktemp("skeletons")
    args = [["rekognition", op, "--generate-cli-skeleton"] for op in OPS]
    args += [["rekognition", "wait", w, "--generate-cli-skeleton", "input"]
             for w in ("project-version-training-completed", "project-version-running")]
    env = cli_env(cli_home)
    aws = run_batch("aws", args, d, env)
    ork = run_batch("openrek", args, d, env)
    names = OPS + ["wait project-version-training-completed", "wait project-version-running"]
    return dict(zip(names, zip(aws, ork, strict=True), strict=True))


@pytest.mark.parametrize("op", OPS + ["wait project-version-training-completed", "wait project-version-running"])
def test_skeleton_matches_aws(op: str, skeletons: dict[str, tuple[Any, Any]]) -> None:
    aws, ork = skeletons[op]
    assert (ork["rc"], ork["stderr"]) == (aws["rc"], aws["stderr"]) == (0, "")
    if ork["stdout"] == aws["stdout"]:
        return
    enums = _enum_values()
    alternatives = "|".join(re.escape(e) for e in sorted(enums, key=len, reverse=True))
    pattern = re.compile(f'"({alternatives})"')
    assert pattern.sub('"<enum>"', ork["stdout"]) == pattern.sub('"<enum>"', aws["stdout"])
    assert json.loads(ork["stdout"]).keys() == json.loads(aws["stdout"]).keys()


def test_create_project_version_skeleton_is_byte_identical(skeletons: dict[str, tuple[Any, Any]]) -> None:
    aws, ork = skeletons["create-project-version"]
    assert ork["stdout"] == aws["stdout"]
    assert '"AutoCreate": true' in ork["stdout"] and '"KeyName": ""' in ork["stdout"]
