"""Object detection: torchvision FCOS on an ImageNet MobileNetV2 with a 3-level FPN, trained on CPU
(or CUDA) for a number of steps planned from the data, with checkpoints and early stopping chosen on
F1 (IoU ≥ 0.5) of a validation split of the training images; the time budget only caps it.

Measured on 2 CPU cores: FCOS converges quickly and exports to ONNX (legacy exporter, opset 17);
SSDlite did not converge in minutes and Faster R-CNN was slower for the same quality.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch import nn
from torchvision.models.detection import FCOS
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.fcos import FCOSHead
from torchvision.ops import FeaturePyramidNetwork, FrozenBatchNorm2d

from openrek.training.augment import detection_augmentation, square_image_and_boxes
from openrek.training.backbones import IMAGENET_MEAN, IMAGENET_STD, build_backbone, fold_batchnorm
from openrek.training.data import Budget, Example, box_ratios
from openrek.training.device import inference_batch, mixed_precision, pick_device, to_device
from openrek.training.metrics import ImageDetections, LabelMetrics, aggregate, detection_metrics
from openrek.training.sampling import epoch_order, repeat_factors
from openrek.training.selection import holdout

log = logging.getLogger(__name__)


@dataclass
class DetectorConfig:
    """Knobs of the FCOS trainer; defaults are the measured CPU recipe."""

    backbone: str = "mobilenet_v2"
    # The square input side; None: chosen from the training boxes (`choose_image_size`): the side at which
    # the `box_quantile` of boxes' shorter sides spans `smallest_box_px` pixels, within `size_range`.
    # The range is 320 only by default: on coco128 (a quarter of the boxes under 3 % of the image) the
    # rule's 576 px reached F1 0.004 in the planned steps against 0.10 at 320 px (2 CPU cores, 2026-12-04).
    image_size: int | None = None
    size_range: tuple[int, int] = (320, 320)
    box_quantile: float = 0.25
    smallest_box_px: float = 16.0
    fpn_channels: int = 96
    channels_last: bool = True  # faster oneDNN convolutions on CPU
    reg_bias_init: float = 2.0  # initial box half-size, in anchor sizes (keeps the ReLU'd head alive)
    head_convs: int = 2  # conv layers per FCOS head branch (the head dominates the cost on CPU)
    return_layers: tuple[int, ...] = (6, 13, 18)  # strides 8, 16, 32 of MobileNetV2
    frozen_blocks: int = 7  # blocks 0..6 (down to stride 8) keep their ImageNet weights
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 30
    # The length follows the data (`DetectorTrainer.planned_steps`): the LR schedule and the evaluations
    # follow steps, so the same data and settings give the same model; the clock only caps it.
    epochs: float = 10.0
    fewest_steps: int = 60
    most_steps: int = 1500
    max_steps: int | None = None  # a fixed length instead of the planned one
    max_seconds: float = 540.0  # safety cap inside the job's own budget; hitting it is reported
    eval_every_steps: int | None = None  # default: `evaluations` times over the planned steps
    evaluations: int = 8
    validation_fraction: float = 0.15  # of the training images, stratified, for checkpoints and stopping
    min_images_to_validate: int = 8  # fewer: train on all and keep the last weights
    patience: int = 3  # evaluations without improvement before stopping
    min_train_fraction: float = 0.5  # never stop early before this share of the planned steps
    score_thresh: float = 0.005  # low, so evaluation sees the whole precision-recall curve
    nms_thresh: float = 0.5
    detections_per_img: int = 100
    augment_strength: float = 1.0
    # Class-balanced passes (`sampling.py`): images of labels held by fewer than this share of the
    # training images are repeated, by sqrt(share wanted / share held); None: every image once a pass.
    balance_threshold: float | None = None
    seed: int = 0
    device: str | None = None


class _Body(nn.Module):
    """MobileNetV2 stages returning the outputs of `return_layers` as an ordered dict."""

    def __init__(self, features: nn.Sequential, return_layers: Sequence[int]) -> None:
        super().__init__()
        self.return_layers = list(return_layers)
        self.layers = nn.Sequential(*list(features.children())[: max(return_layers) + 1])

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i in self.return_layers:
                out[str(i)] = x
        return out


class BackboneWithFPN(nn.Module):
    """Backbone stages + FPN; exposes `out_channels` as torchvision's detectors expect."""

    def __init__(self, body: _Body, in_channels: list[int], out_channels: int) -> None:
        super().__init__()
        self.body = body
        self.fpn = FeaturePyramidNetwork(in_channels, out_channels)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.fpn(self.body(x))


