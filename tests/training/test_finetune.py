"""The fine-tuning rung: planned length, which blocks learn, the clock as a cap, and its place in the ladder."""

from __future__ import annotations

import numpy as np
import torch

from openrek.training.backbones import build_backbone
from openrek.training.classifier import ClassifierConfig, ImageLevelTrainer, LinearHead
from openrek.training.data import Budget
from openrek.training.features import PooledFeatures
from openrek.training.finetune import FineTuneConfig, fine_tune, planned_steps, train_size

from .shapes import classification_examples

LABELS = ["blue", "green", "red"]


def _probe(dim: int = 1280) -> tuple[PooledFeatures, LinearHead]:
    features = PooledFeatures(build_backbone("mobilenet_v2"), taps=[18])
    head = LinearHead(torch.zeros(dim), torch.ones(dim), torch.zeros(3, dim), torch.zeros(3))
    return features, head


def test_the_planned_length_follows_the_data() -> None:
    cfg = FineTuneConfig(epochs=12, batch_size=32, most_steps=800)
    assert planned_steps(160, cfg) == 60  # 12 passes of 5 batches
    assert planned_steps(161, cfg) == 61
    assert planned_steps(1, cfg) == 1
    assert planned_steps(100_000, cfg) == 800
    assert train_size(224, FineTuneConfig()) == 192  # crops a little smaller than the input (FixRes)


def test_only_the_last_blocks_learn_and_batchnorm_stays_frozen() -> None:
    examples = classification_examples(4, seed=21)
    y = np.array([LABELS.index(ex.labels[0]) for ex in examples])
    features, head = _probe()
    before = {k: v.clone() for k, v in features.state_dict().items()}
    cfg = FineTuneConfig(epochs=2, batch_size=4, trainable_blocks=2)
    run = fine_tune(features, head, [ex.image for ex in examples], y, False, 64, cfg, 60, torch.device("cpu"))
    assert run.steps == run.planned_steps == 6 and not run.budget_hit
    after = features.state_dict()
    changed = {k.split(".")[1] for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"17", "18"}, changed  # blocks 0..16 keep their ImageNet weights
    # Folded BatchNorm: nothing in the tuned features keeps batch statistics.
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in features.modules())
    assert not any(p.requires_grad for p in features.parameters())


def test_the_clock_only_caps_it_and_says_so() -> None:
    examples = classification_examples(2, seed=22)
    y = np.array([LABELS.index(ex.labels[0]) for ex in examples])
    features, head = _probe()
    run = fine_tune(features, head, [ex.image for ex in examples], y, False, 64, FineTuneConfig(epochs=50),
                    0.0, torch.device("cpu"))
    assert run.budget_hit and run.steps == 0 < run.planned_steps


def test_the_ladder_judges_the_tuned_candidates_on_fold_zero() -> None:
    train = classification_examples(10, seed=23)
    cfg = ClassifierConfig(image_size=64, backbones=("mobilenet_v2",),
                           fine_tune=FineTuneConfig(epochs=2, longer_epochs=(4,)))
    model = ImageLevelTrainer(LABELS, False, cfg).fit(train, Budget(120))
    tuned = model.info["fine_tune"]
    assert set(tuned["validation"]) == {"frozen", "fine-tune", "blend"}
    assert tuned["validation_images"] == 6  # fold 0 of 5 over 30 images, stratified
    assert tuned["chosen"] in ("frozen", "fine-tune", "blend")
    # The longer run is tried only after the shorter one won, and the length kept is one that won.
    lengths = tuned["lengths"]
    assert lengths[0]["epochs"] == 2 and [r["epochs"] for r in lengths] in ([2], [2, 4])
    assert len(lengths) == 1 or lengths[0]["won"]
    if tuned["chosen"] == "frozen":
        assert not lengths[0]["won"] and "epochs" not in tuned
    else:
        won = [r["epochs"] for r in lengths if r["won"]]
        assert tuned["epochs"] == won[-1]
        assert tuned["final_steps"] == planned_steps(30, FineTuneConfig(epochs=won[-1]))
    expected = {"frozen": ("probe", "ensemble"), "fine-tune": ("fine-tune",),
                "blend": ("probe+fine-tune", "ensemble+fine-tune")}[tuned["chosen"]]
    assert model.info["candidate"] in expected
    members = len(model.module.heads)
    assert members == (2 if tuned["chosen"] == "blend" else 1)


def test_a_tuned_model_exports_like_any_other() -> None:
    from openrek.training.classifier import ImageLevelModel
    from openrek.training.export import export_image_level, max_difference

    examples = classification_examples(3, seed=24)
    y = np.array([LABELS.index(ex.labels[0]) for ex in examples])
    features, head = _probe()
    run = fine_tune(features, head, [ex.image for ex in examples], y, False, 64, FineTuneConfig(epochs=1, batch_size=3),
                    60, torch.device("cpu"))
    model = ImageLevelModel([(run.features, run.head)], multi_label=False, tta=True).eval()
    onnx_bytes = export_image_level(model, 64)
    assert max_difference(model, onnx_bytes, torch.randn(2, 3, 64, 64)) < 1e-4
