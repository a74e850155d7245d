"""Helpers of the oracle suite: run argument lists through ``aws`` and ``openrek``, normalise, compare.

``aws`` is AWS CLI v1 (a test dependency only). Its usage banner carries a note about AWS CLI v2
and names the program ``aws``; both are mapped to openrek's wording before comparing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
AWS = str(VENV_BIN / "aws") if (VENV_BIN / "aws").exists() else str(ROOT / ".venv" / "bin" / "aws")
HERE = Path(__file__).resolve().parent

V2_NOTE = (
    "\rNote: AWS CLI version 2, the latest major version of the AWS CLI, is now stable and recommended for "
    "general use. For more information, see the AWS CLI version 2 installation instructions at: "
    "https://docs.aws.amazon.com/cli/latest/userguide/install-cliv2.html\n\nusage: "
)
_RENAMES = [
    ("aws [options]", "openrek [options]"),
    ("  aws help", "  openrek help"),
    ("  aws <command>", "  openrek <command>"),
    ("aws: error:", "openrek: error:"),
]


def normalize(text: str, url: str = "") -> str:
    """aws's stderr/stdout in openrek's words (program name, no AWS CLI v2 note), URL made generic."""
    text = text.replace("usage: " + V2_NOTE, "usage: ")
    text = text.replace("usage: " + V2_NOTE.replace("\r", "\n"), "usage: ")  # universal newlines
    for a, b in _RENAMES:
        text = text.replace(a, b)
    return text.replace(url, "{url}") if url else text


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OPENREK_"))}
    env.update(
        HOME=str(home),
        AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
        AWS_SECRET_ACCESS_KEY="secret",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        LC_ALL="C.UTF-8",
        PYTHONIOENCODING="utf-8",
        COLUMNS="80",
    )
    env.update(extra)
    return env


def run_batch(kind: str, cases: list[list[str]], case_dir: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    spec = case_dir / f"{kind}-cases.json"
    out = case_dir / f"{kind}-results.json"
    spec.write_text(json.dumps({"cases": [{"args": a} for a in cases], "dir": str(case_dir)}))
    proc = subprocess.run(
        [sys.executable, str(HERE / "batch_runner.py"), kind, str(spec), str(out)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} batch failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(out.read_text())


def openrek_cmd() -> list[str]:
    return [sys.executable, "-m", "openrek.cli.main"]


def run(cmd: list[str], env: dict[str, str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, **kw)


def bodies(requests: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(r["target"], r["body"]) for r in requests]
