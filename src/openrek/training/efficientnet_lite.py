"""EfficientNet-Lite as an `nn.Sequential`, built from a checkpoint's own tensors.

EfficientNet-Lite (Tan & Le; the TensorFlow "lite" variants) is EfficientNet without squeeze-and-
excitation, with ReLU6 and a fixed 32-channel stem and 1280-channel head. The block list (expansion,
kernel, output channels) is read from the checkpoint, so one builder serves Lite0, Lite1 and Lite2; only
the strides come from the architecture: seven stages, stride 2 at the start of stages 2, 3, 4 and 6.

TensorFlow's SAME padding is reproduced for inputs whose sides are multiples of 32 (every input here):
a stride-2 k×k convolution pads k//2 - 1 before and k//2 after. The network expects pixels scaled as
(p - 127) / 128; the first child converts from the ImageNet normalisation every other backbone takes.
"""

from __future__ import annotations

import torch
from torch import nn

from openrek.training.model_file import IMAGENET_MEAN, IMAGENET_STD

STAGE_STRIDES = (1, 2, 2, 2, 1, 2, 1)
BN_EPS = 1e-3
LITE_MEAN = 127.0 / 255.0
LITE_STD = 128.0 / 255.0


class Renormalize(nn.Module):
    """ImageNet-normalised input → the (p - 127) / 128 scaling EfficientNet-Lite was trained on."""

    def __init__(self) -> None:
        super().__init__()
        mean = torch.tensor(IMAGENET_MEAN).reshape(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD).reshape(1, 3, 1, 1)
        self.register_buffer("scale", std / LITE_STD)
        self.register_buffer("shift", (mean - LITE_MEAN) / LITE_STD)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.shift


def _conv_bn(cin: int, cout: int, k: int, stride: int, groups: int, act: bool) -> list[nn.Module]:
    layers: list[nn.Module] = []
    if stride == 1:
        pad = k // 2
    else:
        layers.append(nn.ZeroPad2d((k // 2 - 1, k // 2, k // 2 - 1, k // 2)))
        pad = 0
    layers.append(nn.Conv2d(cin, cout, k, stride, pad, groups=groups, bias=False))
    layers.append(nn.BatchNorm2d(cout, eps=BN_EPS))
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return layers


class MBConv(nn.Module):
    """Inverted residual: optional 1×1 expansion, depthwise k×k, linear 1×1 projection, skip if shapes allow."""

    def __init__(self, cin: int, mid: int, cout: int, k: int, stride: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        if mid != cin:
            layers += _conv_bn(cin, mid, 1, 1, 1, act=True)
        layers += _conv_bn(mid, mid, k, stride, mid, act=True)
        layers += _conv_bn(mid, cout, 1, 1, 1, act=False)
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


def _block_shapes(state: dict[str, torch.Tensor]) -> list[tuple[int, int, int, int]]:
    """(in, expanded, kernel, out) per block, in order, from the checkpoint's tensors."""
    shapes: list[tuple[int, int, int, int]] = []
    i = 0
    while f"_blocks.{i}._project_conv.weight" in state:
        depthwise = state[f"_blocks.{i}._depthwise_conv.weight"]
        project = state[f"_blocks.{i}._project_conv.weight"]
        expand = state.get(f"_blocks.{i}._expand_conv.weight")
        mid = int(depthwise.shape[0])
        cin = int(expand.shape[1]) if expand is not None else mid
        shapes.append((cin, mid, int(depthwise.shape[-1]), int(project.shape[0])))
        i += 1
    return shapes


def _checkpoint_order(state: dict[str, torch.Tensor]) -> list[str]:
    """The checkpoint's conv/BN tensor names in the order our modules declare them."""

    def bn(prefix: str) -> list[str]:
        return [f"{prefix}.{p}" for p in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")]

    names = ["_conv_stem.weight", *bn("_bn0")]
    i = 0
    while f"_blocks.{i}._project_conv.weight" in state:
        b = f"_blocks.{i}"
        if f"{b}._expand_conv.weight" in state:
            names += [f"{b}._expand_conv.weight", *bn(f"{b}._bn0")]
        names += [f"{b}._depthwise_conv.weight", *bn(f"{b}._bn1")]
        names += [f"{b}._project_conv.weight", *bn(f"{b}._bn2")]
        i += 1
    return names + ["_conv_head.weight", *bn("_bn1")]


def efficientnet_lite_features(state: dict[str, torch.Tensor]) -> tuple[nn.Sequential, list[int], list[int]]:
    """Build and load the feature extractor; returns (features, channels per child, stage-end children).

    Children: [Renormalize, stem, block 0 … block n-1, head]; the stage-end list names the children
    that close each of the seven stages (the last is the final block), for multi-layer taps.
    """
    shapes = _block_shapes(state)
    stem_out = int(state["_conv_stem.weight"].shape[0])
    head_out = int(state["_conv_head.weight"].shape[0])
    children: list[nn.Module] = [Renormalize(), nn.Sequential(*_conv_bn(3, stem_out, 3, 2, 1, act=True))]
    channels = [3, stem_out]
    stage, stage_ends, prev_out = -1, [], None
    for cin, mid, k, cout in shapes:
        if cout != prev_out:
            stage += 1
            if stage >= len(STAGE_STRIDES):
                raise ValueError(f"checkpoint has more than {len(STAGE_STRIDES)} stages")
            stride = STAGE_STRIDES[stage]
            if prev_out is not None:
                stage_ends.append(len(children) - 1)
        else:
            stride = 1
        children.append(MBConv(cin, mid, cout, k, stride))
        channels.append(cout)
        prev_out = cout
    stage_ends.append(len(children) - 1)
    if len(stage_ends) != len(STAGE_STRIDES):
        raise ValueError(f"checkpoint has {len(stage_ends)} stages, expected {len(STAGE_STRIDES)}")
    children.append(nn.Sequential(*_conv_bn(shapes[-1][3], head_out, 1, 1, 1, act=True)))
    channels.append(head_out)
    features = nn.Sequential(*children)
    ours = features.state_dict()
    constants = {k: v for k, v in ours.items() if k.startswith("0.")}  # Renormalize's own buffers
    own = [k for k in ours if k not in constants]
    theirs = _checkpoint_order(state)
    if len(own) != len(theirs):
        raise ValueError(f"checkpoint has {len(theirs)} feature tensors, the network {len(own)}")
    features.load_state_dict({**constants, **{mine: state[name] for mine, name in zip(own, theirs, strict=True)}},
                             strict=True)
    return features, channels, stage_ends
