"""What differs on a GPU stays out of a CPU run: no autocast, no pinned copies, the batch as given."""

from __future__ import annotations

import torch

from openrek.training.device import (
    CUDA_INFERENCE_BATCH_FACTOR,
    inference_batch,
    mixed_precision,
    pick_device,
    to_device,
)


def test_cpu_runs_in_float32_with_the_given_batch() -> None:
    cpu = torch.device("cpu")
    conv = torch.nn.Conv2d(3, 4, 3)
    x = torch.rand(2, 3, 8, 8)
    with mixed_precision(cpu):
        assert not torch.is_autocast_enabled("cpu")
        y = conv(to_device(x, cpu))
    assert y.dtype == torch.float32
    assert torch.equal(to_device(x, cpu), x)
    assert inference_batch(32, cpu) == 32


def test_cuda_batches_grow_and_the_environment_picks_the_device(monkeypatch) -> None:
    assert inference_batch(8, torch.device("cuda")) == 8 * CUDA_INFERENCE_BATCH_FACTOR
    monkeypatch.setenv("OPENREK_DEVICE", "cpu")
    assert pick_device().type == "cpu"
    assert pick_device("cuda").type == "cuda"  # an explicit choice wins over the environment
