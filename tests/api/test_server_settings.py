"""Settings a server refuses at start, with one line saying why, instead of failing every job later."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_unknown_training_options_stop_the_server_at_start(tmp_path: Path) -> None:
    env = {**os.environ, "OPENREK_TRAINING_OPTIONS": '{"detector_size": 256}'}
    done = subprocess.run([sys.executable, "-m", "openrek.server", "--port", "0", "--data-dir", str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(
        "openrek server: error: The training options: detector_size is not known to this openrek")


def test_a_detector_size_range_the_trainer_cannot_use_stops_the_server_at_start(tmp_path: Path) -> None:
    env = {**os.environ, "OPENREK_TRAINING_OPTIONS": '{"detector_sizes": [640, 320]}'}
    done = subprocess.run([sys.executable, "-m", "openrek.server", "--port", "0", "--data-dir", str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "openrek server: error: The training options: detector_sizes must be [smallest, largest] input sides "
        "in pixels, 32 <= smallest <= largest <= 4096 (got [640, 320]).")
