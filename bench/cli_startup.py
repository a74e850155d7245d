"""CLI start-up: wall-clock of ``openrek`` against ``aws`` (v1) for the same command lines, side by side.

Two commands: ``rekognition create-project-version --generate-cli-skeleton input`` (no request) and a
real ``rekognition describe-projects`` against a real ``openrek server`` (started here on a free port,
temporary data dir). Each is run ``--runs`` times, alternating aws and openrek; the table shows the
median and best wall-clock seconds and openrek/aws (of the medians). Target: openrek <= 0.5x aws.
Both run with a warmed bytecode cache in a temporary ``PYTHONPYCACHEPREFIX`` (this environment sets
``PYTHONDONTWRITEBYTECODE``, which would otherwise make openrek recompile its modules on every run).

    .venv/bin/python bench/cli_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server import ServerProcess  # noqa: E402

BIN = Path(sys.executable).parent


def openrek_cmd() -> list[str]:
    script = BIN / "openrek"
    return [str(script)] if script.exists() else [sys.executable, "-m", "openrek.cli.main"]


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "OPENREK_")) and k != "PYTHONDONTWRITEBYTECODE"}
        # Both CLIs get the same, warmed bytecode cache (outside the source tree), as an installed CLI has.
        env.update(HOME=str(home), AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
                   AWS_DEFAULT_REGION="us-east-1", PYTHONPATH=str(ROOT / "src"),
                   PYTHONPYCACHEPREFIX=str(Path(tmp) / "pycache"))
        with ServerProcess(Path(tmp) / "data") as server:
            env["AWS_ENDPOINT_URL"] = server.endpoint
            env["OPENREK_ENDPOINT"] = server.endpoint
            commands = {
                "create-project-version --generate-cli-skeleton input":
                    ["rekognition", "create-project-version", "--generate-cli-skeleton", "input"],
                "describe-projects (real request)": ["rekognition", "describe-projects"],
            }
            # Warm the page cache and the bytecode cache.
            for _ in range(2):
                for argv in commands.values():
                    timed([str(BIN / "aws"), *argv], env)
                    timed([*openrek_cmd(), *argv], env)
            rows = []
            for label, argv in commands.items():
                aws_t, ork_t = [], []
                for _ in range(args.runs):
                    aws_t.append(timed([str(BIN / "aws"), *argv], env))
                    ork_t.append(timed([*openrek_cmd(), *argv], env))
                rows.append((label, statistics.median(aws_t), min(aws_t), statistics.median(ork_t), min(ork_t)))
    print(f"CLI start-up, wall-clock seconds, {args.runs} runs each (median / best); python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs")
    print(f"{'command':55s} {'aws median':>10s} {'aws best':>9s} {'openrek median':>14s} {'openrek best':>12s} "
          f"{'ratio':>6s}")
    worst = 0.0
    for label, am, ab, om, ob in rows:
        ratio = om / am
        worst = max(worst, ratio)
        print(f"{label:55s} {am:10.3f} {ab:9.3f} {om:14.3f} {ob:12.3f} {ratio:6.2f}")
    print(f"target openrek/aws <= 0.50: {'met' if worst <= 0.5 else 'NOT met'} (worst {worst:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