def _freeze_bn(module: nn.Module) -> nn.Module:
    """Fold BatchNorms into their convs; any left over become FrozenBatchNorm2d (same statistics)."""
    fold_batchnorm(module)
    return _frozen_rest(module)


def _frozen_rest(module: nn.Module) -> nn.Module:
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            frozen = FrozenBatchNorm2d(child.num_features, eps=child.eps)
            frozen.weight.copy_(child.weight.detach())
            frozen.bias.copy_(child.bias.detach())
            frozen.running_mean.copy_(child.running_mean)
            frozen.running_var.copy_(child.running_var)
            setattr(module, name, frozen)
        else:
            _frozen_rest(child)
    return module


def choose_image_size(examples: Sequence[Example], labels: Sequence[str], cfg: DetectorConfig) -> tuple[int, float | None]:
    """(input side, the box quantile it was chosen from): the smallest multiple of 32 at which the
    `box_quantile` of the boxes' shorter sides — as shares of the squashed square image — spans
    `smallest_box_px` pixels (stride 8, the finest level, then sees two cells across such a box), within
    `size_range`. Larger inputs cost about their area in time a step, so only sets of small boxes get them."""
    lo, hi = cfg.size_range
    sides = [np.minimum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) for b in (box_ratios(ex, labels)[0] for ex in examples)]
    flat = np.concatenate(sides) if sides else np.zeros(0)
    flat = flat[flat > 0]
    if not len(flat):
        return lo, None
    q = float(np.quantile(flat, cfg.box_quantile))
    size = 32 * math.ceil(cfg.smallest_box_px / q / 32)
    return int(min(hi, max(lo, size))), round(q, 4)


def build_fcos(num_classes: int, cfg: DetectorConfig, pretrained: bool = True) -> FCOS:
    """FCOS on the configured backbone (FrozenBatchNorm, first blocks frozen, 3-level FPN)."""
    bb = build_backbone(cfg.backbone)
    features = _freeze_bn(bb.features)
    for i, block in enumerate(features.children()):
        if i < cfg.frozen_blocks:
            for p in block.parameters():
                p.requires_grad_(False)
    body = _Body(features, cfg.return_layers)
    backbone = BackboneWithFPN(body, [bb.channels[i] for i in cfg.return_layers], cfg.fpn_channels)
    sizes = tuple((8 * 2**k,) for k in range(len(cfg.return_layers)))
    anchors = AnchorGenerator(sizes, ((1.0,),) * len(sizes))
    model = FCOS(
        backbone,
        num_classes=num_classes,
        min_size=cfg.image_size,
        max_size=cfg.image_size,
        image_mean=list(bb.mean or IMAGENET_MEAN),
        image_std=list(bb.std or IMAGENET_STD),
        anchor_generator=anchors,
        head=FCOSHead(cfg.fpn_channels, 1, num_classes, cfg.head_convs),
        score_thresh=cfg.score_thresh,
        nms_thresh=cfg.nms_thresh,
        detections_per_img=cfg.detections_per_img,
        topk_candidates=1000,
    )
    # torchvision's regression head ends in a ReLU and starts near 0: a location whose four distances are
    # all clamped to 0 predicts a point, the GIoU loss gives it no gradient, and with many classes the
    # whole head can collapse (seen on coco128). Start every box at `reg_bias_init` anchor sizes instead.
    with torch.no_grad():
        model.head.regression_head.bbox_reg.bias.fill_(cfg.reg_bias_init)
    return model


@dataclass
class TrainedDetector:
    """A fitted detector plus the facts of its training (steps, validation, why it stopped)."""

    module: FCOS
    labels: list[str]
    image_size: int
    info: dict[str, object] = field(default_factory=dict)
    fit_ids: list[int] = field(default_factory=list)  # which training examples it learnt from
    validation_ids: list[int] = field(default_factory=list)  # and which judged its checkpoints


