"""The evaluation output files in AWS's shapes: EvaluationResultSummary and the TestingGroundTruth
evaluation snapshot (the test lines as read, plus `rekognition-custom-labels-evaluation*` fields).

(ManifestSummary, *ManifestWithValidation and TrainingGroundTruth are written by `manifests/`.)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from openrek.manifests.types import ManifestRecord
from openrek.training.metrics import LabelMetrics, match_detections

EVALUATION_ATTRIBUTE = "rekognition-custom-labels-evaluation"
EVALUATION_JOB = "rekognition-custom-labels-evaluation"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def evaluation_summary(
    *,
    version_arn: str,
    labels: Sequence[str],
    label_metrics: Sequence[LabelMetrics],
    aggregated: dict[str, float],
    n_train: int,
    n_test: int,
    confusion: list[dict[str, Any]] | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """EvaluationResultSummary's JSON. Extras beyond AWS (mAP@[.5:.95], timings) go under `OpenRekDetails`."""
    metrics: dict[str, Any] = {
        "Precision": aggregated["Precision"],
        "Recall": aggregated["Recall"],
        "F1Score": aggregated["F1Score"],
        "Threshold": aggregated.get("Threshold", 0.5),
    }
    if "AveragePrecision" in aggregated:
        metrics["AveragePrecision"] = aggregated["AveragePrecision"]
        metrics["AverageRecall"] = aggregated.get("AverageRecall", 0.0)
    if confusion is not None:
        metrics["ConfusionMatrix"] = confusion
    per_label = sorted(label_metrics, key=lambda m: (-m.f1, m.label))
    out: dict[str, Any] = {
        "Version": 1,
        "EvaluationDetails": {
            "ProjectVersionArn": version_arn,
            "EvaluationEndTimestamp": _now(),
            "Labels": list(labels),
            "NumberOfTrainingImages": n_train,
            "NumberOfTestingImages": n_test,
        },
        "AggregatedEvaluationResults": {"Metrics": metrics},
        "LabelEvaluationResults": [
            {
                "Label": m.label,
                "NumberOfTestingImages": m.testing_images,
                "Metrics": {
                    "Threshold": m.threshold,
                    "Precision": m.precision,
                    "Recall": m.recall,
                    "F1Score": m.f1,
                    **(
                        {
                            "AveragePrecision": m.average_precision,
                            "AveragePrecisionIoU50To95": m.average_precision_5095,
                            "AverageRecall": m.average_recall,
                        }
                        if m.average_precision is not None
                        else {}
                    ),
                },
            }
            for m in per_label
        ],
    }
    extra: dict[str, Any] = dict(details or {})
    if "AveragePrecision5095" in aggregated:
        extra["MeanAveragePrecisionIoU50"] = aggregated["AveragePrecision"]
        extra["MeanAveragePrecisionIoU50To95"] = aggregated["AveragePrecision5095"]
    if extra:
        out["OpenRekDetails"] = extra
    return out


def _labelling_jobs(raw: dict[str, Any]) -> list[str]:
    return [k for k in raw if f"{k}-metadata" in raw and not k.startswith(EVALUATION_ATTRIBUTE)]


def _flags(predicted: bool, present: bool) -> dict[str, bool]:
    return {
        "is-true-positive": predicted and present,
        "is-true-negative": (not predicted) and (not present),
        "is-false-positive": predicted and not present,
        "is-false-negative": (not predicted) and present,
        "is-present-in-ground-truth": present,
    }


