"""Second look at each detected box: an image-level classifier on the box's crop re-labels it.

FCOS finds objects well but tells similar classes apart from small, shared features (on the playing
cards, boxes are found at class-agnostic F1 0.98 while the per-rank F1 is 0.65). This stage crops
every box from a higher-resolution view of the image (`crop_source` px, twice the detector's input),
classifies the crop with the image-level ladder (`classifier.ImageLevelTrainer`, trained on the crops
of the training boxes), and scores each box as detector score^α · class probability^(1-α).

It is a candidate like any other: trained on the detector's fitting images, judged on its validation
images against the detector alone, α chosen there too, and kept only when it wins. The combined model
is one torch module (`BoxClassifierDetector`) that exports to ONNX with the same outputs as the
detector alone: boxes as ratios, scores, labels.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn
from torchvision.ops import nms, roi_align
from torchvision.transforms.v2 import functional as F

from openrek.training.backbones import IMAGENET_MEAN, IMAGENET_STD
from openrek.training.classifier import ClassifierConfig, ImageLevelTrainer
from openrek.training.data import Budget, Example


@dataclass
class BoxClassifierConfig:
    """Knobs of the stage; the classifier is one backbone without test-time mirroring (it runs once per
    box at serving time)."""

    crop_size: int = 224
    margin: float = 0.1  # each side of a box is widened by this fraction for context
    nms_iou: float = 0.5  # class-agnostic: one box per object before it is re-labelled
    min_boxes: int = 4  # boxes classified per image: twice the most any training image holds, within
    max_boxes: int = 25  # these bounds
    alphas: tuple[float, ...] = (0.25, 0.5, 0.75)  # weights of the detector score, chosen on validation
    backbones: tuple[str, ...] = ("mobilenet_v2",)
    tta: bool = False
    budget_share: float = 0.6  # of the time left, at most this for the stage


def _widen(boxes: torch.Tensor, margin: float, side: float) -> torch.Tensor:
    """XYXY boxes grown by `margin` of their size on every side, clipped to the image."""
    w = (boxes[:, 2] - boxes[:, 0]) * margin
    h = (boxes[:, 3] - boxes[:, 1]) * margin
    grown = torch.stack([boxes[:, 0] - w, boxes[:, 1] - h, boxes[:, 2] + w, boxes[:, 3] + h], dim=1)
    return grown.clamp(0.0, side)


def crops(image: torch.Tensor, boxes: torch.Tensor, size: int, margin: float) -> torch.Tensor:
    """(K, 3, size, size) crops of a (1, 3, S, S) image at XYXY pixel boxes, widened by `margin`; the same
    operation (RoIAlign) in training and in the exported model."""
    # zeros_like, not zeros(len(boxes)): a traced len() would fix the box count in the exported graph.
    rois = torch.cat([torch.zeros_like(boxes[:, :1]), _widen(boxes, margin, image.shape[-1])], 1)
    return roi_align(image, rois, output_size=(size, size), spatial_scale=1.0, sampling_ratio=2, aligned=True)


class BoxClassifierDetector(nn.Module):
    """One [0,1] image (1, 3, 2S, 2S) → (boxes as ratios, scores, labels): the detector sees the image
    halved (2×2 average), every kept box's crop is classified at full resolution, and the two scores
    are combined as score^α · p^(1-α), the box taking its best label."""

    def __init__(self, detector: nn.Module, classifier: nn.Module, detector_size: int, cfg: BoxClassifierConfig,
                 max_boxes: int, alpha: float) -> None:
        super().__init__()
        self.detector = detector
        self.classifier = classifier
        self.detector_size = detector_size
        self.crop_size = cfg.crop_size
        self.margin = cfg.margin
        self.nms_iou = cfg.nms_iou
        self.max_boxes = max_boxes
        self.alpha = alpha
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def parts(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(boxes in detector pixels, detector scores, class probabilities (K, L)) of the kept boxes."""
        small = nn.functional.avg_pool2d(images, 2)
        det = self.detector([small[0]])[0]
        boxes, scores = det["boxes"], det["scores"]
        keep = nms(boxes, scores, self.nms_iou)[: self.max_boxes]
        boxes, scores = boxes[keep], scores[keep]
        # One whole-image box more, so the classifier never runs on an empty batch; it is dropped after.
        side = float(self.detector_size)
        padded = torch.cat([boxes, torch.tensor([[0.0, 0.0, side, side]])], 0) * 2.0
        cut = (crops(images, padded, self.crop_size, self.margin) - self.mean) / self.std
        probs = self.classifier(cut)[: boxes.shape[0]]
        return boxes, scores, probs

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        boxes, scores, probs = self.parts(images)
        combined = scores.clamp_min(1e-6).unsqueeze(1) ** self.alpha * probs.clamp_min(1e-6) ** (1.0 - self.alpha)
        best, labels = combined.max(dim=1)
        return boxes / float(self.detector_size), best, labels