@torch.no_grad()
def predict_squares(
    model: FCOS, images: Sequence[torch.Tensor], device: torch.device, batch_size: int = 8
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Run the detector on uint8 square CHW tensors; boxes come back as x1,y1,x2,y2 ratios."""
    model.eval()
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    batch_size = inference_batch(batch_size, device)
    for i in range(0, len(images), batch_size):
        batch = [to_device(im, device).float().div(255.0) for im in images[i : i + batch_size]]
        for im, det in zip(batch, model(batch), strict=True):
            size = float(im.shape[-1])
            out.append(
                (
                    det["boxes"].cpu().numpy() / size,
                    det["scores"].cpu().numpy(),
                    det["labels"].cpu().numpy().astype(np.int64),
                )
            )
    return out


def evaluate_detections(
    preds: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    test: Sequence[Example],
    labels: Sequence[str],
    iou_grid: bool = True,
) -> list[LabelMetrics]:
    """Per-label metrics (IoU ≥ 0.5) of predictions against the examples' boxes."""
    ims = []
    for (pb, ps, pl), ex in zip(preds, test, strict=True):
        gb, gl = box_ratios(ex, labels)
        ims.append(ImageDetections(pb, ps, pl, gb, gl))
    return detection_metrics(ims, labels, iou_grid=iou_grid)


class DetectorTrainer:
    """`fit(train, budget) -> TrainedDetector`: FCOS with AdamW, warm-up + cosine, early stopping on a
    validation split of the training images."""

    def __init__(
        self,
        labels: Sequence[str],
        config: DetectorConfig | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.labels = list(labels)
        self.config = config or DetectorConfig()
        self.progress = progress or (lambda _m: None)

    def planned_steps(self, n_images: int, n_boxes: int) -> int:
        """The training length, from the data alone (never the clock): `epochs` passes over the images,
        longer when images hold many boxes (1 + ½·log2 of the boxes per image), within the step bounds."""
        cfg = self.config
        if cfg.max_steps:
            return cfg.max_steps
        per_epoch = math.ceil(max(1, n_images) / cfg.batch_size)
        density = 1.0 + 0.5 * math.log2(max(1.0, n_boxes / max(1, n_images)))
        return int(min(cfg.most_steps, max(cfg.fewest_steps, round(cfg.epochs * per_epoch * density))))

    def fit(self, train: Sequence[Example], budget: Budget) -> TrainedDetector:
        """Train on `train` less a validation split carved from it; the checkpoint and early stop are
        chosen on that split. The test set never reaches this method."""
        cfg = self.config
        quantile = None
        if cfg.image_size is None:
            size, quantile = choose_image_size(train, self.labels, cfg)
            cfg = replace(cfg, image_size=size)
            self.progress(f"input {size} px, from the boxes: {cfg.box_quantile:.0%} of them are narrower than "
                          f"{quantile:.1%} of the image" if quantile is not None else f"input {size} px")
        torch.manual_seed(cfg.seed)
        rng = np.random.default_rng(cfg.seed)
        device = pick_device(cfg.device)
        model = build_fcos(len(self.labels), cfg).to(device)
        if cfg.channels_last:
            model = model.to(memory_format=torch.channels_last)
        size = cfg.image_size
        assert size is not None
        fit_ids, val_ids = (holdout(train, cfg.validation_fraction, cfg.seed, minimum=2)
                            if len(train) >= cfg.min_images_to_validate else (list(range(len(train))), []))
        fitting = [train[i] for i in fit_ids]
        validation = [train[i] for i in val_ids]
        squares = [square_image_and_boxes(ex.image, ex.boxes, self.labels, size) for ex in fitting]
        val_squares = [square_image_and_boxes(ex.image, ex.boxes, self.labels, size)[0] for ex in validation]
        aug = detection_augmentation(cfg.augment_strength)
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        planned = self.planned_steps(len(fitting), sum(len(ex.boxes) for ex in fitting))
        every = cfg.eval_every_steps or max(1, planned // cfg.evaluations)
        seconds = min(cfg.max_seconds, budget.remaining())
        start = time.monotonic()
        step = 0
        best_f1 = -1.0
        best_state: dict[str, torch.Tensor] | None = None
        best_step = 0
        evals_without_gain = 0
        history: list[tuple[int, float, float]] = []
        stop_reason = "planned steps done"
        budget_hit = False
        done = False
        self.progress(f"training {planned} steps on {len(fitting)} images, validating on {len(validation)}")
        factors = repeat_factors(fitting, self.labels, cfg.balance_threshold) if cfg.balance_threshold else None
        while step < planned:
            order = rng.permutation(len(squares)) if factors is None else epoch_order(rng, factors)
            for k in range(0, len(order), cfg.batch_size):
                imgs, targets = self._batch(squares, order[k : k + cfg.batch_size], aug, device)
                lr = self._lr(step, step / planned)
                for g in opt.param_groups:
                    g["lr"] = lr
                model.train()
                with mixed_precision(device):
                    losses = model(imgs, targets)
                loss = torch.stack([v.float() for v in losses.values()]).sum()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 10.0)
                opt.step()
                step += 1
                elapsed = time.monotonic() - start
                done = step >= planned
                if not done and elapsed >= seconds:
                    done, budget_hit, stop_reason = True, True, "time budget"
                if val_squares and (step % every == 0 or done):
                    preds = predict_squares(model, val_squares, device)
                    f1 = aggregate(evaluate_detections(preds, validation, self.labels, iou_grid=False))["F1Score"]
                    history.append((step, round(time.monotonic() - start, 1), round(f1, 4)))
                    self.progress(f"step {step}/{planned} ({elapsed:.0f} s): validation F1 {f1:.3f}, "
                                  f"loss {loss.item():.3f}")
                    evals_without_gain = 0 if f1 > best_f1 + 1e-4 else evals_without_gain + 1
                    if f1 >= best_f1:  # on a tie, the later (longer-trained) weights win
                        best_f1, best_step = f1, step
                        best_state = copy.deepcopy(model.state_dict())
                    if (not done and evals_without_gain >= cfg.patience
                            and step / planned >= cfg.min_train_fraction):
                        stop_reason, done = "validation F1 stopped improving", True
                if done:
                    break
            if done:
                break
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()
        model = model.cpu().to(memory_format=torch.contiguous_format)
        return TrainedDetector(
            model,
            self.labels,
            size,
            {
                "steps": step,
                "planned_steps": planned,
                "best_step": best_step if best_state is not None else step,
                "validation_f1": round(best_f1, 4) if best_state is not None else None,
                "validation_images": len(validation),
                "train_seconds": round(time.monotonic() - start, 1),
                "stop_reason": stop_reason,
                "budget_hit": budget_hit,
                "history": history,
                "backbone": cfg.backbone,
                "image_size": size,
                "box_side_quantile": quantile,
                "balance_threshold": cfg.balance_threshold,
                "most_repeats": round(float(factors.max()), 2) if factors is not None and len(factors) else 1.0,
            },
            list(fit_ids),
            list(val_ids),
        )

    def _batch(
        self,
        squares: Sequence[tuple[torch.Tensor, Any, torch.Tensor]],
        idx: np.ndarray,
        aug: Callable[..., Any],
        device: torch.device,
    ) -> tuple[list[torch.Tensor], list[dict[str, torch.Tensor]]]:
        imgs, targets = [], []
        for j in idx:
            img, boxes, cls = squares[int(j)]
            a_img, a_tgt = aug(img, {"boxes": boxes, "labels": cls})
            imgs.append(to_device(a_img, device).float().div(255.0))
            targets.append(
                {
                    "boxes": a_tgt["boxes"].as_subclass(torch.Tensor).to(device),
                    "labels": a_tgt["labels"].to(device),
                }
            )
        return imgs, targets

    def _lr(self, step: int, frac: float) -> float:
        """Linear warm-up over the first steps, then cosine decay over the planned time (not steps)."""
        cfg = self.config
        if step < cfg.warmup_steps:
            return cfg.lr * (0.1 + 0.9 * step / cfg.warmup_steps)
        t = min(1.0, max(0.0, frac))
        return cfg.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * t)))
