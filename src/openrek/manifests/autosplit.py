"""`TestingData.AutoCreate`: hold out a share of the training images, stratified per label.

Deterministic: the same records and seed give the same split, whatever order the lines came in.
Multi-label and detection records are split greedily, rarest label first, so that every label ends up
with about `fraction` of its images in the test set and at least one image on each side.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence

from . import rules
from .types import ManifestRecord, TerminalManifestError

NO_LABEL = ""  # the stratum of records without labels (a Content Moderation "safe" image)


def _strata(record: ManifestRecord) -> list[str]:
    return sorted(set(record.labels)) or [NO_LABEL]


def _name(label: str) -> str:
    return "(no label: safe images)" if label == NO_LABEL else repr(label)


def autosplit(records: Sequence[ManifestRecord], fraction: float = rules.DEFAULT_LIMITS.autosplit_fraction,
              seed: int = 0) -> tuple[list[ManifestRecord], list[ManifestRecord]]:
    """(train, test): about `fraction` of each label's images held out; input order kept on each side.

    Raises `TerminalManifestError(ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_AUTOSPLIT)` when a label has too
    few images to appear in both sets.
    """
    counts: Counter[str] = Counter(label for r in records for label in _strata(r))
    too_few = sorted(label for label, n in counts.items() if n < 2)
    if too_few:
        listed = ", ".join(f"{_name(lb)} ({counts[lb]} image)" for lb in too_few[:10])
        raise TerminalManifestError(
            rules.ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_AUTOSPLIT,
            f"The training dataset has too few images to create a test dataset automatically: each label needs "
            f"at least 2 valid images (one for training, one for testing), but {listed} "
            f"{'has' if len(too_few) == 1 else 'have'} fewer. Add images for "
            f"{'this label' if len(too_few) == 1 else 'these labels'}, or supply a test dataset.")

    # A canonical order (independent of line order), shuffled by the seed.
    order = sorted(range(len(records)),
                   key=lambda i: (records[i].source_ref, records[i].manifest, records[i].line_index))
    random.Random(seed).shuffle(order)
    target = {label: min(n - 1, max(1, math.floor(fraction * n + 0.5))) for label, n in counts.items()}
    in_test: Counter[str] = Counter()
    test: set[int] = set()

    def can_move(i: int) -> bool:
        return all(counts[m] - in_test[m] > 1 for m in _strata(records[i]))

    for label in sorted(counts, key=lambda lb: (counts[lb], lb)):
        for strict in (True, False):
            for i in order:
                if in_test[label] >= target[label]:
                    break
                strata = _strata(records[i])
                if i in test or label not in strata or not can_move(i):
                    continue
                if strict and any(in_test[m] >= target[m] for m in strata if m != label):
                    continue
                test.add(i)
                in_test.update(strata)

    stuck = sorted(label for label in counts if in_test[label] < 1 or counts[label] - in_test[label] < 1)
    if stuck:
        raise TerminalManifestError(
            rules.ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_AUTOSPLIT,
            "The training dataset could not be split automatically so that every label has images in both the "
            f"training and the test set: {', '.join(_name(lb) for lb in stuck[:10])} "
            "always appear together with other labels on too few images. Add images for these labels, or "
            "supply a test dataset.")
    train = [r for i, r in enumerate(records) if i not in test]
    held = [r for i, r in enumerate(records) if i in test]
    return train, held
