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
