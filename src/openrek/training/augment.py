"""Training-time augmentation that keeps bounding boxes right (torchvision transforms v2).

Detection images are first squashed to a fixed square size (boxes scaled with them); augmentation then
works at that size, so every batch is one stacked tensor.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from PIL import Image
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from openrek.manifests.types import Box


def detection_augmentation(strength: float = 1.0) -> v2.Compose:
    """Mirror, photometric jitter, scale/translate jitter, then drop boxes that became degenerate."""
    return v2.Compose(
        [
            v2.RandomHorizontalFlip(0.5),
            v2.RandomApply([v2.ColorJitter(0.25 * strength, 0.25 * strength, 0.25 * strength, 0.03)], p=0.8),
            v2.RandomApply(
                [v2.RandomAffine(degrees=0, translate=(0.1 * strength, 0.1 * strength), scale=(0.7, 1.3))],
                p=0.6,
            ),
            v2.SanitizeBoundingBoxes(min_size=2.0),
        ]
    )


def square_image_and_boxes(
    image: Image.Image, boxes: Sequence[Box], labels: Sequence[str], size: int
) -> tuple[torch.Tensor, tv_tensors.BoundingBoxes, torch.Tensor]:
    """Squash-resize to size×size: uint8 CHW tensor, XYXY boxes in the new pixels, label indices."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    w, h = image.size
    sx, sy = size / w, size / h
    img = F.pil_to_tensor(image.resize((size, size), Image.BILINEAR))
    index = {name: i for i, name in enumerate(labels)}
    xyxy = [
        [b.left * sx, b.top * sy, (b.left + b.width) * sx, (b.top + b.height) * sy]
        for b in boxes
        if b.label in index
    ]
    cls = [index[b.label] for b in boxes if b.label in index]
    t = torch.tensor(xyxy, dtype=torch.float32).reshape(-1, 4).clamp(0, size)
    return (
        img,
        tv_tensors.BoundingBoxes(t, format="XYXY", canvas_size=(size, size)),
        torch.tensor(cls, dtype=torch.int64),
    )
