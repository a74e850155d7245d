"""The box classifier: crops cut like the exported model cuts them, the candidate judged on validation
images only, and the combined detector exported to ONNX with the detector's outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from openrek.training.box_classifier import (
    BoxClassifierConfig,
    BoxClassifierDetector,
    crops,
    fit_box_classifier,
    training_crops,
)
from openrek.training.classifier import ClassifierConfig, ImageLevelTrainer
from openrek.training.data import Budget
from openrek.training.detector import DetectorConfig, DetectorTrainer, evaluate_detections
from openrek.training.export import export_detector
from openrek.training.metrics import aggregate
from openrek.training.model_file import onnx_session

from .shapes import two_class_detection_examples

pytestmark = pytest.mark.slow

LABELS = ["blue", "red"]


@pytest.fixture(scope="module")
def detector():  # type: ignore[no-untyped-def]
    train = two_class_detection_examples(24, seed=31)
    cfg = DetectorConfig(image_size=96, max_steps=24, evaluations=2, batch_size=8)
    return DetectorTrainer(LABELS, cfg).fit(train, Budget(120)), train


def test_a_crop_is_the_box_widened_by_its_margin() -> None:
    img = Image.new("RGB", (100, 100), (0, 0, 0))
    img.paste((255, 255, 255), (40, 40, 60, 60))  # a white 20 px square at 40..60
    x = torch.from_numpy(np.asarray(img, np.float32) / 255.0).permute(2, 0, 1)[None]
    cut = crops(x, torch.tensor([[40.0, 40.0, 60.0, 60.0]]), 24, 0.1)
    assert cut.shape == (1, 3, 24, 24)
    # Widened by 10 % a side (2 px of 24): a dark rim of about 2 px around a white centre.
    assert float(cut[0, :, 4:20, 4:20].min()) > 0.95
    assert float(cut[0, :, 0, :].max()) < 0.5 and float(cut[0, :, :, 0].max()) < 0.5


def test_training_crops_are_one_per_known_box(detector) -> None:  # type: ignore[no-untyped-def]
    _det, train = detector
    examples = training_crops(train, LABELS, 192, BoxClassifierConfig(crop_size=48))
    assert len(examples) == sum(len(ex.boxes) for ex in train)
    assert all(ex.image.size == (48, 48) and len(ex.labels) == 1 for ex in examples)
    # The colour names the label: the crop's centre is red or blue as its label says.
    for ex in examples[:6]:
        r, _g, b = np.asarray(ex.image, np.float32)[20:28, 20:28].mean(axis=(0, 1))
        assert (r > b) == (ex.labels[0] == "red")


def test_the_candidate_is_judged_on_validation_images_only(detector) -> None:  # type: ignore[no-untyped-def]
    det, train = detector
    fitting = [train[i] for i in det.fit_ids]
    validation = [train[i] for i in det.validation_ids]
    seen: list[int] = []

    def judge(preds, examples):  # type: ignore[no-untyped-def]
        seen.append(len(examples))
        assert all(any(ex is v for v in validation) for ex in examples)
        return float(aggregate(evaluate_detections(preds, examples, LABELS, iou_grid=False))["F1Score"])

    cfg = BoxClassifierConfig(crop_size=48, alphas=(0.25, 0.75))
    outcome = fit_box_classifier(det.module, det.image_size, fitting, validation, LABELS,
                                 float(det.info["validation_f1"] or 0.0), judge, Budget(120), 0, lambda _m: None, cfg)
    assert seen == [len(validation)] * 2  # once per α, on the validation images alone
    assert outcome.info["crops"] == sum(len(ex.boxes) for ex in fitting)
    assert set(outcome.info["validation"]) == {"alpha=0.25", "alpha=0.75"}
    if outcome.info["chosen"]:
        assert outcome.module is not None and outcome.input_size == 2 * det.image_size
    else:
        assert outcome.module is None and outcome.input_size == det.image_size


def test_the_combined_detector_exports_with_the_detectors_outputs(detector) -> None:  # type: ignore[no-untyped-def]
    det, train = detector
    crops_ = training_crops(train, LABELS, 2 * det.image_size, BoxClassifierConfig(crop_size=48))
    clf = ImageLevelTrainer(LABELS, False, ClassifierConfig(image_size=48, backbones=("mobilenet_v2",), tta=False,
                                                            fine_tune=None)).fit(crops_, Budget(60))
    module = BoxClassifierDetector(det.module, clf.module, det.image_size, BoxClassifierConfig(crop_size=48),
                                   max_boxes=4, alpha=0.5).eval()
    side = 2 * det.image_size
    onnx_bytes = export_detector(module, side)
    session = onnx_session(onnx_bytes)
    image = train[0].image.resize((side, side), Image.BILINEAR)
    x = torch.from_numpy(np.asarray(image, np.float32) / 255.0).permute(2, 0, 1)[None].contiguous()
    with torch.no_grad():
        ref = module(x)
    boxes, scores, labels = session.run(None, {"images": x.numpy()})
    assert 0 < len(scores) <= 4 and len(scores) == len(ref[1])
    np.testing.assert_allclose(scores, ref[1].numpy(), atol=1e-3)
    np.testing.assert_allclose(boxes, ref[0].numpy(), atol=2e-3)
    np.testing.assert_array_equal(labels, ref[2].numpy())
    assert labels.dtype == np.int64 and boxes.max() <= 1.0 + 1e-6
    # Another image with another number of boxes: the count is not fixed in the graph.
    for ex in train[1:6]:
        other = ex.image.resize((side, side), Image.BILINEAR)
        xo = torch.from_numpy(np.asarray(other, np.float32) / 255.0).permute(2, 0, 1)[None].contiguous()
        with torch.no_grad():
            expected = module(xo)
        got = session.run(None, {"images": xo.numpy()})
        assert len(got[1]) == len(expected[1])
    # An image with nothing on it: no boxes, and no empty batch inside the model.
    blank = np.zeros((1, 3, side, side), np.float32)
    out = session.run(None, {"images": blank})
    assert out[0].shape[1] == 4 and len(out[0]) == len(out[1]) == len(out[2])
