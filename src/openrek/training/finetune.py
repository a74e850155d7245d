"""The fine-tuning rung of the image-level ladder: probe first, then the last blocks of one backbone.

Starts from the frozen linear probe (same backbone, same regularisation) and trains the backbone's last
`trainable_blocks` blocks together with the head: BatchNorm statistics stay frozen (folded into the
convs), the backbone learns at a small fraction of the head's rate, and every step sees box-free
augmentation — random resized crop, mirroring (where the labels allow it), colour jitter. The number
of steps is planned from the data (`epochs` passes); the clock is only a cap, reported when hit.
The result has the shape of every other image-level model: pooled features → LinearHead.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from openrek.training.backbones import IMAGENET_MEAN, IMAGENET_STD
from openrek.training.device import mixed_precision, to_device
from openrek.training.features import PooledFeatures


@dataclass
class FineTuneConfig:
    """Knobs of the rung; the defaults keep it to a few passes over small sets on 2 CPU cores."""

    trainable_blocks: int = 5  # MobileNetV2: blocks 14..18 (the stride-32 stages) learn, the rest stays
    epochs: float = 12.0
    # Where `epochs` passes beat the frozen heads, the ladder tries these longer runs too, each kept only
    # when it beats the shorter one on the same validation fold (classifier.py).
    longer_epochs: tuple[float, ...] = (30.0,)
    most_steps: int = 800  # big sets: at most this many steps
    batch_size: int = 32
    head_lr: float = 1e-3
    backbone_lr_ratio: float = 0.1  # the backbone's rate as a fraction of the head's
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.1
    crop_scale: tuple[float, float] = (0.6, 1.0)
    # Crops are trained a little smaller than the model's input (as FixRes argues: random resized crops
    # make objects look larger than the test-time full view, so a smaller training size matches them),
    # which also makes each step cheaper.
    train_scale: float = 0.875
    jitter: float = 0.2
    mirror: bool = True
    seed: int = 0


@dataclass
class FineTuneResult:
    """The tuned features and head, and what the run did (steps, seconds, whether the cap cut it)."""

    features: PooledFeatures
    head: nn.Module
    steps: int
    planned_steps: int
    seconds: float
    budget_hit: bool


def planned_steps(n_images: int, cfg: FineTuneConfig) -> int:
    """`epochs` passes over the images in batches, at most `most_steps`: the length follows the data,
    never the clock."""
    return max(1, min(cfg.most_steps, math.ceil(cfg.epochs * n_images / cfg.batch_size)))


def train_size(image_size: int, cfg: FineTuneConfig) -> int:
    """The side of the training crops: `train_scale` of the input, a multiple of 32."""
    return max(32, round(image_size * cfg.train_scale / 32) * 32)


def _stored(images: Sequence[Image.Image], size: int) -> list[torch.Tensor]:
    """Each image once, as a uint8 CHW tensor a little larger than the input, for cheap crops."""
    side = round(size * 1.15)
    out = []
    for im in images:
        if im.mode != "RGB":
            im = im.convert("RGB")
        out.append(F.pil_to_tensor(im.resize((side, side), Image.BILINEAR)))
    return out


def fine_tune(
    features: PooledFeatures,
    head: nn.Module,
    images: Sequence[Image.Image],
    targets: np.ndarray,
    multi_label: bool,
    image_size: int,
    cfg: FineTuneConfig,
    seconds: float,
    device: torch.device,
    progress: Callable[[str], None] | None = None,
) -> FineTuneResult:
    """Tune `features` (its last blocks) and `head` in place on `images`; returns them with the facts.

    `features` must pool only its last layer; `head` maps those pooled features to logits.
    """
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    say = progress or (lambda _m: None)
    blocks = list(features.body.children())
    first_trained = max(0, len(blocks) - cfg.trainable_blocks)
    frozen = nn.Sequential(*blocks[:first_trained]).to(device).eval()
    trained = nn.Sequential(*blocks[first_trained:]).to(device)
    head = head.to(device)
    for p in frozen.parameters():
        p.requires_grad_(False)
    body_params = [p for p in trained.parameters()]
    head_params = [p for p in head.parameters()]
    for p in body_params + head_params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(
        [{"params": body_params, "lr": cfg.head_lr * cfg.backbone_lr_ratio, "scale": cfg.backbone_lr_ratio},
         {"params": head_params, "lr": cfg.head_lr, "scale": 1.0}],
        weight_decay=cfg.weight_decay,
    )
    augment = v2.Compose([
        v2.RandomResizedCrop(train_size(image_size, cfg), scale=cfg.crop_scale, antialias=True),
        *([v2.RandomHorizontalFlip(0.5)] if cfg.mirror else []),
        v2.RandomApply([v2.ColorJitter(cfg.jitter, cfg.jitter, cfg.jitter)], p=0.8),
    ])
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1).to(device)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1).to(device)
    stored = _stored(images, image_size)
    y = torch.from_numpy(targets).to(device)
    y = y.float() if multi_label else y.long()
    planned = planned_steps(len(stored), cfg)
    warmup = max(1, round(cfg.warmup_fraction * planned))
    start = time.monotonic()
    step, budget_hit = 0, False
    say(f"fine-tuning the last {len(blocks) - first_trained} blocks: {planned} steps on {len(stored)} images")
    while step < planned:
        order = rng.permutation(len(stored))
        for k in range(0, len(order), cfg.batch_size):
            if step >= planned:
                break
            if time.monotonic() - start >= seconds:
                budget_hit = True
                break
            idx = order[k : k + cfg.batch_size]
            batch = to_device(torch.stack([augment(stored[int(i)]) for i in idx]), device).float().div(255.0)
            batch = ((batch - mean) / std).contiguous(memory_format=torch.channels_last)
            scale = (step + 1) / warmup if step < warmup else 0.5 * (1 + math.cos(math.pi * (step - warmup)
                                                                               / max(1, planned - warmup)))
            for g in opt.param_groups:
                g["lr"] = cfg.head_lr * g["scale"] * scale
            with mixed_precision(device):
                with torch.no_grad():
                    mid = frozen(batch)
                trained.train()  # BatchNorms are folded away: train mode only matters for dropout-free blocks
                logits = head(trained(mid).mean(dim=(2, 3))).float()
            if multi_label:
                loss = nn.functional.binary_cross_entropy_with_logits(logits, y[idx])
            else:
                loss = nn.functional.cross_entropy(logits, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
        if budget_hit:
            break
    for p in list(trained.parameters()) + head_params:
        p.requires_grad_(False)
    features.eval()
    return FineTuneResult(features.cpu(), head.cpu().eval(), step, planned,
                          round(time.monotonic() - start, 1), budget_hit)


__all__ = ["FineTuneConfig", "FineTuneResult", "fine_tune", "planned_steps"]
