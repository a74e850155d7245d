"""Image-level trainers on generated shapes: classification and multi-label really train."""

from __future__ import annotations

import numpy as np
import torch

from openrek.training.classifier import ClassifierConfig, ImageLevelTrainer, linear_probe_baseline
from openrek.training.data import Budget
from openrek.training.features import images_to_tensor
from openrek.training.metrics import aggregate, image_level_metrics

from .shapes import classification_examples, multilabel_examples

LABELS = ["blue", "green", "red"]


def _truth(examples, labels):  # type: ignore[no-untyped-def]
    t = np.zeros((len(examples), len(labels)), dtype=bool)
    for i, ex in enumerate(examples):
        for lab in ex.labels:
            t[i, labels.index(lab)] = True
    return t


def _scores(model, examples, size: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    with torch.no_grad():
        return model.module(images_to_tensor([ex.image for ex in examples], size)).numpy()


def _untimed(info: object) -> object:
    """The facts less every clock reading (keys ending in "seconds"), however deep."""
    if isinstance(info, dict):
        return {k: _untimed(v) for k, v in info.items() if not k.endswith("seconds")}
    if isinstance(info, list):
        return [_untimed(v) for v in info]
    return info


def test_classification_trains_well_above_chance() -> None:
    train = classification_examples(20, seed=1)
    test = classification_examples(8, seed=2)
    cfg = ClassifierConfig(image_size=64, backbones=("mobilenet_v2", "mobilenet_v2_deepsort"))
    model = ImageLevelTrainer(LABELS, multi_label=False, config=cfg).fit(train, Budget(600))
    scores = _scores(model, test, 64)
    assert scores.shape == (len(test), 3)
    np.testing.assert_allclose(scores.sum(1), 1.0, atol=1e-4)
    truth = _truth(test, LABELS)
    accuracy = float((scores.argmax(1) == truth.argmax(1)).mean())
    assert accuracy >= 0.8, accuracy  # chance is 1/3
    # Chosen by 5-fold cross-validation over the ladder, every rung scored on training images only.
    assert model.info["folds"] == 5
    assert model.info["candidate"] in ("probe", "ensemble", "fine-tune", "probe+fine-tune", "ensemble+fine-tune")
    assert {k.split()[0] for k in model.info["validation"]} == {"probe", "ensemble"}
    expected = {"probe": ["mobilenet_v2"], "ensemble": ["mobilenet_v2", "mobilenet_v2_deepsort"],
                "fine-tune": ["mobilenet_v2"]}.get(model.info["candidate"])
    if expected:
        assert model.info["backbones"] == expected
    assert not model.info["budget_hit"] and model.info["fine_tune"]["chosen"] in ("frozen", "fine-tune", "blend")


def test_training_is_deterministic() -> None:
    train = classification_examples(6, seed=3)
    test = classification_examples(2, seed=4)
    cfg = ClassifierConfig(image_size=64, backbones=("mobilenet_v2",))
    # The budget is only a safety cap: generous here, so a loaded machine cannot change the outcome.
    a = ImageLevelTrainer(LABELS, False, cfg).fit(train, Budget(600))
    b = ImageLevelTrainer(LABELS, False, cfg).fit(train, Budget(600))
    assert _untimed(a.info) == _untimed(b.info)  # the same choices, the same steps; only the clock differs
    np.testing.assert_allclose(_scores(a, test, 64), _scores(b, test, 64), atol=1e-5)


def test_trainers_are_never_given_the_test_set() -> None:
    """Structurally: no fitting entry point has a parameter through which test images could arrive."""
    import inspect

    from openrek.training.detector import DetectorTrainer
    from openrek.training.tasks import family_for

    assert list(inspect.signature(ImageLevelTrainer.fit).parameters) == ["self", "train", "budget"]
    assert list(inspect.signature(DetectorTrainer.fit).parameters) == ["self", "train", "budget"]
    for task in ("classification", "multi_label", "detection"):
        assert list(inspect.signature(family_for(task).fit).parameters) == ["task", "train", "settings"]


def test_multilabel_trains_above_chance_and_beats_nothing() -> None:
    train = multilabel_examples(60, seed=5)
    test = multilabel_examples(24, seed=6)
    cfg = ClassifierConfig(image_size=96, backbones=("mobilenet_v2",))
    model = ImageLevelTrainer(LABELS, multi_label=True, config=cfg).fit(train, Budget(60))
    truth = _truth(test, LABELS)
    scores = _scores(model, test, 96)
    lm = image_level_metrics(scores, truth, LABELS)
    f1 = aggregate(lm)["F1Score"]
    assert f1 >= 0.75, lm
    # Sigmoid outputs: independent per label, not a distribution.
    assert not np.allclose(scores.sum(1), 1.0)


def test_linear_probe_baseline_shape() -> None:
    train = classification_examples(5, seed=7)
    test = classification_examples(2, seed=8)
    scores = linear_probe_baseline(train, test, LABELS, multi_label=False, image_size=64)
    assert scores.shape == (6, 3)


def test_image_level_onnx_export_matches_torch() -> None:
    from openrek.training.export import export_image_level, max_difference

    train = classification_examples(4, seed=9)
    cfg = ClassifierConfig(image_size=64)
    model = ImageLevelTrainer(LABELS, False, cfg).fit(train, Budget(30))
    onnx_bytes = export_image_level(model.module, 64)
    x = torch.randn(3, 3, 64, 64)
    assert max_difference(model.module, onnx_bytes, x) < 1e-4
