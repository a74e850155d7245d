"""Device choice: CUDA when present, else CPU (the same code either way).

Also what differs on a GPU, in one place: bf16 autocast, pinned host-to-device copies and larger
inference batches (on CPU each is a no-op, so CPU results do not change), and the number of CPU
threads for torch in a worker process.
"""

from __future__ import annotations

import contextlib
import os

import torch

# Inference-only batches (feature extraction, validation passes) grow by this on CUDA; training
# batches do not, so the number of steps and the learning-rate schedule are the same on any device.
CUDA_INFERENCE_BATCH_FACTOR = 4


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


def mixed_precision(device: torch.device) -> contextlib.AbstractContextManager[object]:
    """bf16 autocast on a CUDA device that supports it (no loss scaling needed), else nothing.

    Set OPENREK_MIXED_PRECISION=0 to train in float32 on a GPU too.
    """
    wanted = os.environ.get("OPENREK_MIXED_PRECISION", "1") != "0"
    if wanted and device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Move a host tensor to `device`: pinned and asynchronous on CUDA, unchanged on CPU."""
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


def inference_batch(batch_size: int, device: torch.device) -> int:
    """The batch for a no-grad pass: larger on CUDA, as given on CPU."""
    return batch_size * CUDA_INFERENCE_BATCH_FACTOR if device.type == "cuda" else batch_size
