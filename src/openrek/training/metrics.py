"""Evaluation metrics in pure numpy: assumed thresholds, precision/recall/F1, confusion matrix, IoU
matching and mAP (COCO-style 101-point interpolation).

Thresholds follow Custom Labels' "assumed threshold": per label, the score cut on the test set that
gives the best F1 (a prediction counts when its score ≥ the threshold).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class LabelMetrics:
    """Metrics of one label at its assumed threshold."""

    label: str
    threshold: float
    precision: float
    recall: float
    f1: float
    testing_images: int
    support: int  # positives in the test set (images, or boxes for detection)
    average_precision: float | None = None  # detection: AP@0.5
    average_precision_5095: float | None = None
    average_recall: float | None = None


def _safe_div(a: float, b: float) -> float:
    return float(a) / float(b) if b else 0.0


def f1_from(precision: float, recall: float) -> float:
    return _safe_div(2 * precision * recall, precision + recall)


def best_threshold_ranked(
    scores: np.ndarray, is_tp: np.ndarray, n_positive: int
) -> tuple[float, float, float, float]:
    """Best-F1 cut over ranked predictions.

    `scores` are prediction scores, `is_tp` whether each prediction is a true positive, `n_positive` the
    number of ground-truth positives. Returns (threshold, precision, recall, f1); with nothing to find or
    nothing predicted the threshold is just above the highest score (nothing passes) and all metrics 0.
    """
    scores = np.asarray(scores, dtype=np.float64)
    is_tp = np.asarray(is_tp, dtype=bool)
    if scores.size == 0 or n_positive == 0:
        top = float(scores.max()) if scores.size else 0.5
        return min(1.0, np.nextafter(top, np.inf)), 0.0, 0.0, 0.0
    order = np.argsort(-scores, kind="stable")
    s, tp = scores[order], is_tp[order]
    ctp = np.cumsum(tp)
    n_pred = np.arange(1, len(s) + 1)
    # Only cut between distinct scores: a threshold keeps every prediction with score ≥ it.
    last_of_run = np.r_[s[1:] != s[:-1], True]
    precision = ctp / n_pred
    recall = ctp / n_positive
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    f1 = np.where(last_of_run, f1, -1.0)
    k = int(np.argmax(f1))  # first maximum = highest threshold among ties
    if f1[k] <= 0:
        return min(1.0, float(np.nextafter(s[0], np.inf))), 0.0, 0.0, 0.0
    return float(s[k]), float(precision[k]), float(recall[k]), float(f1[k])


def metrics_at(scores: np.ndarray, truth: np.ndarray, threshold: float) -> tuple[float, float, float]:
    """Image-level precision, recall, F1 for one label at a given threshold."""
    pred = np.asarray(scores) >= threshold
    truth = np.asarray(truth, dtype=bool)
    tp = int(np.sum(pred & truth))
    p = _safe_div(tp, int(pred.sum()))
    r = _safe_div(tp, int(truth.sum()))
    return p, r, f1_from(p, r)


def image_level_metrics(scores: np.ndarray, truth: np.ndarray, labels: Sequence[str]) -> list[LabelMetrics]:
    """Per label metrics for classification / multi-label: scores (N, L) in [0,1], truth (N, L) bool."""
    scores = np.asarray(scores, dtype=np.float64)
    truth = np.asarray(truth, dtype=bool)
    out: list[LabelMetrics] = []
    for j, name in enumerate(labels):
        n_pos = int(truth[:, j].sum())
        t, p, r, f = best_threshold_ranked(scores[:, j], truth[:, j], n_pos)
        out.append(LabelMetrics(name, t, p, r, f, testing_images=n_pos, support=n_pos))
    return out


def aggregate(metrics: Sequence[LabelMetrics]) -> dict[str, float]:
    """Macro averages over labels present in the test set: Precision, Recall, F1Score, Threshold."""
    present = [m for m in metrics if m.support > 0] or list(metrics)
    if not present:
        return {"Precision": 0.0, "Recall": 0.0, "F1Score": 0.0, "Threshold": 0.5}
    out = {
        "Precision": float(np.mean([m.precision for m in present])),
        "Recall": float(np.mean([m.recall for m in present])),
        "F1Score": float(np.mean([m.f1 for m in present])),
        "Threshold": float(np.mean([m.threshold for m in present])),
    }
    aps = [m.average_precision for m in present if m.average_precision is not None]
    if aps:
        out["AveragePrecision"] = float(np.mean(aps))
        out["AveragePrecision5095"] = float(np.mean([m.average_precision_5095 or 0.0 for m in present]))
        out["AverageRecall"] = float(np.mean([m.average_recall or 0.0 for m in present]))
    return out


def confusion_matrix(
    true_idx: Sequence[int], pred_idx: Sequence[int], labels: Sequence[str]
) -> list[dict[str, object]]:
    """Row-normalised confusion matrix as AWS writes it: [{GroundTruthLabel, PredictedLabel, Value}]."""
    n = len(labels)
    m = np.zeros((n, n), dtype=np.float64)
    for t, p in zip(true_idx, pred_idx, strict=True):
        m[t, p] += 1
    rows = m.sum(axis=1, keepdims=True)
    frac = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    return [
        {"GroundTruthLabel": labels[i], "PredictedLabel": labels[j], "Value": float(frac[i, j])}
        for i in range(n)
        for j in range(n)
    ]


# ---------------------------------------------------------------- detection


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between (N,4) and (M,4) boxes in x1,y1,x2,y2."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def _greedy_match(
    ious: np.ndarray, pred_scores: np.ndarray, iou_threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    is_tp = np.zeros(ious.shape[0], dtype=bool)
    matched = np.full(ious.shape[1], -1, dtype=np.int64)
    if ious.size == 0:
        return is_tp, matched
    for i in np.argsort(-np.asarray(pred_scores), kind="stable"):
        cand = np.where(matched < 0, ious[i], -1.0)
        j = int(np.argmax(cand))
        if cand[j] >= iou_threshold:
            matched[j] = i
            is_tp[i] = True
    return is_tp, matched


def match_detections(
    pred_boxes: np.ndarray, pred_scores: np.ndarray, gt_boxes: np.ndarray, iou_threshold: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy matching in one image for one label, highest score first (COCO's rule).

    Returns (pred_is_tp (P,), gt_matched_by (G,) = index of the matching prediction or -1).
    """
    pred_boxes = np.asarray(pred_boxes, dtype=np.float64).reshape(-1, 4)
    gt_boxes = np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4)
    return _greedy_match(box_iou(pred_boxes, gt_boxes), np.asarray(pred_scores), iou_threshold)


