"""Serving a trained model: `Predictor.load(objects, artifact)` then `predict(image_bytes, …)`.

Returns DetectCustomLabels' `CustomLabels` entries. The onnxruntime session lives in memory and its
threads do not spin, so an idle model uses no CPU.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from openrek import imaging
from openrek.store.objects import ObjectStore
from openrek.training.model_file import MODEL_FORMAT, onnx_session
from openrek.training.request import S3Ref
from openrek.training.tasks import family_for


class ModelArtifactError(RuntimeError):
    """The artifact in the object store is missing or not an openrek model."""


def decode_image(image_bytes: bytes, size: tuple[int, int] | None = None) -> Image.Image:
    """PNG/JPEG bytes as oriented RGB (transparency over white); `imaging.ImageError` otherwise. `size`
    (width, height) lets a large JPEG decode at reduced size, still at least twice that."""
    target = (2 * size[0], 2 * size[1]) if size else None
    return imaging.decode_rgb(image_bytes, target=target)


@dataclass
class ModelSpec:
    """What `model.json` says: task, labels, thresholds and the input contract."""

    task: str
    labels: list[str]
    thresholds: dict[str, float]
    size: tuple[int, int]
    mean: np.ndarray
    std: np.ndarray
    scale: float
    raw: dict[str, Any]

    @classmethod
    def from_json(cls, desc: dict[str, Any]) -> ModelSpec:
        if desc.get("format") != MODEL_FORMAT:
            raise ModelArtifactError(f"not an openrek model description (format {desc.get('format')!r})")
        inp = desc["input"]
        h, w = inp["size"]
        return cls(
            task=desc["task"],
            labels=list(desc["labels"]),
            thresholds={k: float(v) for k, v in desc.get("thresholds", {}).items()},
            size=(int(h), int(w)),
            mean=np.asarray(inp["mean"], np.float32),
            std=np.asarray(inp["std"], np.float32),
            scale=float(inp.get("scale", 1 / 255)),
            raw=desc,
        )


def _artifact_keys(artifact: S3Ref) -> tuple[str, str | None]:
    """(model.json key, model.onnx key or None to read from the json) for a ref to either file or a prefix."""
    name = artifact.name
    if name.endswith(".json"):
        return name, None
    if name.endswith(".onnx"):
        return name[: -len(".onnx")] + ".json" if name.endswith("model.onnx") else name + ".json", name
    base = name if name.endswith("/") or not name else name + "/"
    return base + "model.json", None


class Predictor:
    """A loaded model: an onnxruntime session and its description."""

    def __init__(self, spec: ModelSpec, session: Any) -> None:
        self.spec = spec
        self.session = session
        self._lock = threading.Lock()

    @classmethod
    def load(cls, objects: ObjectStore, artifact: S3Ref, threads: int | None = None) -> Predictor:
        """Read `model.json` and `model.onnx` (artifact: either file, or their common prefix)."""
        json_key, onnx_key = _artifact_keys(artifact)
        try:
            desc = json.loads(objects.get_bytes(artifact.bucket, json_key))
        except Exception as exc:
            raise ModelArtifactError(f"cannot read s3://{artifact.bucket}/{json_key}: {exc}") from exc
        spec = ModelSpec.from_json(desc)
        if onnx_key is None:
            folder = json_key.rsplit("/", 1)[0] + "/" if "/" in json_key else ""
            onnx_key = folder + desc.get("onnx", "model.onnx")
        try:
            onnx_bytes = objects.get_bytes(artifact.bucket, onnx_key)
        except Exception as exc:
            raise ModelArtifactError(f"cannot read s3://{artifact.bucket}/{onnx_key}: {exc}") from exc
        return cls(spec, onnx_session(onnx_bytes, threads))

    @classmethod
    def from_bytes(
        cls, description: dict[str, Any], onnx_bytes: bytes, threads: int | None = None
    ) -> Predictor:
        return cls(ModelSpec.from_json(description), onnx_session(onnx_bytes, threads))

    def warm_up(self) -> None:
        """Run the model twice on a blank image. onnxruntime plans its buffers on a session's first run
        and takes them on the second: warmed, a started model holds that memory (about 20 MiB for the
        two-backbone classifier) before its first request instead of growing under it."""
        h, w = self.spec.size
        blank = np.zeros((1, 3, h, w), dtype=np.float32)
        with self._lock:
            for _ in range(2):
                self.session.run(None, {"images": blank})

    def preprocess(self, image: Image.Image) -> np.ndarray:
        """Oriented RGB image → the model's (1, 3, H, W) float32 input."""
        h, w = self.spec.size
        if image.size != (w, h):
            image = image.resize((w, h), Image.BILINEAR)
        arr = np.asarray(image, dtype=np.float32) * self.spec.scale
        arr = (arr - self.spec.mean) / self.spec.std
        return np.ascontiguousarray(arr.transpose(2, 0, 1)[None], dtype=np.float32)

    def raw_outputs(self, image: Image.Image) -> list[np.ndarray]:
        x = self.preprocess(image)
        with self._lock:
            return self.session.run(None, {"images": x})

    def predict(
        self, image_bytes: bytes, min_confidence: float | None = None, max_results: int | None = None
    ) -> list[dict[str, Any]]:
        """DetectCustomLabels' CustomLabels, most confident first.

        `min_confidence` (0–100): None uses each label's assumed threshold; 0 returns everything.
        """
        height, width = self.spec.size
        image = decode_image(image_bytes, (width, height))
        outputs = self.raw_outputs(image)
        labels = self.spec.labels

        def passes(label: str, score: float) -> bool:
            if min_confidence is None:
                return score >= self.spec.thresholds.get(label, 0.5)
            return score * 100.0 >= float(min_confidence)

        found = family_for(self.spec.task).decode(outputs, labels, passes)
        found.sort(key=lambda d: -d["Confidence"])
        if max_results is not None:
            found = found[: max(0, int(max_results))]
        return found