def _square(image: Image.Image, side: int) -> torch.Tensor:
    """The image squashed to side×side as the exported model receives it: (1, 3, side, side) in [0,1]."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    return F.pil_to_tensor(image.resize((side, side), Image.BILINEAR)).float().div(255.0).unsqueeze(0)


def training_crops(examples: Sequence[Example], labels: Sequence[str], side: int,
                   cfg: BoxClassifierConfig) -> list[Example]:
    """One crop per known-label box, cut the way the exported model cuts it, as image-level examples."""
    out: list[Example] = []
    known = set(labels)
    for ex in examples:
        w, h = ex.image.size
        keep = [b for b in ex.boxes if b.label in known]
        if not keep:
            continue
        square = _square(ex.image, side)
        xyxy = torch.tensor([[b.left * side / w, b.top * side / h, (b.left + b.width) * side / w,
                              (b.top + b.height) * side / h] for b in keep], dtype=torch.float32)
        with torch.no_grad():
            cut = crops(square, xyxy, cfg.crop_size, cfg.margin)
        for b, t in zip(keep, cut, strict=True):
            arr = (t.clamp(0, 1) * 255.0).round().byte().permute(1, 2, 0).numpy()
            out.append(Example(Image.fromarray(arr), [b.label]))
    return out


@dataclass
class BoxClassifierOutcome:
    """The chosen combined module (None: the detector alone won) and the facts of the comparison."""

    module: BoxClassifierDetector | None
    input_size: int
    info: dict[str, object]


def fit_box_classifier(
    detector: nn.Module,
    detector_size: int,
    fitting: Sequence[Example],
    validation: Sequence[Example],
    labels: Sequence[str],
    detector_validation_f1: float,
    evaluate: Callable[[list[tuple[np.ndarray, np.ndarray, np.ndarray]], Sequence[Example]], float],
    budget: Budget,
    seed: int,
    progress: Callable[[str], None],
    cfg: BoxClassifierConfig | None = None,
) -> BoxClassifierOutcome:
    """Train the crop classifier on the fitting images' boxes; keep the combination only if its
    validation F1 (best α) beats the detector's own. `evaluate(preds, examples)` is the detector's
    validation measure (F1 at IoU ≥ 0.5), so both sides are judged alike."""
    cfg = cfg or BoxClassifierConfig()
    side = 2 * detector_size
    start = time.monotonic()
    most = max((len(ex.boxes) for ex in fitting), default=1)
    max_boxes = int(min(cfg.max_boxes, max(cfg.min_boxes, 2 * most)))
    info: dict[str, object] = {"detector_validation_f1": round(detector_validation_f1, 4)}
    examples = training_crops(fitting, labels, side, cfg)
    progress(f"box classifier: {len(examples)} crops of the fitting images' boxes")
    stage_budget = Budget(cfg.budget_share * budget.remaining())
    trainer = ImageLevelTrainer(labels, False, ClassifierConfig(backbones=cfg.backbones, image_size=cfg.crop_size,
                                                                tta=cfg.tta, seed=seed), progress)
    trained = trainer.fit(examples, stage_budget)
    module = BoxClassifierDetector(detector, trained.module, detector_size, cfg, max_boxes, cfg.alphas[0]).eval()
    parts = []
    with torch.no_grad():
        for ex in validation:
            boxes, scores, probs = module.parts(_square(ex.image, side))
            parts.append((boxes.numpy() / detector_size, scores.numpy(), probs.numpy()))
    scored: dict[str, float] = {}
    best_alpha, best_f1 = None, detector_validation_f1
    for alpha in cfg.alphas:
        preds = []
        for boxes, scores, probs in parts:
            combined = np.maximum(scores, 1e-6)[:, None] ** alpha * np.maximum(probs, 1e-6) ** (1 - alpha)
            preds.append((boxes, combined.max(1) if len(combined) else np.zeros(0),
                          combined.argmax(1) if len(combined) else np.zeros(0, np.int64)))
        f1 = evaluate(preds, validation)
        scored[f"alpha={alpha:g}"] = round(f1, 4)
        if f1 > best_f1 + 1e-4:
            best_alpha, best_f1 = alpha, f1
    info.update({"validation": scored, "crops": len(examples), "max_boxes": max_boxes,
                 "classifier": {k: trained.info.get(k) for k in ("candidate", "c", "validation_f1", "budget_hit")},
                 "seconds": round(time.monotonic() - start, 1), "chosen": best_alpha is not None})
    progress(f"box classifier on the validation images: {scored} against {detector_validation_f1:.3f} for the "
             f"detector alone — {'kept' if best_alpha is not None else 'not kept'}")
    if best_alpha is None:
        return BoxClassifierOutcome(None, detector_size, info)
    module.alpha = best_alpha
    info["alpha"] = best_alpha
    info["validation_f1"] = round(best_f1, 4)
    return BoxClassifierOutcome(module, side, info)


__all__ = ["BoxClassifierConfig", "BoxClassifierDetector", "BoxClassifierOutcome", "crops", "fit_box_classifier",
           "training_crops"]