def average_precision(scores: np.ndarray, is_tp: np.ndarray, n_positive: int) -> float:
    """COCO 101-point interpolated average precision."""
    if n_positive == 0:
        return 0.0
    if len(scores) == 0:
        return 0.0
    order = np.argsort(-np.asarray(scores), kind="stable")
    tp = np.asarray(is_tp, dtype=bool)[order]
    ctp = np.cumsum(tp)
    cfp = np.cumsum(~tp)
    recall = ctp / n_positive
    precision = ctp / np.maximum(ctp + cfp, 1)
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    points = np.linspace(0, 1, 101)
    idx = np.searchsorted(recall, points, side="left")
    vals = np.where(idx < len(precision), precision[np.minimum(idx, len(precision) - 1)], 0.0)
    return float(vals.mean())


@dataclass
class ImageDetections:
    """Predictions and ground truth of one test image (boxes x1,y1,x2,y2 in any consistent unit)."""

    pred_boxes: np.ndarray  # (P, 4)
    pred_scores: np.ndarray  # (P,)
    pred_labels: np.ndarray  # (P,) int label indices
    gt_boxes: np.ndarray  # (G, 4)
    gt_labels: np.ndarray  # (G,)


def detection_metrics(
    images: Sequence[ImageDetections],
    labels: Sequence[str],
    iou_threshold: float = 0.5,
    iou_grid: bool = True,
) -> list[LabelMetrics]:
    """Per label: best-F1 threshold at IoU ≥ `iou_threshold`, AP@0.5 and, with `iou_grid`, AP@[.5:.95]
    and AR over IoU 0.5:0.95 (skip the grid for quick checks during training)."""
    n = len(labels)
    grid = [float(t) for t in np.linspace(0.5, 0.95, 10)] if iou_grid else [0.5]
    if iou_threshold not in grid:
        grid = [iou_threshold, *grid]
    n_gt = np.zeros(n, dtype=np.int64)
    n_img = np.zeros(n, dtype=np.int64)
    scores: list[list[float]] = [[] for _ in range(n)]
    tps: dict[float, list[list[bool]]] = {t: [[] for _ in range(n)] for t in grid}
    for im in images:
        pl = np.asarray(im.pred_labels, dtype=np.int64).reshape(-1)
        gl = np.asarray(im.gt_labels, dtype=np.int64).reshape(-1)
        pb = np.asarray(im.pred_boxes, dtype=np.float64).reshape(-1, 4)
        gb = np.asarray(im.gt_boxes, dtype=np.float64).reshape(-1, 4)
        ps = np.asarray(im.pred_scores, dtype=np.float64).reshape(-1)
        for c in np.unique(np.concatenate([pl, gl])):
            c = int(c)
            if c < 0 or c >= n:
                continue
            pm, gm = pl == c, gl == c
            g = int(gm.sum())
            n_gt[c] += g
            n_img[c] += int(g > 0)
            ious = box_iou(pb[pm], gb[gm])
            scores[c].extend(ps[pm].tolist())
            for t in grid:
                tps[t][c].extend(_greedy_match(ious, ps[pm], t)[0].tolist())
    out: list[LabelMetrics] = []
    for c, name in enumerate(labels):
        s_arr = np.array(scores[c])
        thr, p, r, f = best_threshold_ranked(s_arr, np.array(tps[iou_threshold][c], dtype=bool), int(n_gt[c]))
        aps = {t: average_precision(s_arr, np.array(tps[t][c], dtype=bool), int(n_gt[c])) for t in grid}
        recalls = [_safe_div(sum(tps[t][c]), int(n_gt[c])) for t in grid if t >= 0.5]
        out.append(
            LabelMetrics(
                name,
                thr,
                p,
                r,
                f,
                testing_images=int(n_img[c]),
                support=int(n_gt[c]),
                average_precision=aps.get(0.5, aps[iou_threshold]),
                average_precision_5095=float(np.mean([aps[t] for t in grid if t >= 0.5]))
                if iou_grid
                else None,
                average_recall=float(np.mean(recalls)) if iou_grid else None,
            )
        )
    return out
