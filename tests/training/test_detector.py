"""FCOS detection on generated boxes: trains above chance, exports to ONNX that matches torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from openrek.training.augment import detection_augmentation, square_image_and_boxes
from openrek.training.data import Budget
from openrek.training.detector import DetectorConfig, DetectorTrainer, evaluate_detections
from openrek.training.export import export_detector, onnx_session
from openrek.training.metrics import aggregate

from .shapes import detection_examples

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained():  # type: ignore[no-untyped-def]
    train = detection_examples(48, seed=11)
    test = detection_examples(16, seed=12)
    cfg = DetectorConfig(image_size=128, max_seconds=30, eval_every_s=10, patience=2)
    det = DetectorTrainer(["box"], cfg).fit(train, test, Budget(60))
    return det, test


def test_detector_trains_above_chance(trained) -> None:  # type: ignore[no-untyped-def]
    det, test = trained
    lm = evaluate_detections(det.test_predictions, test, ["box"])
    agg = aggregate(lm)
    assert agg["F1Score"] >= 0.5, (agg, det.info)
    assert lm[0].support == sum(len(ex.boxes) for ex in test)
    assert det.info["history"], "held-out evaluation ran during training"


def test_detector_onnx_matches_torch(trained) -> None:  # type: ignore[no-untyped-def]
    det, test = trained
    onnx_bytes = export_detector(det.module, det.image_size)
    square = square_image_and_boxes(test[0].image, test[0].boxes, ["box"], det.image_size)[0]
    x = square.float().div(255.0)[None]
    with torch.no_grad():
        ref = det.module.eval()([x[0]])[0]
    boxes, scores, labels = onnx_session(onnx_bytes).run(None, {"images": x.numpy()})
    assert len(scores) == len(ref["scores"]) > 0
    np.testing.assert_allclose(scores, ref["scores"].numpy(), atol=1e-3)
    np.testing.assert_allclose(boxes, ref["boxes"].numpy() / det.image_size, atol=2e-3)
    assert labels.dtype == np.int64


def test_augmentation_keeps_boxes_on_the_objects() -> None:
    ex = detection_examples(1, seed=13)[0]
    img, boxes, cls = square_image_and_boxes(ex.image, ex.boxes, ["box"], 128)
    torch.manual_seed(0)
    aug = detection_augmentation()
    for _ in range(10):
        a_img, tgt = aug(img, {"boxes": boxes, "labels": cls})
        assert a_img.shape == (3, 128, 128)
        for b in tgt["boxes"]:
            x1, y1, x2, y2 = (int(round(float(v))) for v in b)
            patch = a_img[:, y1 + 3 : max(y1 + 4, y2 - 3), x1 + 3 : max(x1 + 4, x2 - 3)].float()
            # The red rectangle stays under its box (photometric jitter changes the shade, not the hue order).
            assert float(patch[0].mean()) > float(patch[1].mean()) + 40


def test_step_scheduled_training_is_reproducible() -> None:
    train = detection_examples(16, seed=14)
    test = detection_examples(4, seed=15)
    cfg = DetectorConfig(image_size=96, max_steps=6, eval_every_steps=3, batch_size=4, max_seconds=120)
    a = DetectorTrainer(["box"], cfg).fit(train, test, Budget(120))
    b = DetectorTrainer(["box"], cfg).fit(train, test, Budget(120))
    assert a.info["steps"] == b.info["steps"] == 6
    for (pa, sa, la), (pb, sb, lb) in zip(a.test_predictions, b.test_predictions, strict=True):
        np.testing.assert_allclose(sa, sb, atol=1e-5)
        np.testing.assert_allclose(pa, pb, atol=1e-5)
        np.testing.assert_array_equal(la, lb)
