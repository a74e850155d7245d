"""EfficientNet-Lite built from the offline checkpoints: structure, TensorFlow SAME padding, input scaling."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from openrek.training.backbones import build_backbone
from openrek.training.efficientnet_lite import LITE_MEAN, LITE_STD, MBConv, Renormalize
from openrek.training.features import PooledFeatures
from openrek.training.model_file import IMAGENET_MEAN, IMAGENET_STD


def _tf_same(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """TensorFlow's SAME padding, by its definition: output ceil(n / s), the extra pixel after."""
    k, s = conv.kernel_size[0], conv.stride[0]
    n = x.shape[-1]
    total = max((math.ceil(n / s) - 1) * s + k - n, 0)
    x = F.pad(x, [total // 2, total - total // 2, total // 2, total - total // 2])
    return F.conv2d(x, conv.weight, None, conv.stride, 0, 1, conv.groups)


@pytest.mark.parametrize("variant,blocks,last", [(0, 16, 320), (2, 21, 352)])
def test_each_variant_loads_offline_with_its_own_block_list(variant: int, blocks: int, last: int) -> None:
    bb = build_backbone(f"efficientnet_lite{variant}")
    assert bb.name == f"efficientnet_lite{variant}"
    assert isinstance(bb.features[0], Renormalize)
    assert sum(isinstance(m, MBConv) for m in bb.features) == blocks
    x = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        y = x
        for i, child in enumerate(bb.features.eval()):
            y = child(y)
            assert y.shape[1] == bb.channels[i]
    assert y.shape == (1, 1280, 3, 3)  # output stride 32
    assert [bb.channels[i] for i in bb.taps][-2:] == [last, 1280]
    assert float(bb.features[1][1].weight.detach().abs().sum()) > 1.0  # pretrained stem, not an init pattern


def test_strided_convolutions_pad_as_tensorflow_same_does() -> None:
    bb = build_backbone("efficientnet_lite0")
    pairs = [(a, b) for m in bb.features.modules() if isinstance(m, nn.Sequential)
             for a, b in zip(m, list(m)[1:], strict=False)
             if isinstance(b, nn.Conv2d) and b.stride[0] == 2]
    assert len(pairs) == 5  # the stem and the first block of stages 2, 3, 4 and 6
    for pad, conv in pairs:
        assert isinstance(pad, nn.ZeroPad2d)
        for side in (32, 64, 224):
            x = torch.randn(1, conv.in_channels, side, side)
            with torch.no_grad():
                ours = conv(pad(x))
                assert torch.allclose(ours, _tf_same(x, conv), atol=1e-5)
                assert ours.shape[-1] == side // 2


def test_imagenet_normalised_input_reaches_the_network_as_lite_scaling() -> None:
    pixels = torch.rand(2, 3, 8, 8)
    mean = torch.tensor(IMAGENET_MEAN).reshape(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).reshape(1, 3, 1, 1)
    out = Renormalize()((pixels - mean) / std)
    assert torch.allclose(out, (pixels - LITE_MEAN) / LITE_STD, atol=1e-5)


def test_folded_pooled_features_equal_the_unfolded_network() -> None:
    bb = build_backbone("efficientnet_lite2")
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ref = []
        y = x
        for i, child in enumerate(bb.features.eval()):
            y = child(y)
            if i in bb.taps:
                ref.append(y.mean(dim=(2, 3)))
        folded = PooledFeatures(build_backbone("efficientnet_lite2")).eval()(x)
    assert folded.shape == (2, 120 + 208 + 352 + 1280) == (2, sum(bb.channels[i] for i in bb.taps))
    assert torch.allclose(folded, torch.cat(ref, dim=1), atol=1e-3, rtol=1e-3)
