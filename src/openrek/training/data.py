"""In-memory training examples and the time budget shared by the trainers."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from openrek.manifests.types import Box, ManifestRecord


@dataclass
class Example:
    """One decoded RGB image with its image-level labels and (for detection) pixel boxes."""

    image: Image.Image
    labels: list[str]
    boxes: list[Box] = field(default_factory=list)
    record: ManifestRecord | None = None


def box_ratios(example: Example, labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """An example's boxes of known labels as x1,y1,x2,y2 ratios of its image, and their label indices."""
    w, h = example.image.size
    index = {n: i for i, n in enumerate(labels)}
    keep = [b for b in example.boxes if b.label in index]
    boxes = np.array([[b.left / w, b.top / h, (b.left + b.width) / w, (b.top + b.height) / h] for b in keep],
                     dtype=np.float64).reshape(-1, 4)
    return boxes, np.array([index[b.label] for b in keep], dtype=np.int64)


class Budget:
    """A wall-clock deadline: `remaining()` seconds left, `expired()` once it has passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self.start = time.monotonic()
        self.deadline = self.start + self.seconds

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline
