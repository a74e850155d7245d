"""Image-level trainers: classification (softmax) and multi-label (sigmoid), behind one interface.

The model is linear heads on frozen pooled features of ImageNet backbones (both MobileNetV2 weight sets
by default), trained on original + mirrored images and averaged over a mirrored view at test time; the
head design (plain last-layer probe or multi-layer ensemble) and its regularisation are chosen by k-fold
cross-validation on the training images only. Heads are fitted full-batch with L-BFGS; the features'
standardisation is folded into each head, so the exported module is backbone(s) → pooled features →
linear → softmax/sigmoid.
Also: `linear_probe_baseline`, the plain single-backbone probe used as a reference in benchmarks.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from PIL import Image
from torch import nn

from openrek.training.backbones import build_backbone
from openrek.training.data import Budget, Example
from openrek.training.device import pick_device
from openrek.training.features import PooledFeatures, extract
from openrek.training.finetune import FineTuneConfig, fine_tune, planned_steps
from openrek.training.metrics import aggregate, image_level_metrics
from openrek.training.request import DEFAULT_BACKBONES
from openrek.training.selection import fold_ids

log = logging.getLogger(__name__)


@dataclass
class ClassifierConfig:
    """Knobs of the image-level trainer; defaults are the measured ones (224 px, four ImageNet backbones)."""

    backbones: tuple[str, ...] = DEFAULT_BACKBONES
    image_size: int = 224
    flip_augment: bool = True  # mirrored copies of the training images
    tta: bool = True  # average the prediction with the mirrored view
    c: float = 0.1  # inverse L2 strength, as scikit-learn's C (used when there is too little data to choose)
    c_grid: tuple[float, ...] = (0.03, 0.1, 0.3, 1.0, 3.0)  # strengths cross-validation chooses from
    folds: int = 5
    batch_size: int = 32
    max_iter: int = 300
    # The third rung: the probe, then its backbone's last blocks (None: frozen heads only). It is tried
    # when its estimated time fits `fine_tune_budget_share` of what is left, judged on fold 0, and kept
    # only when it beats the frozen winner there.
    fine_tune: FineTuneConfig | None = field(default_factory=FineTuneConfig)
    fine_tune_budget_share: float = 0.5
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
    """A fitted image-level model plus the facts the exporter and the version's details need."""

    module: ImageLevelModel
    labels: list[str]
    multi_label: bool
    image_size: int
    info: dict[str, object] = field(default_factory=dict)


