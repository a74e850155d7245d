"""Generated images and Ground Truth manifests for tests (real JPEG/PNG bytes via Pillow)."""

from __future__ import annotations

import io
import json
import random

from PIL import Image, ImageDraw

COLOURS = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (40, 70, 220), "yellow": (230, 210, 40)}


def shape_image(label: str, seed: int, size: int = 96, fmt: str = "JPEG") -> bytes:
    """An image whose class is visible: a filled shape of the label's colour on a noisy background."""
    rnd = random.Random(seed)
    bg = tuple(rnd.randint(90, 160) for _ in range(3))
    img = Image.new("RGB", (size, size), bg)
    draw = ImageDraw.Draw(img)
    w = rnd.randint(size // 3, size // 2)
    x, y = rnd.randint(0, size - w), rnd.randint(0, size - w)
    draw.ellipse([x, y, x + w, y + w], fill=COLOURS.get(label, (0, 0, 0)))
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def classification_line(bucket: str, key: str, label: str, attr: str = "label") -> str:
    return json.dumps({
        "source-ref": f"s3://{bucket}/{key}",
        attr: 1,
        f"{attr}-metadata": {
            "confidence": 1,
            "class-name": label,
            "human-annotated": "yes",
            "creation-date": "2026-11-27T00:00:00.000",
            "type": "groundtruth/image-classification",
            "job-name": "labeling-job/test",
        },
    })


def upload_classification_set(s3, bucket: str, prefix: str, labels: list[str], per_label: int,  # type: ignore[no-untyped-def]
                              size: int = 96) -> str:
    """Uploads images and a manifest; returns the manifest's key."""
    lines = []
    for label in labels:
        for i in range(per_label):
            key = f"{prefix}images/{label}-{i}.jpg"
            s3.put_object(Bucket=bucket, Key=key, Body=shape_image(label, seed=hash((label, i)) % 10_000, size=size))
            lines.append(classification_line(bucket, key, label))
    manifest_key = f"{prefix}train.manifest"
    s3.put_object(Bucket=bucket, Key=manifest_key, Body="\n".join(lines).encode())
    return manifest_key
