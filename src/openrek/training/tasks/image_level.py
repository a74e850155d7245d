"""Image-level labels: classification (one label per image, softmax) and multi-label (sigmoid).

Fitting is `classifier.ImageLevelTrainer` (frozen backbones, heads chosen by cross-validation on the
training images); the evaluation is per-label precision/recall/F1 at each label's assumed threshold, a
confusion matrix for classification, and one TestingGroundTruth line per test image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from openrek.training.data import Example
from openrek.training.evaluation_files import SnapshotClassMap, image_level_snapshot_line
from openrek.training.metrics import aggregate, confusion_matrix, image_level_metrics
from openrek.training.tasks.base import Evaluation, FitSettings, Fitted

if TYPE_CHECKING:
    from openrek.training.inference import Predictor

CLASSIFICATION = "classification"
MULTI_LABEL = "multi_label"


class ImageLevelFamily:
    tasks = (CLASSIFICATION, MULTI_LABEL)

    def fit(self, task: str, train: Sequence[Example], settings: FitSettings) -> Fitted:
        from openrek.training.classifier import ClassifierConfig, ImageLevelTrainer

        options = settings.options
        config = ClassifierConfig(backbones=options.backbones, image_size=options.image_size, seed=settings.seed,
                                  device=options.device)
        if not options.fine_tune:
            config.fine_tune = None
        model = ImageLevelTrainer(settings.labels, task == MULTI_LABEL, config, settings.progress).fit(
            train, settings.budget)
        return Fitted(model.module, model.image_size, True, dict(model.info))

    def export(self, fitted: Fitted) -> bytes:
        from openrek.training.export import export_image_level

        return export_image_level(fitted.module, fitted.image_size)

    def check_export(self, fitted: Fitted, onnx_bytes: bytes) -> dict[str, Any]:
        import torch

        from openrek.training.export import max_difference

        example = torch.randn(2, 3, fitted.image_size, fitted.image_size)
        return {"onnx_max_abs_diff": max_difference(fitted.module, onnx_bytes, example)}

    def evaluate(self, task: str, predictor: Predictor, test: Sequence[Example], labels: list[str]) -> Evaluation:
        multi = task == MULTI_LABEL
        class_map = SnapshotClassMap(labels, [ex.record for ex in test if ex.record is not None])
        scores = np.stack([predictor.raw_outputs(ex.image)[0][0] for ex in test])
        index = {n: i for i, n in enumerate(labels)}
        truth = np.zeros((len(test), len(labels)), dtype=bool)
        for i, ex in enumerate(test):
            for name in ex.labels:
                if name in index:
                    truth[i, index[name]] = True
        metrics = image_level_metrics(scores, truth, labels)
        thresholds = {m.label: m.threshold for m in metrics}
        confusion = None
        if not multi:
            pairs = [(index[ex.labels[0]], int(np.argmax(s))) for ex, s in zip(test, scores, strict=True)
                     if ex.labels and ex.labels[0] in index]
            confusion = confusion_matrix([p[0] for p in pairs], [p[1] for p in pairs], labels)
        snapshot = []
        for ex, s in zip(test, scores, strict=True):
            assert ex.record is not None
            snapshot.append(image_level_snapshot_line(ex.record, s, labels, thresholds, multi, class_map))
        return Evaluation(metrics, aggregate(metrics), thresholds, snapshot, confusion)

    def decode(self, outputs: Sequence[np.ndarray], labels: Sequence[str],
               passes: Callable[[str, float], bool]) -> list[dict[str, Any]]:
        return [{"Name": name, "Confidence": round(float(score) * 100.0, 5)}
                for name, score in zip(labels, outputs[0][0], strict=True) if passes(name, float(score))]
