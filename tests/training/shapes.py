"""Generated images for training tests: coloured shapes on noisy backgrounds, and manifests for them."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from openrek.manifests.types import Box
from openrek.store.objects import ObjectStore
from openrek.training.data import Example

COLOURS = {"red": (220, 40, 40), "green": (40, 200, 60), "blue": (40, 70, 220)}


def _background(rng: np.random.Generator, size: int) -> Image.Image:
    base = rng.integers(90, 170, size=3)
    noise = rng.normal(0, 18, size=(size, size, 3))
    arr = np.clip(base + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


def shape_image(rng: np.random.Generator, label: str, size: int = 80) -> Image.Image:
    """One shape whose colour and form name the label: red circle, green square, blue triangle."""
    img = _background(rng, size)
    d = ImageDraw.Draw(img)
    s = int(rng.integers(size // 3, size // 2))
    x = int(rng.integers(2, size - s - 2))
    y = int(rng.integers(2, size - s - 2))
    colour = COLOURS[label]
    if label == "red":
        d.ellipse([x, y, x + s, y + s], fill=colour)
    elif label == "green":
        d.rectangle([x, y, x + s, y + s], fill=colour)
    else:
        d.polygon([(x, y + s), (x + s, y + s), (x + s // 2, y)], fill=colour)
    return img


def classification_examples(
    n_per_label: int, seed: int, labels: Sequence[str] = ("red", "green", "blue"), size: int = 80
) -> list[Example]:
    rng = np.random.default_rng(seed)
    return [Example(shape_image(rng, lab, size), [lab]) for _ in range(n_per_label) for lab in labels]


def multilabel_examples(n: int, seed: int, size: int = 96) -> list[Example]:
    """Each image holds a random non-empty subset of {red circle, green square, blue triangle}."""
    rng = np.random.default_rng(seed)
    out = []
    names = list(COLOURS)
    for _ in range(n):
        present = [lab for lab in names if rng.random() < 0.5] or [names[int(rng.integers(3))]]
        img = _background(rng, size)
        d = ImageDraw.Draw(img)
        for k, lab in enumerate(present):
            s = size // 3
            x = int(rng.integers(0, size - s))
            y = int(k * size // 3)
            c = COLOURS[lab]
            if lab == "red":
                d.ellipse([x, y, x + s, y + s], fill=c)
            elif lab == "green":
                d.rectangle([x, y, x + s, y + s], fill=c)
            else:
                d.polygon([(x, y + s), (x + s, y + s), (x + s // 2, y)], fill=c)
        out.append(Example(img, present))
    return out


def _rectangle_examples(n: int, seed: int, size: int, two_classes: bool) -> list[Example]:
    """1–2 non-overlapping rectangles per image, 30–60 px, on noise: red "box"es, or "red"/"blue" ones."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        img = _background(rng, size)
        d = ImageDraw.Draw(img)
        boxes: list[Box] = []
        for _k in range(int(rng.integers(1, 3))):
            w, h = int(rng.integers(30, 60)), int(rng.integers(30, 60))
            x, y = int(rng.integers(0, size - w)), int(rng.integers(0, size - h))
            if any(x < b.left + b.width and b.left < x + w and y < b.top + b.height and b.top < y + h
                   for b in boxes):
                continue
            if two_classes:
                label = "red" if rng.random() < 0.5 else "blue"
                colour = COLOURS[label]
            else:
                label, colour = "box", (230, 30, 30)
            d.rectangle([x, y, x + w - 1, y + h - 1], fill=colour)
            boxes.append(Box(label, x, y, w, h))
        out.append(Example(img, sorted({b.label for b in boxes}) if two_classes else ["box"], boxes))
    return out


def detection_examples(n: int, seed: int, size: int = 128) -> list[Example]:
    """1–2 solid red rectangles ("box") per image, 30–60 px, on noise."""
    return _rectangle_examples(n, seed, size, two_classes=False)


def two_class_detection_examples(n: int, seed: int, size: int = 128) -> list[Example]:
    """1–2 non-overlapping rectangles per image, 30–60 px, each "red" or "blue" (the colour names it)."""
    return _rectangle_examples(n, seed, size, two_classes=True)


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92)
    return buf.getvalue()


def write_manifest(
    objects: ObjectStore,
    bucket: str,
    key: str,
    examples: Sequence[Example],
    prefix: str,
    detection: bool = False,
    multilabel_transform: bool = False,
) -> None:
    """Upload the images and a Ground Truth manifest describing them.

    Image-level labels are `shape`, `shape-1`, … classification pairs, or with `multilabel_transform` the
    `tags0`, `tags1`, … multi-label pairs AWS's Ground Truth transform writes.
    """
    lines = []
    labels = sorted({lab for ex in examples for lab in ex.labels})
    for i, ex in enumerate(examples):
        img_key = f"{prefix}/img-{i:04d}.png"
        objects.put_object(bucket, img_key, png_bytes(ex.image), content_type="image/png")
        line: dict = {"source-ref": f"s3://{bucket}/{img_key}"}
        if detection:
            w, h = ex.image.size
            line["bounding-box"] = {
                "image_size": [{"width": w, "height": h, "depth": 3}],
                "annotations": [
                    {
                        "class_id": labels.index(b.label),
                        "left": b.left,
                        "top": b.top,
                        "width": b.width,
                        "height": b.height,
                    }
                    for b in ex.boxes
                ],
            }
            line["bounding-box-metadata"] = {
                "objects": [{"confidence": 1} for _ in ex.boxes],
                "class-map": {str(j): name for j, name in enumerate(labels)},
                "type": "groundtruth/object-detection",
                "human-annotated": "yes",
                "creation-date": "2024-01-01T00:00:00",
                "job-name": "labeling-job/boxes",
            }
        else:
            for k, lab in enumerate(ex.labels):
                if multilabel_transform:
                    attr, value, type_ = f"tags{k}", k, "groundtruth/image-classification-multilabel"
                else:
                    attr, value, type_ = ("shape" if k == 0 else f"shape-{k}"), 1, "groundtruth/image-classification"
                line[attr] = value
                line[f"{attr}-metadata"] = {
                    "confidence": 1,
                    "class-name": lab,
                    "human-annotated": "yes",
                    "creation-date": "2024-01-01T00:00:00",
                    "type": type_,
                    "job-name": "labeling-job/shapes",
                }
        lines.append(json.dumps(line))
    objects.put_object(bucket, key, ("\n".join(lines) + "\n").encode(), content_type="application/json")
