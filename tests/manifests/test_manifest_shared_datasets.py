"""Real public datasets from ../shared/datasets, turned into Ground Truth manifests in a temporary store."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from openrek.manifests import load_datasets, load_rgb_image
from openrek.store.objects import DirectoryObjectStore

from .conftest import IMAGES, MANIFESTS, cls_line, det_line

SHARED = Path(os.environ.get("OPENREK_SHARED_DATASETS") or Path(__file__).resolve().parents[3] / "shared" / "datasets")


def dataset(name: str) -> list[dict[str, Any]]:
    folder = SHARED / name
    if not (folder / "labels.jsonl").is_file():
        pytest.skip(f"shared dataset {name!r} not found at {folder} (set OPENREK_SHARED_DATASETS to its parent)")
    return [json.loads(line) for line in (folder / "labels.jsonl").read_text().splitlines() if line.strip()]


def upload(store: DirectoryObjectStore, name: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        store.put_object(IMAGES, f"{name}/{row['image']}", (SHARED / name / row["image"]).read_bytes())


def put_manifest(store: DirectoryObjectStore, key: str, lines: list[dict[str, Any]]) -> tuple[str, str]:
    store.put_object(MANIFESTS, key, "".join(json.dumps(x) + "\n" for x in lines).encode())
    return (MANIFESTS, key)


def test_raccoon_detection_with_its_own_split(store: DirectoryObjectStore) -> None:
    rows = dataset("raccoon")
    upload(store, "raccoon", rows)

    def line(row: dict[str, Any]) -> dict[str, Any]:
        boxes = [(b["label"], b["left"], b["top"], b["width"], b["height"]) for b in row["boxes"]]
        return det_line(f"raccoon/{row['image']}", boxes, (row["width"], row["height"]))

    train = put_manifest(store, "raccoon/train.manifest", [line(r) for r in rows if r["split"] == "train"])
    test = put_manifest(store, "raccoon/test.manifest", [line(r) for r in rows if r["split"] == "test"])
    prepared = load_datasets(store, [train], [test], autocreate=False)
    assert prepared.use_case == "OBJECT_LOCALIZATION" and prepared.labels == ["raccoon"]
    assert (len(prepared.train), len(prepared.test)) == (160, 40)
    assert prepared.training.invalid_json_lines == prepared.testing.invalid_json_lines == 0
    assert sum(len(r.boxes) for r in prepared.train + prepared.test) == sum(len(r["boxes"]) for r in rows)
    grey = [line.record for line in prepared.training.lines + prepared.testing.lines
            if line.image is not None and line.image.mode == "L" and line.record is not None]
    assert len(grey) == 3  # the set's known greyscale JPEGs
    for record in grey:
        img = load_rgb_image(store, record)
        assert img.mode == "RGB" and img.size == (record.width, record.height)


def test_flowers_classification_with_autocreate(store: DirectoryObjectStore) -> None:
    rows = dataset("flowers_small")
    upload(store, "flowers_small", rows)
    ref = put_manifest(store, "flowers/train.manifest",
                       [cls_line(f"flowers_small/{r['image']}", r["labels"][0]) for r in rows])
    prepared = load_datasets(store, [ref], [], autocreate=True, seed=0)
    assert len(prepared.labels) == 5 and prepared.use_case == "IMAGE_LEVEL_LABELS"
    assert Counter(r.labels[0] for r in prepared.test) == {label: 8 for label in prepared.labels}
    assert len(prepared.train) == 160


def test_logos_palette_pngs(store: DirectoryObjectStore) -> None:
    rows = dataset("aws_a2i_logos")
    upload(store, "aws_a2i_logos", rows)
    ref = put_manifest(store, "logos/train.manifest",
                       [cls_line(f"aws_a2i_logos/{r['image']}", r["labels"][0]) for r in rows])
    prepared = load_datasets(store, [ref], [], autocreate=True)
    assert prepared.training.invalid_json_lines == 0 and len(prepared.train) + len(prepared.test) == len(rows)
    modes = {line.image.mode for line in prepared.training.lines + prepared.testing.lines if line.image}
    assert "P" in modes
    for record in prepared.train + prepared.test:
        assert load_rgb_image(store, record).mode == "RGB"
