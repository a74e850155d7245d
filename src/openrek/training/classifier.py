"""Image-level trainers: classification (softmax) and multi-label (sigmoid), behind one interface.

The model is an ensemble of linear heads on multi-layer pooled features of ImageNet backbones (both
MobileNetV2 weight sets by default), trained on original + mirrored images and averaged over a mirrored
view at test time. Heads are fitted full-batch with L-BFGS; the features' standardisation is folded into
each head, so the exported module is backbone(s) → pooled features → linear → softmax/sigmoid.
Also: `linear_probe_baseline`, the plain single-backbone probe used as a reference in benchmarks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image as PILImage
from torch import nn

from openrek.training.backbones import build_backbone
from openrek.training.data import Budget, Example
from openrek.training.device import pick_device
from openrek.training.features import PooledFeatures, extract

log = logging.getLogger(__name__)


@dataclass
class ClassifierConfig:
    """Knobs of the image-level trainer; defaults are the measured ones (224 px, two MobileNetV2s)."""

    backbones: tuple[str, ...] = ("mobilenet_v2", "mobilenet_v2_deepsort")
    image_size: int = 224
    flip_augment: bool = True  # mirrored copies of the training images
    tta: bool = True  # average the prediction with the mirrored view
    c: float = 0.1  # inverse L2 strength, as scikit-learn's C
    batch_size: int = 32
    max_iter: int = 300
    seed: int = 0
    device: str | None = None


class LinearHead(nn.Module):
    """Standardise features then a linear map; mean/std are buffers so they export with the model."""

    def __init__(
        self, mean: torch.Tensor, std: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
    ) -> None:
        super().__init__()
        self.register_buffer("mean", mean.float())
        self.register_buffer("std", std.float())
        self.linear = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self.linear.weight.copy_(weight)
            self.linear.bias.copy_(bias)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.linear((feats - self.mean) / self.std)


class ImageLevelModel(nn.Module):
    """Ensemble of (pooled features, linear head) members; input normalised NCHW, output probabilities."""

    def __init__(
        self, members: Sequence[tuple[PooledFeatures, LinearHead]], multi_label: bool, tta: bool
    ) -> None:
        super().__init__()
        self.features = nn.ModuleList([m[0] for m in members])
        self.heads = nn.ModuleList([m[1] for m in members])
        self.multi_label = multi_label
        self.tta = tta

    def _probs(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        views = [x, torch.flip(x, dims=[3])] if self.tta else [x]
        total: torch.Tensor | None = None
        count = 0
        for feat, head in zip(self.features, self.heads, strict=True):
            for v in views:
                p = self._probs(head(feat(v)))
                total = p if total is None else total + p
                count += 1
        assert total is not None
        return total / count


@dataclass
class TrainedImageModel:
    """A fitted image-level model plus the facts the exporter and evaluator need."""

    module: ImageLevelModel
    labels: list[str]
    multi_label: bool
    image_size: int
    test_scores: np.ndarray  # (N_test, L) probabilities computed during fit
    info: dict[str, object] = field(default_factory=dict)


def _fit_head(
    x: np.ndarray, y: np.ndarray, multi_label: bool, c: float, max_iter: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Full-batch L-BFGS logistic regression on standardised features; returns mean, std, W, b."""
    torch.manual_seed(seed)
    xt = torch.from_numpy(x).double()
    mean = xt.mean(0)
    std = xt.std(0, unbiased=False).clamp_min(1e-6)
    z = (xt - mean) / std
    n, d = z.shape
    n_out = y.shape[1] if multi_label else int(y.max()) + 1
    w = torch.zeros(n_out, d, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(n_out, dtype=torch.float64, requires_grad=True)
    yt = torch.from_numpy(y)
    if multi_label:
        yt = yt.double()
        pos = yt.mean(0).clamp(1e-3, 1 - 1e-3)
        with torch.no_grad():
            b.copy_(torch.log(pos / (1 - pos)))
    else:
        yt = yt.long()
    lam = 1.0 / (2.0 * c * n)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=max_iter, history_size=20, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        logits = z @ w.T + b
        if multi_label:
            loss = nn.functional.binary_cross_entropy_with_logits(logits, yt, reduction="sum") / n
        else:
            loss = nn.functional.cross_entropy(logits, yt)
        loss = loss + lam * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return mean.float(), std.float(), w.detach().float(), b.detach().float()


def _targets(examples: Sequence[Example], labels: Sequence[str], multi_label: bool) -> np.ndarray:
    index = {name: i for i, name in enumerate(labels)}
    if multi_label:
        y = np.zeros((len(examples), len(labels)), dtype=np.float32)
        for i, ex in enumerate(examples):
            for name in ex.labels:
                if name in index:
                    y[i, index[name]] = 1.0
        return y
    return np.array([index[ex.labels[0]] for ex in examples], dtype=np.int64)


class ImageLevelTrainer:
    """`fit(train, test, budget) -> TrainedImageModel` for classification or multi-label."""

    def __init__(
        self,
        labels: Sequence[str],
        multi_label: bool,
        config: ClassifierConfig | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.labels = list(labels)
        self.multi_label = multi_label
        self.config = config or ClassifierConfig()
        self.progress = progress or (lambda _m: None)

    def fit(self, train: Sequence[Example], test: Sequence[Example], budget: Budget) -> TrainedImageModel:
        cfg = self.config
        torch.manual_seed(cfg.seed)
        device = pick_device(cfg.device)
        train_imgs = [ex.image for ex in train]
        test_imgs = [ex.image for ex in test]
        y = _targets(train, self.labels, self.multi_label)
        members: list[tuple[PooledFeatures, LinearHead]] = []
        test_scores: np.ndarray | None = None
        used: list[str] = []
        member_seconds = 0.0
        for k, name in enumerate(cfg.backbones):
            if k > 0 and budget.remaining() < member_seconds:
                log.info("time budget: ensemble stops at %d backbone(s)", k)
                self.progress(f"time budget: ensemble stops at {k} backbone(s)")
                break
            t0 = time.monotonic()
            self.progress(f"features: {name}")
            feat = (
                PooledFeatures(build_backbone(name)).to(device).to(memory_format=torch.channels_last).eval()
            )
            xs = [extract(feat, train_imgs, cfg.image_size, cfg.batch_size, device=device)]
            ys = [y]
            if cfg.flip_augment:
                xs.append(extract(feat, train_imgs, cfg.image_size, cfg.batch_size, flip=True, device=device))
                ys.append(y)
            x_train = np.concatenate(xs)
            y_train = np.concatenate(ys)
            self.progress(f"head: {name}")
            mean, std, w, b = _fit_head(x_train, y_train, self.multi_label, cfg.c, cfg.max_iter, cfg.seed)
            head = LinearHead(mean, std, w, b).to(device)
            member = ImageLevelModel([(feat, head)], self.multi_label, cfg.tta)
            scores = self._scores_from_features(member, feat, head, test_imgs, device)
            test_scores = scores if test_scores is None else test_scores + scores
            members.append((feat.cpu(), head.cpu()))
            used.append(name)
            member_seconds = max(member_seconds, time.monotonic() - t0)
        assert test_scores is not None
        test_scores = test_scores / len(members)
        model = ImageLevelModel(members, self.multi_label, cfg.tta).eval()
        return TrainedImageModel(
            model,
            self.labels,
            self.multi_label,
            cfg.image_size,
            test_scores.astype(np.float32),
            {"backbones": used, "train_examples": len(train) * (2 if cfg.flip_augment else 1)},
        )

    @torch.no_grad()
    def _scores_from_features(
        self,
        member: ImageLevelModel,
        feat: PooledFeatures,
        head: LinearHead,
        images: Sequence[PILImage.Image],
        device: torch.device,
    ) -> np.ndarray:
        cfg = self.config
        if not images:
            return np.zeros((0, len(self.labels)), np.float32)
        views = [extract(feat, images, cfg.image_size, cfg.batch_size, device=device)]
        if cfg.tta:
            views.append(extract(feat, images, cfg.image_size, cfg.batch_size, flip=True, device=device))
        probs = [member._probs(head(torch.from_numpy(v).to(device))).cpu().numpy() for v in views]
        return np.mean(probs, axis=0)


def linear_probe_baseline(
    train: Sequence[Example],
    test: Sequence[Example],
    labels: Sequence[str],
    multi_label: bool,
    image_size: int = 224,
    backbone: str = "mobilenet_v2",
) -> np.ndarray:
    """Reference: frozen pooled last-layer features + scikit-learn logistic regression; test scores (N, L)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    bb = build_backbone(backbone)
    feat = PooledFeatures(bb, taps=[len(bb.channels) - 1]).eval()
    x_tr = extract(feat, [e.image for e in train], image_size)
    x_te = extract(feat, [e.image for e in test], image_size)
    scaler = StandardScaler().fit(x_tr)
    x_tr, x_te = scaler.transform(x_tr), scaler.transform(x_te)
    y = _targets(train, labels, multi_label)
    if not multi_label:
        clf = LogisticRegression(max_iter=2000).fit(x_tr, y)
        out = np.zeros((len(test), len(labels)), np.float32)
        out[:, clf.classes_] = clf.predict_proba(x_te)
        return out
    out = np.zeros((len(test), len(labels)), np.float32)
    for j in range(len(labels)):
        col = y[:, j]
        if col.min() == col.max():
            out[:, j] = col[0]
            continue
        out[:, j] = LogisticRegression(max_iter=2000).fit(x_tr, col).predict_proba(x_te)[:, 1]
    return out