def image_level_snapshot_line(
    record: ManifestRecord,
    scores: np.ndarray,
    labels: Sequence[str],
    thresholds: dict[str, float],
    multi_label: bool,
) -> dict[str, Any]:
    """One TestingGroundTruth line for classification / multi-label."""
    line = dict(record.raw)
    truth = set(record.labels)
    created = _now()
    jobs = _labelling_jobs(record.raw)
    per_label = []
    for j, name in enumerate(labels):
        s = float(scores[j])
        predicted = s >= thresholds.get(name, 0.5)
        if predicted or name in truth:
            per_label.append({"label": name, "confidence": s, **_flags(predicted, name in truth)})
    if multi_label:
        chosen = [j for j, name in enumerate(labels) if float(scores[j]) >= thresholds.get(name, 0.5)]
        line[EVALUATION_ATTRIBUTE] = chosen
        line[f"{EVALUATION_ATTRIBUTE}-metadata"] = {
            "class-map": {str(j): labels[j] for j in chosen},
            "confidence-map": {str(j): float(scores[j]) for j in chosen},
            "human-annotated": "no",
            "creation-date": created,
            "type": "groundtruth/image-classification-multilabel",
            "job-name": EVALUATION_JOB,
        }
        top_pred = bool(chosen)
        top_present = any(labels[j] in truth for j in chosen)
    else:
        top = int(np.argmax(scores))
        name = labels[top]
        top_pred = float(scores[top]) >= thresholds.get(name, 0.5)
        top_present = name in truth
        line[EVALUATION_ATTRIBUTE] = top
        line[f"{EVALUATION_ATTRIBUTE}-metadata"] = {
            "confidence": float(scores[top]),
            "class-name": name,
            "human-annotated": "no",
            "creation-date": created,
            "type": "groundtruth/image-classification",
            "job-name": EVALUATION_JOB,
        }
    line[f"{EVALUATION_ATTRIBUTE}-details"] = {
        "version": 1,
        **_flags(top_pred, top_present),
        "ground-truth-labelling-jobs": jobs,
        "labels": per_label,
    }
    return line


def detection_snapshot_line(
    record: ManifestRecord,
    boxes: np.ndarray,
    scores: np.ndarray,
    classes: np.ndarray,
    labels: Sequence[str],
    thresholds: dict[str, float],
    gt_boxes: np.ndarray,
    gt_classes: np.ndarray,
    image_size: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """One TestingGroundTruth line for detection: predicted boxes above their label's threshold, each
    judged at IoU ≥ 0.5 (boxes as x1,y1,x2,y2 ratios in, pixels of the record's image out; `image_size`
    (width, height) is used when the record does not carry its size)."""
    line = dict(record.raw)
    fallback = image_size or (1, 1)
    w, h = float(record.width or fallback[0]), float(record.height or fallback[1])
    keep = np.array(
        [float(s) >= thresholds.get(labels[int(c)], 0.5) for s, c in zip(scores, classes, strict=True)],
        dtype=bool,
    ).reshape(-1)
    boxes, scores, classes = (
        np.asarray(boxes).reshape(-1, 4)[keep],
        np.asarray(scores)[keep],
        np.asarray(classes)[keep],
    )
    is_tp = np.zeros(len(boxes), dtype=bool)
    missed: list[int] = []
    for c in sorted(set(classes.tolist()) | set(np.asarray(gt_classes).tolist())):
        pm = classes == c
        gm = np.asarray(gt_classes) == c
        tp, matched = match_detections(boxes[pm], scores[pm], np.asarray(gt_boxes).reshape(-1, 4)[gm])
        is_tp[np.where(pm)[0]] = tp
        missed.extend(np.where(gm)[0][matched < 0].tolist())
    annotations = []
    objects = []
    flags = []
    for box, score, c, tp in zip(boxes, scores, classes, is_tp, strict=True):
        x1, y1, x2, y2 = (float(np.clip(v, 0, 1)) for v in box)
        annotations.append(
            {
                "class_id": int(c),
                "left": round(x1 * w),
                "top": round(y1 * h),
                "width": round((x2 - x1) * w),
                "height": round((y2 - y1) * h),
            }
        )
        objects.append({"confidence": float(score)})
        flags.append(_flags(True, bool(tp)))
    line[EVALUATION_ATTRIBUTE] = {
        "image_size": [{"width": int(w), "height": int(h), "depth": 3}],
        "annotations": annotations,
    }
    line[f"{EVALUATION_ATTRIBUTE}-metadata"] = {
        "objects": objects,
        "class-map": {str(i): name for i, name in enumerate(labels)},
        "human-annotated": "no",
        "creation-date": _now(),
        "type": "groundtruth/object-detection",
        "job-name": EVALUATION_JOB,
    }
    line[f"{EVALUATION_ATTRIBUTE}-details"] = {
        "version": 1,
        "objects": flags,
        "missed-ground-truth-objects": sorted(missed),
        "ground-truth-labelling-jobs": _labelling_jobs(record.raw),
    }
    return line


def jsonl_bytes(lines: Sequence[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")
