"""The evaluation output files in AWS's shapes: EvaluationResultSummary and the TestingGroundTruth
evaluation snapshot.

The snapshot follows the example in AWS's developer guide ("evaluation manifest snapshot"): each test line
keeps its source-ref and the ground-truth attributes that were used, renamed
`rekognition-custom-labels-training-<n>`, and adds the model's prediction, judged against them:

- classification: `rekognition-custom-labels-evaluation-0`, the top label's class id; its `-metadata` has
  `confidence`, `class-name`, `human-annotated: "no"`, … and `rekognition-custom-labels-evaluation-details`
  (`version`, the `is-true-positive`… flags, `is-present-in-ground-truth`, `ground-truth-labelling-jobs`);
- multi-label (and moderation adapters): one such attribute per label that was predicted or is in the
  ground truth (`-evaluation-0`, `-1`, …, most confident first), each with its own details;
- detection: `rekognition-custom-labels-evaluation` holds the boxes (`annotations`, `image_size`) and its
  `-metadata.objects[i]` the confidence and details of box i. Boxes at or above their label's threshold
  are listed, and so are the below-threshold boxes that match a ground-truth box no listed box matched
  (false negatives, as AWS lists them); the other below-threshold candidates are left out.

Ground truth and predictions share one class map across the file (`SnapshotClassMap`): the model's labels in
order, then any label only the test set names. (ManifestSummary, *ManifestWithValidation and
TrainingGroundTruth are written by `manifests/`.)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from openrek.manifests import rules
from openrek.manifests.types import Box, ManifestRecord
from openrek.training.metrics import LabelMetrics, match_detections

TRAINING_ATTRIBUTE = "rekognition-custom-labels-training"  # + "-<n>": the renamed ground truth
EVALUATION_ATTRIBUTE = "rekognition-custom-labels-evaluation"  # detection; + "-<n>" for image-level labels
EVALUATION_DETAILS = "rekognition-custom-labels-evaluation-details"
TRAINING_JOB = "rekognition-custom-labels-training-job"  # job-name of ground truth that names none
EVALUATION_JOB = "rekognition-custom-labels-evaluation-job"


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


class SnapshotClassMap:
    """The one class map of a snapshot file: id → label name, shared by ground truth and predictions.

    Ids 0… are the model's labels in order (so a model output index is its class id), then the labels that
    only the test records name, sorted.
    """

    def __init__(self, labels: Sequence[str], records: Sequence[ManifestRecord] = ()) -> None:
        self.names: list[str] = list(labels)
        extra = {name for r in records for name in [*r.labels, *(b.label for b in r.boxes)]} - set(self.names)
        self.names += sorted(extra)
        self._ids = {name: i for i, name in enumerate(self.names)}

    def id(self, name: str) -> int:
        """The class id of a label (one the map does not know yet is added at the end)."""
        if name not in self._ids:
            self._ids[name] = len(self.names)
            self.names.append(name)
        return self._ids[name]

    def to_json(self) -> dict[str, str]:
        return {str(i): name for i, name in enumerate(self.names)}


def _used_attributes(record: ManifestRecord, raw: dict[str, Any]) -> list[str]:
    """The record's ground-truth attributes (every attribute with metadata, for records made elsewhere)."""
    if record.attributes:
        return list(record.attributes)
    return [k for k in raw if (f"{k}-metadata" in raw and not k.startswith(EVALUATION_ATTRIBUTE))
            or k == rules.MODERATION_ATTRIBUTE]


def _job(metadata: dict[str, Any]) -> dict[str, Any]:
    return {**metadata, "job-name": metadata.get("job-name") or TRAINING_JOB}


def _image_level_truth(name: str, value: Any, metadata: dict[str, Any], cmap: SnapshotClassMap
                       ) -> tuple[Any, dict[str, Any]]:
    """One image-level ground-truth attribute with its class ids in the snapshot's class map."""
    if isinstance(value, list) and isinstance(metadata.get("class-map"), dict):
        old_map = metadata["class-map"]
        ids = {str(v): cmap.id(old_map[str(v)]) for v in value if str(v) in old_map}
        new_meta = {**metadata, "class-map": cmap.to_json()}
        if isinstance(metadata.get("confidence-map"), dict):
            new_meta["confidence-map"] = {str(ids[k]): c for k, c in metadata["confidence-map"].items() if k in ids}
        return [ids[str(v)] for v in value if str(v) in ids], new_meta
    label = metadata.get("class-name")
    return (cmap.id(label) if isinstance(label, str) else value), dict(metadata)


