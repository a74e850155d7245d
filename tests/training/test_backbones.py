"""The backbone registry and the two offline MobileNetV2 weight sets."""

from __future__ import annotations

import pytest
import torch

from openrek.training.backbones import BackboneUnavailable, available_backbones, build_backbone
from openrek.training.features import PooledFeatures


def test_both_mobilenet_weight_sets_load_offline_and_differ() -> None:
    assert {"mobilenet_v2", "mobilenet_v2_deepsort"} <= set(available_backbones())
    tv = build_backbone("mobilenet_v2")
    ds = build_backbone("mobilenet_v2_deepsort")
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        a = tv.features.eval()(x)
        b = ds.features.eval()(x)
    assert a.shape == b.shape == (1, 1280, 2, 2)
    assert not torch.allclose(a, b)  # two different ImageNet trainings
    w0 = tv.features[0][0].weight.detach()
    assert float(w0.abs().sum()) > 1.0  # pretrained, not a fresh init pattern


def test_pooled_features_concatenate_taps() -> None:
    bb = build_backbone("mobilenet_v2")
    feat = PooledFeatures(bb).eval()
    with torch.no_grad():
        out = feat(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 96 + 160 + 320 + 1280) == (2, feat.dim)


def test_unknown_backbone_is_a_clear_error() -> None:
    with pytest.raises(BackboneUnavailable, match="unknown backbone"):
        build_backbone("no-such-net")
