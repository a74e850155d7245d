"""Run many command lines of one CLI (``aws`` or ``openrek``) in one process, each against a recorder.

Usage: ``python batch_runner.py aws|openrek cases.json results.json``. Each case is
``{"args": [...]}``; ``{url}`` and ``{dir}`` in arguments are replaced by the recorder's URL and the
case directory, and ``AWS_ENDPOINT_URL`` points both CLIs at the recorder. Each result holds stdout, stderr, the exit code and the recorded requests.
Start-up is paid once per batch instead of once per case, which keeps the oracle suite fast.
"""

from __future__ import annotations

import io
import json
import os
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from recorder import Recorder  # noqa: E402


def _runner(kind: str) -> Any:
    if kind == "aws":
        sys.argv[0] = "aws"
        from awscli.clidriver import create_clidriver

        return lambda args: create_clidriver().main(args)
    from openrek.cli.main import main

    return main


def run_case(run: Any, args: list[str]) -> tuple[str, str, int]:
    out, err = io.StringIO(), io.StringIO()
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        try:
            rc = run(args)
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.stdout, sys.stderr = old_out, old_err
    return out.getvalue(), err.getvalue(), int(rc or 0)


def main() -> int:
    kind, cases_path, results_path = sys.argv[1:4]
    with open(cases_path) as f:
        spec = json.load(f)
    run = _runner(kind)
    results = []
    with Recorder() as rec:
        os.environ["AWS_ENDPOINT_URL"] = rec.url
        for case in spec["cases"]:
            args = [a.replace("{url}", rec.url).replace("{dir}", spec["dir"]) for a in case["args"]]
            rec.clear()
            stdout, stderr, rc = run_case(run, args)
            results.append({"stdout": stdout, "stderr": stderr, "rc": rc, "requests": rec.take(), "url": rec.url})
    with open(results_path, "w") as f:
        json.dump(results, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