def _number(v: float) -> int | float:
    return int(v) if float(v).is_integer() else float(v)


def _detection_truth(record: ManifestRecord, value: Any, boxes: list[Box], metadata: dict[str, Any],
                     cmap: SnapshotClassMap) -> tuple[dict[str, Any], dict[str, Any]]:
    """One detection ground-truth attribute (`value` as read): its valid boxes, in pixels of the image
    as decoded."""
    size = value.get("image_size") if isinstance(value, dict) else None
    depth = size[0].get("depth", 3) if isinstance(size, list) and size and isinstance(size[0], dict) else 3
    objects = metadata.get("objects") if isinstance(metadata.get("objects"), list) else []
    annotations, kept = [], []
    for b in boxes:
        annotations.append({"class_id": cmap.id(b.label), "left": _number(b.left), "top": _number(b.top),
                            "width": _number(b.width), "height": _number(b.height)})
        index = b.source[1] if b.source is not None else -1
        kept.append(objects[index] if 0 <= index < len(objects) else {"confidence": 1.0})
    new_value = {"annotations": annotations,
                 "image_size": [{"width": record.width, "height": record.height, "depth": depth}]}
    return new_value, {**metadata, "class-map": cmap.to_json(), "objects": kept}


def ground_truth_attributes(record: ManifestRecord, cmap: SnapshotClassMap, detection: bool
                            ) -> tuple[dict[str, Any], list[str]]:
    """The record's used ground truth as `rekognition-custom-labels-training-<n>` pairs, and their job names.

    The Content Moderation attribute has no metadata and keeps its own name.
    """
    out: dict[str, Any] = {}
    jobs: list[str] = []
    n = 0
    raw = record.raw
    for name in _used_attributes(record, raw):
        if name == rules.MODERATION_ATTRIBUTE:
            out[name] = raw.get(name)
            jobs.append(name)
            continue
        metadata = raw.get(f"{name}-metadata")
        metadata = _job(metadata if isinstance(metadata, dict) else {})
        if detection:
            boxes = [b for b in record.boxes if b.source is None or b.source[0] == name]
            value, metadata = _detection_truth(record, raw.get(name), boxes, metadata, cmap)
        else:
            value, metadata = _image_level_truth(name, raw.get(name), metadata, cmap)
        out[f"{TRAINING_ATTRIBUTE}-{n}"] = value
        out[f"{TRAINING_ATTRIBUTE}-{n}-metadata"] = metadata
        n += 1
        if metadata["job-name"] not in jobs:
            jobs.append(metadata["job-name"])
    return out, jobs


def _details(predicted: bool, present: bool, jobs: list[str]) -> dict[str, Any]:
    """AWS's `rekognition-custom-labels-evaluation-details` for one prediction."""
    predicted, present = bool(predicted), bool(present)  # callers may pass numpy bools (score >= threshold)
    return {
        "version": 1,
        "is-true-positive": predicted and present,
        "is-true-negative": (not predicted) and (not present),
        "is-false-positive": predicted and not present,
        "is-false-negative": (not predicted) and present,
        "is-present-in-ground-truth": present,
        "ground-truth-labelling-jobs": list(jobs),
    }


def _start(record: ManifestRecord) -> dict[str, Any]:
    return {"source-ref": record.source_ref}


