"""Which training images a detector pass sees: class-balanced repeat-factor sampling.

Each image is repeated in a pass by the rarest of its labels, as LVIS's repeat-factor sampling does:
r = max over its labels of max(1, sqrt(t / f)), f the share of training images holding that label and
t a threshold share. Images of labels held by at least t of the images are seen once a pass; rarer
labels' images more often. The fractional part is drawn (seeded), so the order is reproducible.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from openrek.training.data import Example


def repeat_factors(examples: Sequence[Example], labels: Sequence[str], threshold: float) -> np.ndarray:
    """One factor ≥ 1 per example (1 for an image with no box of a known label)."""
    known = set(labels)
    held = [{b.label for b in ex.boxes if b.label in known} for ex in examples]
    counts: Counter[str] = Counter()
    for names in held:
        counts.update(names)
    n = max(1, len(examples))
    return np.array([max([1.0] + [math.sqrt(threshold / (counts[name] / n)) for name in names]) for names in held],
                    dtype=np.float64)


def epoch_order(rng: np.random.Generator, factors: np.ndarray) -> np.ndarray:
    """The indices one pass visits: each image floor(r) times, once more with probability r - floor(r),
    shuffled."""
    whole = np.floor(factors)
    counts = (whole + (rng.random(len(factors)) < factors - whole)).astype(np.int64)
    return rng.permutation(np.repeat(np.arange(len(factors)), counts))


__all__ = ["epoch_order", "repeat_factors"]
