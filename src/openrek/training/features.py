"""Image preprocessing and pooled multi-layer features from a backbone.

The same preprocessing (RGB, squash-resize to a square, ImageNet normalisation) is used in training, in
the exported ONNX model's contract (`model.json`) and at inference.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from PIL import Image
from torch import nn

from openrek.training.backbones import IMAGENET_MEAN, IMAGENET_STD, Backbone, fold_batchnorm
from openrek.training.device import inference_batch, mixed_precision, to_device


def image_to_array(image: Image.Image, size: int) -> np.ndarray:
    """RGB image → float32 HWC array in [0, 1], squash-resized to `size`×`size`."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    if image.size != (size, size):
        image = image.resize((size, size), Image.BILINEAR)
    return np.asarray(image, dtype=np.float32) / 255.0


def normalize_array(
    batch_hwc: np.ndarray,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> np.ndarray:
    """NHWC [0,1] → NCHW normalised float32 (what the exported models take)."""
    out = (batch_hwc - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2), dtype=np.float32)


def images_to_tensor(images: Iterable[Image.Image], size: int) -> torch.Tensor:
    """A list of PIL images → normalised NCHW tensor."""
    arr = np.stack([image_to_array(im, size) for im in images])
    return torch.from_numpy(normalize_array(arr))


class PooledFeatures(nn.Module):
    """Global-average-pooled outputs of several backbone stages, concatenated: (N, sum(channels))."""

    def __init__(self, backbone: Backbone, taps: Sequence[int] | None = None) -> None:
        super().__init__()
        self.taps = list(taps if taps is not None else backbone.taps)
        last = max(self.taps)
        # Features are only ever used frozen (eval), so BatchNorms fold into their convs.
        self.body = fold_batchnorm(nn.Sequential(*list(backbone.features.children())[: last + 1]))
        self.dim = sum(backbone.channels[i] for i in self.taps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled: list[torch.Tensor] = []
        for i, layer in enumerate(self.body):
            x = layer(x)
            if i in self.taps:
                pooled.append(x.mean(dim=(2, 3)))
        return torch.cat(pooled, dim=1)


@torch.no_grad()
def extract(
    module: nn.Module,
    images: Sequence[Image.Image],
    size: int,
    batch_size: int = 32,
    flip: bool = False,
    device: torch.device | None = None,
) -> np.ndarray:
    """Run `module` over images (optionally mirrored) in eval mode; returns float32 (N, D)."""
    module.eval()
    dev = device or torch.device("cpu")
    batch_size = inference_batch(batch_size, dev)
    outs: list[np.ndarray] = []
    for i in range(0, len(images), batch_size):
        x = images_to_tensor(images[i : i + batch_size], size)
        if flip:
            x = torch.flip(x, dims=[3])
        x = to_device(x, dev).contiguous(memory_format=torch.channels_last)
        with mixed_precision(dev):
            y = module(x)
        outs.append(y.float().cpu().numpy())
    return np.concatenate(outs) if outs else np.zeros((0, 0), np.float32)
