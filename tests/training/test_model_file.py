"""Serving runs exported models with onnxruntime alone: the serving path never imports torch."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import torch
from PIL import Image
from torch import nn

from openrek.training.export import export_image_level
from openrek.training.model_file import IMAGENET_MEAN, IMAGENET_STD, model_description

SERVE = """
import json, sys
from pathlib import Path
from openrek.training.inference import Predictor
import openrek.serving.local, openrek.server
folder = Path(sys.argv[1])
predictor = Predictor.from_bytes(json.loads((folder / "model.json").read_text()), (folder / "model.onnx").read_bytes())
predictor.warm_up()
found = predictor.predict((folder / "image.png").read_bytes(), min_confidence=0)
print(json.dumps({"found": found, "loaded": sorted(m for m in ("torch", "torchvision") if m in sys.modules)}))
"""


class _Mean(nn.Module):
    """A two-label image-level model: softmax of (mean red, mean blue)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x.mean(dim=(2, 3))[:, [0, 2]] * 4, dim=1)


def test_a_model_is_served_without_importing_torch(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(export_image_level(_Mean(), 32))
    desc = model_description(task="classification", labels=["red", "blue"], thresholds={}, image_size=32,
                             normalized_input=True)
    (tmp_path / "model.json").write_text(json.dumps(desc))
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (250, 10, 10)).save(buf, "PNG")
    (tmp_path / "image.png").write_bytes(buf.getvalue())
    out = subprocess.run([sys.executable, "-c", SERVE, str(tmp_path)], capture_output=True, text=True,
                         timeout=120, check=True)
    answer = json.loads(out.stdout)
    assert answer["loaded"] == [], out.stderr
    assert [d["Name"] for d in answer["found"]][0] == "red"


def test_the_normalisation_is_one_constant_for_training_and_serving() -> None:
    from openrek.training import backbones

    assert backbones.IMAGENET_MEAN is IMAGENET_MEAN and backbones.IMAGENET_STD is IMAGENET_STD
    described = model_description(task="classification", labels=["a"], thresholds={}, image_size=224,
                                  normalized_input=True)
    assert described["input"]["mean"] == list(IMAGENET_MEAN) and described["input"]["std"] == list(IMAGENET_STD)
