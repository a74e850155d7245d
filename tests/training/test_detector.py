"""FCOS detection on generated boxes: trains above chance, exports to ONNX that matches torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from openrek.training.augment import detection_augmentation, square_image_and_boxes
from openrek.training.data import Budget
from openrek.training.detector import DetectorConfig, DetectorTrainer, evaluate_detections, predict_squares
from openrek.training.export import export_detector
from openrek.training.metrics import aggregate
from openrek.training.model_file import onnx_session

from .shapes import detection_examples

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained():  # type: ignore[no-untyped-def]
    train = detection_examples(48, seed=11)
    test = detection_examples(16, seed=12)
    cfg = DetectorConfig(image_size=128, max_steps=60, evaluations=4, patience=2)
    det = DetectorTrainer(["box"], cfg).fit(train, Budget(120))
    return det, test


def _predictions(det, examples):  # type: ignore[no-untyped-def]
    squares = [square_image_and_boxes(ex.image, ex.boxes, det.labels, det.image_size)[0] for ex in examples]
    return predict_squares(det.module, squares, torch.device("cpu"))


def test_detector_trains_above_chance(trained) -> None:  # type: ignore[no-untyped-def]
    det, test = trained
    lm = evaluate_detections(_predictions(det, test), test, ["box"])
    agg = aggregate(lm)
    assert agg["F1Score"] >= 0.5, (agg, det.info)
    assert lm[0].support == sum(len(ex.boxes) for ex in test)
    # Checkpoints were judged on a validation split of the 48 training images, not on the test set.
    assert det.info["history"] and det.info["validation_images"] >= 2
    assert det.info["planned_steps"] == 60 and not det.info["budget_hit"]


def test_the_planned_length_follows_the_data() -> None:
    trainer = DetectorTrainer(["box"], DetectorConfig(batch_size=8, epochs=10))
    assert trainer.planned_steps(160, 160) == 200  # 20 batches a pass, 10 passes
    assert trainer.planned_steps(160, 640) == 400  # 4 boxes an image: 1 + ½·log2(4) = twice as long
    assert trainer.planned_steps(8, 8) == 60  # never fewer than fewest_steps
    assert trainer.planned_steps(100_000, 100_000) == 1500  # nor more than most_steps


def test_a_run_cut_by_its_time_budget_says_so() -> None:
    train = detection_examples(12, seed=16)
    cfg = DetectorConfig(image_size=96, batch_size=4, epochs=500, max_seconds=3)
    det = DetectorTrainer(["box"], cfg).fit(train, Budget(60))
    assert det.info["budget_hit"] and det.info["stop_reason"] == "time budget"
    assert det.info["steps"] < det.info["planned_steps"]


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


def test_the_same_data_and_settings_give_the_same_detector() -> None:
    train = detection_examples(16, seed=14)
    test = detection_examples(4, seed=15)
    cfg = DetectorConfig(image_size=96, fewest_steps=6, epochs=1, evaluations=2, batch_size=4)
    a = DetectorTrainer(["box"], cfg).fit(train, Budget(600))
    b = DetectorTrainer(["box"], cfg).fit(train, Budget(600))
    assert a.info["steps"] == b.info["steps"] == 6 and a.info["best_step"] == b.info["best_step"]
    for (pa, sa, la), (pb, sb, lb) in zip(_predictions(a, test), _predictions(b, test), strict=True):
        np.testing.assert_allclose(sa, sb, atol=1e-5)
        np.testing.assert_allclose(pa, pb, atol=1e-5)
        np.testing.assert_array_equal(la, lb)