def image_level_snapshot_line(
    record: ManifestRecord,
    scores: np.ndarray,
    labels: Sequence[str],
    thresholds: dict[str, float],
    multi_label: bool,
    class_map: SnapshotClassMap | None = None,
) -> dict[str, Any]:
    """One TestingGroundTruth line for classification / multi-label (model scores in `labels` order).

    Classification judges the top label; multi-label judges every label that is predicted (score at or
    above its threshold) or in the ground truth, most confident first (the top label when there is none).
    """
    cmap = class_map or SnapshotClassMap(labels, [record])
    line = _start(record)
    truth_attrs, jobs = ground_truth_attributes(record, cmap, detection=False)
    line.update(truth_attrs)
    truth = set(record.labels)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    order = sorted(range(len(labels)), key=lambda j: (-float(scores[j]), j))

    def predicted(j: int) -> bool:
        return float(scores[j]) >= thresholds.get(labels[j], 0.5)

    judged = [j for j in order if predicted(j) or labels[j] in truth] if multi_label else []
    judged = judged or order[:1]
    created = _now()
    for n, j in enumerate(judged):
        key = f"{EVALUATION_ATTRIBUTE}-{n}"
        line[key] = cmap.id(labels[j])
        line[f"{key}-metadata"] = {
            "confidence": float(scores[j]),
            "job-name": EVALUATION_JOB,
            "class-name": labels[j],
            "human-annotated": "no",
            "creation-date": created,
            "type": rules.TYPE_MULTILABEL if multi_label else rules.TYPE_CLASSIFICATION,
            EVALUATION_DETAILS: _details(predicted(j), labels[j] in truth, jobs),
        }
    return line


def _box_matches(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, gt_boxes: np.ndarray,
                 gt_classes: np.ndarray) -> np.ndarray:
    """Per candidate box: does it match a ground-truth box of its label (IoU ≥ 0.5, best scores first)?"""
    matched = np.zeros(len(boxes), dtype=bool)
    for c in sorted(set(classes.tolist())):
        pm = classes == c
        tp, _ = match_detections(boxes[pm], scores[pm], gt_boxes[gt_classes == c])
        matched[np.where(pm)[0]] = tp
    return matched


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
    class_map: SnapshotClassMap | None = None,
) -> dict[str, Any]:
    """One TestingGroundTruth line for detection.

    `boxes` are every candidate (x1,y1,x2,y2 ratios) with `scores` and label indices `classes`; `gt_*` the
    ground truth in the same units. A candidate is predicted when its score reaches its label's threshold
    and present in the ground truth when it matches a ground-truth box; the snapshot lists the predicted
    ones and the below-threshold ones that match (false negatives), most confident first, in pixels of the
    record's image (`image_size` (width, height) when the record does not carry its size).
    """
    cmap = class_map or SnapshotClassMap(labels, [record])
    line = _start(record)
    truth_attrs, jobs = ground_truth_attributes(record, cmap, detection=True)
    line.update(truth_attrs)
    fallback = image_size or (1, 1)
    w, h = float(record.width or fallback[0]), float(record.height or fallback[1])
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    classes = np.asarray(classes).astype(np.int64).reshape(-1)
    present = _box_matches(boxes, scores, classes, np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4),
                           np.asarray(gt_classes).astype(np.int64).reshape(-1))
    predicted = np.array([float(s) >= thresholds.get(labels[int(c)], 0.5) for s, c in zip(scores, classes,
                                                                                          strict=True)], dtype=bool)
    annotations, objects = [], []
    for i in sorted(np.where(predicted | present)[0].tolist(), key=lambda i: (-float(scores[i]), i)):
        x1, y1, x2, y2 = (float(np.clip(v, 0, 1)) for v in boxes[i])
        annotations.append({"class_id": cmap.id(labels[int(classes[i])]), "left": round(x1 * w),
                            "top": round(y1 * h), "width": round((x2 - x1) * w), "height": round((y2 - y1) * h)})
        objects.append({"confidence": float(scores[i]),
                        EVALUATION_DETAILS: _details(bool(predicted[i]), bool(present[i]), jobs)})
    line[EVALUATION_ATTRIBUTE] = {
        "annotations": annotations,
        "image_size": [{"width": int(w), "height": int(h), "depth": 3}],
    }
    line[f"{EVALUATION_ATTRIBUTE}-metadata"] = {
        "confidence": max((o["confidence"] for o in objects), default=0.0),
        "job-name": EVALUATION_JOB,
        "class-map": cmap.to_json(),
        "human-annotated": "no",
        "objects": objects,
        "creation-date": _now(),
        "type": rules.TYPE_DETECTION,
    }
    return line


def json_default(value: Any) -> Any:
    """numpy scalars and arrays as plain JSON values (a score compared with a threshold is a numpy bool)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def json_bytes(obj: Any) -> bytes:
    """One JSON document (indented), numpy values included."""
    return json.dumps(obj, indent=2, default=json_default).encode("utf-8")


def jsonl_bytes(lines: Sequence[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(line, ensure_ascii=False, default=json_default) + "\n"
                   for line in lines).encode("utf-8")
