"""ONNX export of trained models (the `model.json` beside them is described in `model_file.py`).

Both exports use the legacy TorchScript-based exporter (`dynamo=False`, opset 17), the one that handles
torchvision's FCOS post-processing. Image-level models take normalised NCHW `images` and return
`scores` (N, L); the detector takes one [0,1] RGB image (1, 3, S, S) and returns `boxes` (x1,y1,x2,y2 as
ratios of the image), `scores` and `labels`.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
import torch
from torch import nn
from torchvision.models.detection import FCOS

from openrek.training.model_file import onnx_session

OPSET = 17


class DetectorForExport(nn.Module):
    """One image in [0,1] → (boxes as ratios, scores, labels), through FCOS's own transform and NMS."""

    def __init__(self, model: FCOS, image_size: int) -> None:
        super().__init__()
        self.model = model
        self.image_size = image_size

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        det = self.model([images[0]])[0]
        return det["boxes"] / float(self.image_size), det["scores"], det["labels"]


def _export(module: nn.Module, example: torch.Tensor, outputs: list[str], dynamic: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    module.eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (example,),
            buf,
            input_names=["images"],
            output_names=outputs,
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,
        )
    return buf.getvalue()


def export_image_level(module: nn.Module, image_size: int) -> bytes:
    """ONNX bytes of an image-level model: `images` (N,3,S,S) normalised → `scores` (N, L)."""
    example = torch.zeros(1, 3, image_size, image_size)
    return _export(module.cpu(), example, ["scores"], {"images": {0: "batch"}, "scores": {0: "batch"}})


def export_detector(model: nn.Module, image_size: int) -> bytes:
    """ONNX bytes of a detector: `images` (1,3,S,S) in [0,1] → `boxes` (K,4) ratios, `scores`, `labels`.
    `model` is an FCOS (wrapped here) or a module that already returns those three."""
    model = model.cpu().eval()
    wrapper = DetectorForExport(model, image_size) if isinstance(model, FCOS) else model
    example = torch.rand(1, 3, image_size, image_size)
    return _export(
        wrapper,
        example,
        ["boxes", "scores", "labels"],
        {"boxes": {0: "detections"}, "scores": {0: "detections"}, "labels": {0: "detections"}},
    )


def max_difference(module: nn.Module, onnx_bytes: bytes, example: torch.Tensor) -> float:
    """Largest absolute difference between torch and onnxruntime on the first output."""
    with torch.no_grad():
        ref = module.eval()(example)
    ref0 = ref[0] if isinstance(ref, tuple) else ref
    got = onnx_session(onnx_bytes).run(None, {"images": example.numpy()})[0]
    if got.shape != tuple(ref0.shape):
        return float("inf")
    return float(np.abs(got - ref0.numpy()).max()) if got.size else 0.0
