"""Device choice: CUDA when present, else CPU (the same code either way).

Also sets a sensible number of CPU threads for torch in a worker process.
"""

from __future__ import annotations

import os

import torch


def pick_device(prefer: str | None = None) -> torch.device:
    """The device to train on: `prefer` ("cpu"/"cuda") or $OPENREK_DEVICE if set, else CUDA when available."""
    choice = prefer or os.environ.get("OPENREK_DEVICE")
    if choice:
        return torch.device(choice)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def configure_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads ($OPENREK_TORCH_THREADS, else the CPUs this process may use)."""
    if threads is None:
        env = os.environ.get("OPENREK_TORCH_THREADS")
        if env:
            threads = int(env)
        else:
            try:
                threads = len(os.sched_getaffinity(0))
            except AttributeError:  # pragma: no cover - non-Linux
                threads = os.cpu_count() or 1
    threads = max(1, threads)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
