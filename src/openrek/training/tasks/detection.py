"""Object localisation: FCOS boxes, judged at IoU ≥ 0.5 per label, with mAP@0.5 and mAP@[.5:.95].

Fitting is `detector.DetectorTrainer` (steps planned from the data, checkpoints chosen on a validation
split of the training images); the evaluation matches the exported model's boxes on the test images.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from openrek.training.data import Example, box_ratios
from openrek.training.evaluation_files import SnapshotClassMap, detection_snapshot_line
from openrek.training.metrics import ImageDetections, aggregate, detection_metrics
from openrek.training.tasks.base import Evaluation, FitSettings, Fitted

if TYPE_CHECKING:
    from openrek.training.inference import Predictor

DETECTION = "detection"


class DetectionFamily:
    tasks = (DETECTION,)

    def fit(self, task: str, train: Sequence[Example], settings: FitSettings) -> Fitted:
        from openrek.training.detector import DetectorConfig, DetectorTrainer

        options = settings.options
        config = DetectorConfig(backbone=options.detector_backbone, image_size=options.detector_image_size,
                                size_range=options.detector_sizes,
                                balance_threshold=options.detector_balance_threshold,
                                max_seconds=options.detector_max_seconds, epochs=options.detector_epochs,
                                batch_size=options.detector_batch_size, max_steps=options.detector_max_steps,
                                seed=settings.seed, device=options.device)
        detector = DetectorTrainer(settings.labels, config, settings.progress).fit(train, settings.budget)
        fitted = Fitted(detector.module, detector.image_size, False, dict(detector.info))
        if options.box_classifier and len(settings.labels) > 1 and detector.validation_ids:
            self._second_look(fitted, detector, train, settings)
        return fitted

    def _second_look(self, fitted: Fitted, detector: Any, train: Sequence[Example], settings: FitSettings) -> None:
        """The box-classifier candidate (`box_classifier.py`): kept in `fitted` only if it wins on the
        detector's validation images."""
        from openrek.training.box_classifier import fit_box_classifier
        from openrek.training.detector import evaluate_detections

        if settings.budget.remaining() < self.box_classifier_min_seconds:
            fitted.info["box_classifier"] = {"skipped": "time budget"}
            return
        labels = settings.labels

        def validation_f1(preds: list[tuple[np.ndarray, np.ndarray, np.ndarray]], examples: Sequence[Example]) -> float:
            return float(aggregate(evaluate_detections(preds, examples, labels, iou_grid=False))["F1Score"])

        outcome = fit_box_classifier(detector.module, detector.image_size, [train[i] for i in detector.fit_ids],
                                     [train[i] for i in detector.validation_ids], labels,
                                     float(detector.info.get("validation_f1") or 0.0), validation_f1,
                                     settings.budget, settings.seed, settings.progress)
        fitted.info["box_classifier"] = outcome.info
        if outcome.module is not None:
            fitted.module, fitted.image_size = outcome.module, outcome.input_size

    box_classifier_min_seconds = 60.0

    def export(self, fitted: Fitted) -> bytes:
        from openrek.training.export import export_detector

        return export_detector(fitted.module, fitted.image_size)

    def check_export(self, fitted: Fitted, onnx_bytes: bytes) -> dict[str, Any]:
        return {}

    def evaluate(self, task: str, predictor: Predictor, test: Sequence[Example], labels: list[str]) -> Evaluation:
        class_map = SnapshotClassMap(labels, [ex.record for ex in test if ex.record is not None])
        found = []
        for ex in test:
            boxes, scores, classes = predictor.raw_outputs(ex.image)
            truth_boxes, truth_labels = box_ratios(ex, labels)
            found.append(ImageDetections(boxes, scores, classes.astype(np.int64), truth_boxes, truth_labels))
        metrics = detection_metrics(found, labels)
        thresholds = {m.label: m.threshold for m in metrics}
        snapshot = []
        for ex, im in zip(test, found, strict=True):
            assert ex.record is not None
            snapshot.append(detection_snapshot_line(ex.record, im.pred_boxes, im.pred_scores, im.pred_labels, labels, thresholds,
                                                    im.gt_boxes, im.gt_labels, ex.image.size, class_map))
        return Evaluation(metrics, aggregate(metrics), thresholds, snapshot)

    def decode(self, outputs: Sequence[np.ndarray], labels: Sequence[str],
               passes: Callable[[str, float], bool]) -> list[dict[str, Any]]:
        found = []
        for box, score, cls in zip(outputs[0], outputs[1], outputs[2], strict=True):
            name = labels[int(cls)]
            if not passes(name, float(score)):
                continue
            x1, y1, x2, y2 = (float(np.clip(v, 0.0, 1.0)) for v in box)
            found.append({"Name": name, "Confidence": round(float(score) * 100.0, 5),
                          "Geometry": {"BoundingBox": {"Width": x2 - x1, "Height": y2 - y1, "Left": x1, "Top": y1}}})
        return found
