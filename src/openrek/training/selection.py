"""Validation splits carved from the *training* data: every choice a trainer makes is made on these.

The test set (the user's, or AutoCreate's 20 %) never reaches a trainer; it is used once, by the
pipeline, for the evaluation AWS reports. Splits are stratified by each example's rarest label (so a
rare label is represented in every part where it can be) and deterministic for a seed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from openrek.training.data import Example


def _strata(examples: Sequence[Example]) -> list[str]:
    """Each example's rarest label (its boxes' labels for detection); "" when it has none."""
    counts: Counter[str] = Counter()
    names = [sorted(set(ex.labels) | {b.label for b in ex.boxes}) for ex in examples]
    for labels in names:
        counts.update(labels)
    return [min(labels, key=lambda n: (counts[n], n)) if labels else "" for labels in names]


def fold_ids(examples: Sequence[Example], folds: int, seed: int) -> np.ndarray:
    """A fold number in [0, folds) for each example, stratified: each label's examples are dealt round
    the folds in a seeded random order."""
    strata = _strata(examples)
    rng = np.random.default_rng(seed)
    out = np.zeros(len(examples), dtype=np.int64)
    offset = 0
    for name in sorted(set(strata)):
        members = np.array([i for i, s in enumerate(strata) if s == name])
        rng.shuffle(members)
        for k, i in enumerate(members):
            out[i] = (offset + k) % folds
        offset += len(members)  # the next label starts where this one stopped: folds stay balanced
    return out


def holdout(examples: Sequence[Example], fraction: float, seed: int,
            minimum: int = 1) -> tuple[list[int], list[int]]:
    """(fit indices, validation indices): about `fraction` of the examples, stratified, at least
    `minimum`, and never all of them."""
    n = len(examples)
    if n < 2:
        return list(range(n)), []
    folds = max(2, round(1 / fraction))
    ids = fold_ids(examples, folds, seed)
    val = [i for i in range(n) if ids[i] == 0]
    if len(val) < minimum:
        rest = [i for i in range(n) if ids[i] != 0]
        val += rest[: minimum - len(val)]
    val = sorted(val[: n - 1])
    chosen = set(val)
    return [i for i in range(n) if i not in chosen], val


__all__ = ["fold_ids", "holdout"]
