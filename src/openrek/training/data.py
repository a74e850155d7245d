"""In-memory training examples and the time budget shared by the trainers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from PIL import Image

from openrek.manifests.types import Box, ManifestRecord


@dataclass
class Example:
    """One decoded RGB image with its image-level labels and (for detection) pixel boxes."""

    image: Image.Image
    labels: list[str]
    boxes: list[Box] = field(default_factory=list)
    record: ManifestRecord | None = None


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
