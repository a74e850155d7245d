"""GPU check: the flowers set and the raccoon set trained once on CUDA, beside the CPU figures.

Run on a machine with an NVIDIA GPU: `.venv/bin/python bench/gpu_check.py`. It prints the device, then
the same table as `bench/training_bench.py` for the two sets with `{"device": "cuda"}`, then the CPU
figures measured on 2 cores (README, "Measured") for comparison. It exits 2, having trained nothing,
where CUDA is not available. Not run in CI.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Measured by bench/training_bench.py on 2 CPU cores (README, 2026-12-04): set -> (seconds to COMPLETED, F1).
CPU_FIGURES = {"flowers_small": (47.0, 0.941), "raccoon": (72.0, 0.929)}


def main() -> int:
    import torch

    if not torch.cuda.is_available():
        print("CUDA is not available here: nothing trained.")
        return 2
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    import training_bench

    code = training_bench.main(["flowers_small", "raccoon", "--no-baseline", "--options", '{"device": "cuda"}'])
    print("\nCPU, 2 cores (README):")
    for name, (seconds, f1) in CPU_FIGURES.items():
        print(f"  {name}: {seconds:.0f} s, F1 {f1:.3f}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