def _fit_head(
    x: np.ndarray, y: np.ndarray, multi_label: bool, c: float, max_iter: int, seed: int, n_out: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Full-batch L-BFGS logistic regression on standardised features; returns mean, std, W, b."""
    torch.manual_seed(seed)
    xt = torch.from_numpy(x).double()
    mean = xt.mean(0)
    std = xt.std(0, unbiased=False).clamp_min(1e-6)
    z = (xt - mean) / std
    n, d = z.shape
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


@dataclass
class _Member:
    """One backbone's frozen features of the training images (original and mirrored)."""

    name: str
    features: PooledFeatures
    x: np.ndarray  # (N, D) original views
    x_flip: np.ndarray | None  # (N, D) mirrored views (for training copies and test-time averaging)
    last_dim: int  # the last tap's width: the plain probe uses only these (final) columns


@dataclass(frozen=True)
class _Candidate:
    """A head design: which members and which of their columns; scored by cross-validation."""

    name: str
    members: tuple[int, ...]
    last_tap_only: bool


def _columns(member: _Member, last_tap_only: bool, flip: bool) -> np.ndarray:
    x = member.x_flip if flip else member.x
    assert x is not None
    return x[:, -member.last_dim:] if last_tap_only else x


class ImageLevelTrainer:
    """`fit(train, budget) -> TrainedImageModel` for classification or multi-label.

    Frozen pooled features of each backbone, then a ladder chosen on the *training* images only (the
    test set never reaches this class): (a) the plain probe — the last layer of the first backbone;
    (b) the multi-layer ensemble of every backbone — each at every regularisation strength in `c_grid`,
    scored by k-fold cross-validation; (c) the probe fine-tuned (`finetune.py`), trained on folds 1..k-1
    and compared with the frozen winner's out-of-fold answers on fold 0. The winner (ties go to the
    simpler) is refitted on all training images. The chosen design and every score are in `info`.
    """

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

    def fit(self, train: Sequence[Example], budget: Budget) -> TrainedImageModel:
        cfg = self.config
        torch.manual_seed(cfg.seed)
        device = pick_device(cfg.device)
        images = [ex.image for ex in train]
        y = _targets(train, self.labels, self.multi_label)
        members: list[_Member] = []
        budget_hit = False
        member_seconds = 0.0
        for k, name in enumerate(cfg.backbones):
            if k > 0 and budget.remaining() < 2 * member_seconds:
                budget_hit = True
                self.progress(f"time budget: features of {k} of {len(cfg.backbones)} backbone(s)")
                break
            t0 = time.monotonic()
            self.progress(f"features: {name}")
            backbone = build_backbone(name)
            feat = PooledFeatures(backbone).to(device).to(memory_format=torch.channels_last).eval()
            x = extract(feat, images, cfg.image_size, cfg.batch_size, device=device)
            x_flip = (extract(feat, images, cfg.image_size, cfg.batch_size, flip=True, device=device)
                      if cfg.flip_augment or cfg.tta else None)
            members.append(_Member(name, feat.cpu(), x, x_flip, backbone.channels[max(feat.taps)]))
            member_seconds = max(member_seconds, time.monotonic() - t0)

        candidates = [_Candidate("probe", (0,), True)]
        if len(members) > 1 or len(members[0].features.taps) > 1:
            candidates.append(_Candidate("ensemble", tuple(range(len(members))), False))
        folds = min(cfg.folds, len(train) // 2)
        scores: dict[str, float] = {}
        chosen, chosen_c, best = candidates[0], cfg.c, -1.0
        best_key: tuple[float, float] | None = None
        best_oof: np.ndarray | None = None
        probe_c, probe_key = cfg.c, None
        ids = fold_ids(train, folds, cfg.seed) if folds >= 2 else np.zeros(len(train), np.int64)
        if folds >= 2:
            for cand in candidates:
                for c in cfg.c_grid:
                    if budget.expired():
                        budget_hit = True
                        break
                    oof = self._out_of_fold(members, cand, c, y, ids, folds)
                    f1, loss = self._score(oof, y)
                    scores[f"{cand.name} C={c:g}"] = round(f1, 4)
                    key = (round(f1, 4), -loss)  # on equal F1, the better calibrated (lower log-loss)
                    if best_key is None or key > best_key:
                        chosen, chosen_c, best, best_key, best_oof = cand, c, f1, key, oof
                    if cand.name == "probe" and (probe_key is None or key > probe_key):
                        probe_c, probe_key = c, key
            self.progress(f"chosen by {folds}-fold cross-validation: {chosen.name}, C={chosen_c:g} "
                          f"(validation F1 {best:.3f})")
        else:  # too few images to hold any out: the ensemble at the default strength
            chosen = candidates[-1]
        tuned: dict[str, object] | None = None
        model: ImageLevelModel | None = None
        name, c_used, backbones = chosen.name, chosen_c, [members[i].name for i in chosen.members]
        if cfg.fine_tune is not None and best_oof is not None:
            tuned, tuned_part = self._fine_tune_rung(train, members[0], ids, y, probe_c, best_oof,
                                                     len(chosen.members), member_seconds, budget, device)
            budget_hit = budget_hit or bool(tuned.get("budget_hit"))
            if tuned_part is not None:
                if tuned.get("chosen") == "fine-tune":
                    parts, name, c_used, backbones = [tuned_part], "fine-tune", probe_c, [members[0].name]
                else:  # the frozen winner and the fine-tuned probe, averaged
                    parts = self._final_parts(members, chosen, chosen_c, y) + [tuned_part]
                    name, backbones = f"{chosen.name}+fine-tune", backbones + [f"{members[0].name} (fine-tuned)"]
                model = ImageLevelModel(parts, self.multi_label, cfg.tta).eval()
        if model is None:
            model = self._final(members, chosen, chosen_c, y)
        info: dict[str, object] = {
            "candidate": name, "c": c_used, "backbones": backbones,
            "validation_f1": round(best, 4) if best >= 0 else None, "validation": scores, "folds": folds,
            "train_examples": len(train) * (2 if cfg.flip_augment else 1), "budget_hit": budget_hit,
        }
        if tuned is not None:
            info["fine_tune"] = tuned
        return TrainedImageModel(model, self.labels, self.multi_label, cfg.image_size, info)

    def _fine_tune_rung(self, train: Sequence[Example], member: _Member, ids: np.ndarray, y: np.ndarray,
                        c: float, frozen_oof: np.ndarray, frozen_members: int, member_seconds: float,
                        budget: Budget, device: torch.device
                        ) -> tuple[dict[str, object], tuple[PooledFeatures, LinearHead] | None]:
        """Fine-tune the probe on folds 1..k-1 and judge it on fold 0 — alone, and averaged with the frozen
        winner as the exported model would average them — against the frozen winner's out-of-fold
        answers there (the same images, unseen by all of them). When a tuned candidate wins, each longer
        length in `longer_epochs` is tried the same way and kept only if it beats the shorter one's
        winner there. Returns the facts and, when a tuned candidate wins, the fine-tuned member refitted
        on every training image at the chosen length (else None)."""
        cfg = self.config
        ft = cfg.fine_tune
        assert ft is not None
        images = [ex.image for ex in train]
        fit_rows, val_rows = np.flatnonzero(ids != 0), np.flatnonzero(ids == 0)
        # Seconds per image forward, from the features just computed (original + mirrored views).
        per_image = member_seconds / max(1, 2 * len(train))
        frozen_score = self._score(frozen_oof[val_rows], y[val_rows])
        facts: dict[str, object] = {"validation_images": len(val_rows), "chosen": "frozen"}
        lengths: list[dict[str, object]] = []
        # Seconds a step: guessed from the forward passes until a run has measured it.
        per_step = 1.5 * per_image * ft.batch_size
        reference, kept, budget_hit = frozen_score, None, False
        for epochs in (ft.epochs, *ft.longer_epochs):
            run_cfg = replace(ft, epochs=epochs)
            estimate = per_step * (planned_steps(len(fit_rows), run_cfg) + planned_steps(len(train), run_cfg))
            if estimate > cfg.fine_tune_budget_share * budget.remaining():
                facts["skipped" if not lengths else "longer_skipped"] = "time budget"
                self.progress(f"fine-tuning skipped at {epochs:g} passes: about {estimate:.0f} s, over the time "
                              "budget's share")
                break
            features, head = self._tunable_probe(member, fit_rows, c, y)
            run = fine_tune(features, head, [images[i] for i in fit_rows], y[fit_rows], self.multi_label,
                            cfg.image_size, run_cfg, cfg.fine_tune_budget_share * budget.remaining(), device,
                            self.progress)
            budget_hit = budget_hit or run.budget_hit
            if run.steps:
                per_step = 1.1 * run.seconds / run.steps
            tuned_p = self._tuned_probabilities(run.features, run.head, [images[i] for i in val_rows], device)
            blend_p = (frozen_members * frozen_oof[val_rows] + tuned_p) / (frozen_members + 1)
            judged = {"fine-tune": self._score(tuned_p, y[val_rows]), "blend": self._score(blend_p, y[val_rows])}
            if not lengths:
                judged = {"frozen": frozen_score, **judged}
            # One small fold is a noisy judge: a tuned candidate must beat the reference (the frozen
            # winner, then the shorter length's winner) on both F1 and log-loss; between the two tuned
            # ones, F1 then log-loss decides.
            winners = [n for n in ("fine-tune", "blend")
                       if round(judged[n][0], 4) > round(reference[0], 4) and judged[n][1] < reference[1]]
            pick = max(winners, key=lambda n: (round(judged[n][0], 4), -judged[n][1])) if winners else None
            lengths.append({"epochs": epochs, "validation": {n: {"f1": round(f, 4), "log_loss": round(loss, 4)}
                                                             for n, (f, loss) in judged.items()},
                            "steps": run.steps, "planned_steps": run.planned_steps, "seconds": run.seconds,
                            "estimated_seconds": round(estimate, 1), "won": pick is not None})
            self.progress(f"on fold 0 after {epochs:g} passes: "
                          + ", ".join(f"{n} F1 {f:.3f} (log-loss {loss:.3f})" for n, (f, loss) in judged.items())
                          + f" — {pick or ('frozen' if kept is None else 'the shorter run')} chosen")
            if pick is None:
                break
            reference, kept = judged[pick], (pick, run_cfg)
        first = lengths[0] if lengths else {}
        # The first length's judgement keeps its flat form (frozen, fine-tune, blend at `epochs`).
        facts.update({k: first[k] for k in ("validation", "steps", "planned_steps", "seconds", "estimated_seconds")
                      if k in first})
        facts.update({"lengths": lengths, "budget_hit": budget_hit})
        if kept is None:
            return facts, None
        chosen, run_cfg = kept
        features, head = self._tunable_probe(member, np.arange(len(train)), c, y)
        final = fine_tune(features, head, images, y, self.multi_label, cfg.image_size, run_cfg,
                          cfg.fine_tune_budget_share * budget.remaining(), device, self.progress)
        facts.update({"chosen": chosen, "epochs": run_cfg.epochs, "final_steps": final.steps,
                      "final_seconds": final.seconds, "budget_hit": budget_hit or final.budget_hit})
        return facts, (final.features, final.head)

    def _tunable_probe(self, member: _Member, rows: np.ndarray, c: float,
                       y: np.ndarray) -> tuple[PooledFeatures, LinearHead]:
        """A fresh copy of the member's backbone pooling its last layer, and the probe head on `rows`."""
        features = PooledFeatures(build_backbone(member.name), taps=[max(member.features.taps)])
        head = self._head([member], _Candidate("probe", (0,), True), rows, c, y, 0)
        return features, head

    @torch.no_grad()
    def _tuned_probabilities(self, features: PooledFeatures, head: LinearHead, images: Sequence[Image.Image],
                             device: torch.device) -> np.ndarray:
        """What the exported fine-tuned model would answer (mirrored view averaged when `tta`)."""
        cfg = self.config
        views = [False, True] if cfg.tta else [False]
        total = np.zeros((len(images), len(self.labels)), np.float64)
        for flip in views:
            x = torch.from_numpy(extract(features, images, cfg.image_size, cfg.batch_size, flip=flip))
            logits = head(x)
            total += (torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=1)).numpy()
        return total / len(views)

    def _head(self, members: Sequence[_Member], cand: _Candidate, rows: np.ndarray, c: float,
              y: np.ndarray, index: int) -> LinearHead:
        cfg = self.config
        member = members[index]
        xs = [_columns(member, cand.last_tap_only, False)[rows]]
        ys = [y[rows]]
        if cfg.flip_augment:
            xs.append(_columns(member, cand.last_tap_only, True)[rows])
            ys.append(y[rows])
        mean, std, w, b = _fit_head(np.concatenate(xs), np.concatenate(ys), self.multi_label, c,
                                    cfg.max_iter, cfg.seed, len(self.labels))
        return LinearHead(mean, std, w, b)

    @torch.no_grad()
    def _probabilities(self, members: Sequence[_Member], cand: _Candidate, heads: Sequence[LinearHead],
                       rows: np.ndarray) -> np.ndarray:
        """What the exported ensemble would answer for these training rows (views and members averaged)."""
        total = np.zeros((len(rows), len(self.labels)), np.float64)
        count = 0
        for index, head in zip(cand.members, heads, strict=True):
            views = [False, True] if self.config.tta else [False]
            for flip in views:
                x = torch.from_numpy(_columns(members[index], cand.last_tap_only, flip)[rows])
                logits = head(x)
                p = torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=1)
                total += p.numpy()
                count += 1
        return total / count

    def _out_of_fold(self, members: Sequence[_Member], cand: _Candidate, c: float, y: np.ndarray,
                     ids: np.ndarray, folds: int) -> np.ndarray:
        """Each training image's probabilities from the heads fitted without its fold."""
        out = np.zeros((len(y), len(self.labels)), np.float64)
        for f in range(folds):
            fit_rows, val_rows = np.flatnonzero(ids != f), np.flatnonzero(ids == f)
            if not len(val_rows):
                continue
            heads = [self._head(members, cand, fit_rows, c, y, i) for i in cand.members]
            out[val_rows] = self._probabilities(members, cand, heads, val_rows)
        return out

    def _score(self, out: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """(macro F1 at each label's best threshold — AWS's measure —, mean log-loss)."""
        truth = y.astype(bool) if self.multi_label else np.eye(len(self.labels), dtype=bool)[y]
        p = np.clip(out, 1e-7, 1 - 1e-7)
        if self.multi_label:
            loss = float(-(truth * np.log(p) + (~truth) * np.log(1 - p)).mean())
        else:
            loss = float(-np.log(p[truth]).mean())
        return aggregate(image_level_metrics(out, truth, self.labels))["F1Score"], loss

    def _final_parts(self, members: Sequence[_Member], cand: _Candidate, c: float,
                     y: np.ndarray) -> list[tuple[PooledFeatures, LinearHead]]:
        rows = np.arange(len(y))
        parts: list[tuple[PooledFeatures, LinearHead]] = []
        for index in cand.members:
            member = members[index]
            features = member.features
            if cand.last_tap_only:  # the probe exports only what it uses: the last tap
                features = PooledFeatures(build_backbone(member.name), taps=[max(member.features.taps)]).eval()
            parts.append((features, self._head(members, cand, rows, c, y, index)))
        return parts

    def _final(self, members: Sequence[_Member], cand: _Candidate, c: float, y: np.ndarray) -> ImageLevelModel:
        return ImageLevelModel(self._final_parts(members, cand, c, y), self.multi_label, self.config.tta).eval()



def linear_probe_baseline(
    train: Sequence[Example],
    test: Sequence[Example],
    labels: Sequence[str],
    multi_label: bool,
    image_size: int = 224,
    backbone: str = "mobilenet_v2",
) -> np.ndarray:
    """Reference: frozen pooled last-layer features + scikit-learn logistic regression, C chosen by
    5-fold cross-validation on the training features where every class allows it; test scores (N, L)."""
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.preprocessing import StandardScaler

    def model(targets: np.ndarray) -> LogisticRegression | LogisticRegressionCV:
        folds = min(5, int(np.unique(targets, return_counts=True)[1].min()))
        with warnings.catch_warnings():  # scikit-learn's notices of changing defaults, not about this fit
            warnings.simplefilter("ignore", FutureWarning)
            if folds >= 2:
                return LogisticRegressionCV(Cs=10, cv=folds, max_iter=2000).fit(x_tr, targets)
            return LogisticRegression(max_iter=2000).fit(x_tr, targets)

    bb = build_backbone(backbone)
    feat = PooledFeatures(bb, taps=[len(bb.channels) - 1]).eval()
    x_tr = extract(feat, [e.image for e in train], image_size)
    x_te = extract(feat, [e.image for e in test], image_size)
    scaler = StandardScaler().fit(x_tr)
    x_tr, x_te = scaler.transform(x_tr), scaler.transform(x_te)
    y = _targets(train, labels, multi_label)
    if not multi_label:
        clf = model(y)
        out = np.zeros((len(test), len(labels)), np.float32)
        out[:, clf.classes_] = clf.predict_proba(x_te)
        return out
    out = np.zeros((len(test), len(labels)), np.float32)
    for j in range(len(labels)):
        col = y[:, j]
        if col.min() == col.max():
            out[:, j] = col[0]
            continue
        out[:, j] = model(col).predict_proba(x_te)[:, 1]
    return out
