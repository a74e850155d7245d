"""Fixtures for the manifest tests: a real DirectoryObjectStore on tmp_path and builders for images and lines."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from openrek.manifests import ManifestRef
from openrek.store.objects import DirectoryObjectStore

IMAGES = "images-bucket"
MANIFESTS = "manifests-bucket"
OUTPUT = "output-bucket"


def image_bytes(size: tuple[int, int] = (128, 96), fmt: str = "JPEG", mode: str = "RGB",
                color: Any = (200, 30, 30), seed: int | None = None, **save: Any) -> bytes:
    """A real encoded image; `seed` gives random pixels (so images differ), else a flat colour."""
    if seed is not None:
        rng = np.random.default_rng(seed)
        arr = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
        img = Image.fromarray(arr, "RGB")
        if mode != "RGB":
            img = img.convert(mode)
    else:
        img = Image.new(mode, size, color)
    buf = io.BytesIO()
    img.save(buf, fmt, **save)
    return buf.getvalue()


def cls_line(key: str, label: str, attr: str = "label", bucket: str = IMAGES) -> dict[str, Any]:
    return {"source-ref": f"s3://{bucket}/{key}", attr: 0,
            f"{attr}-metadata": {"confidence": 1, "class-name": label, "human-annotated": "yes",
                                 "creation-date": "2024-01-01T00:00:00", "type": "groundtruth/image-classification",
                                 "job-name": "labeling-job/label"}}


def det_line(key: str, boxes: list[tuple[str, float, float, float, float]], size: tuple[int, int] | None,
             attr: str = "bounding-box", bucket: str = IMAGES) -> dict[str, Any]:
    names = sorted({b[0] for b in boxes}) or ["thing"]
    class_map = {str(i): n for i, n in enumerate(names)}
    ids = {n: i for i, n in enumerate(names)}
    value: dict[str, Any] = {"annotations": [
        {"class_id": ids[lb], "left": left, "top": top, "width": w, "height": h} for lb, left, top, w, h in boxes]}
    if size is not None:
        value["image_size"] = [{"width": size[0], "height": size[1], "depth": 3}]
    return {"source-ref": f"s3://{bucket}/{key}", attr: value,
            f"{attr}-metadata": {"objects": [{"confidence": 1} for _ in boxes], "class-map": class_map,
                                 "type": "groundtruth/object-detection", "human-annotated": "yes",
                                 "creation-date": "2024-01-01T00:00:00", "job-name": "labeling-job/bbox"}}


class Factory:
    """Puts images and manifests into the store."""

    def __init__(self, store: DirectoryObjectStore) -> None:
        self.store = store
        self._n = 0

    def image(self, key: str | None = None, data: bytes | None = None, bucket: str = IMAGES, **kw: Any) -> str:
        """Store an image (default: a distinct 128x96 JPEG); returns its key."""
        self._n += 1
        key = key or f"img/{self._n:05d}.jpg"
        if data is None:
            kw.setdefault("seed", self._n)
            data = image_bytes(**kw)
        if not self.store.bucket_exists(bucket):
            self.store.create_bucket(bucket)
        self.store.put_object(bucket, key, data)
        return key

    def manifest(self, lines: list[Any], key: str = "train.manifest") -> ManifestRef:
        """Store a manifest; dict lines are JSON-encoded, str lines written as they are."""
        text = "".join((json.dumps(line) if not isinstance(line, str) else line) + "\n" for line in lines)
        self.store.put_object(MANIFESTS, key, text.encode("utf-8"))
        return ManifestRef(MANIFESTS, key)

    def classification(self, counts: dict[str, int], key: str = "train.manifest") -> ManifestRef:
        """A classification manifest with `counts[label]` distinct images per label."""
        lines = []
        for label, n in counts.items():
            for _ in range(n):
                lines.append(cls_line(self.image(), label))
        return self.manifest(lines, key)


@pytest.fixture
def store(tmp_path: Path) -> DirectoryObjectStore:
    s = DirectoryObjectStore(tmp_path / "s3")
    for bucket in (IMAGES, MANIFESTS, OUTPUT):
        s.create_bucket(bucket)
    return s


@pytest.fixture
def mk(store: DirectoryObjectStore) -> Factory:
    return Factory(store)
