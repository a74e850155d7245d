"""Images as training sees them: EXIF orientation, palette/transparent PNGs, greyscale, 16-bit, CMYK."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from openrek.manifests import decode_rgb, load_rgb_image, validate_manifest

from .conftest import MANIFESTS, Factory, cls_line, det_line


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _marked(raw_w: int, raw_h: int, box: tuple[int, int, int, int]) -> Image.Image:
    """Black image with a red rectangle at box = (left, top, width, height)."""
    arr = np.zeros((raw_h, raw_w, 3), np.uint8)
    left, top, w, h = box
    arr[top:top + h, left:left + w] = (255, 0, 0)
    return Image.fromarray(arr, "RGB")


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 6, 7, 8])
def test_exif_orientation_is_applied_to_size_boxes_and_pixels(mk: Factory, store, orientation: int) -> None:
    raw_w, raw_h, box = 160, 100, (10, 20, 40, 30)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _encode(_marked(raw_w, raw_h, box), "JPEG", quality=95, exif=exif.tobytes())
    key = mk.image(f"o{orientation}.jpg", data)
    # Boxes drawn on the stored frame (image_size = stored size) are mapped onto the displayed frame.
    line = det_line(key, [("mark", *box)], (raw_w, raw_h))
    m = validate_manifest(store, MANIFESTS, mk.manifest([line]).name, role="training")
    record = m.records[0]
    swapped = orientation >= 5
    assert (record.width, record.height) == ((raw_h, raw_w) if swapped else (raw_w, raw_h))
    img = load_rgb_image(store, record)
    assert img.mode == "RGB" and img.size == (record.width, record.height)
    arr = np.asarray(img).astype(int)
    b = record.boxes[0]
    if orientation in (2, 3, 4):
        # image_size fits both frames: the boxes are taken as drawn on the displayed image.
        assert (b.left, b.top, b.width, b.height) == box
    else:
        assert (b.width, b.height) == ((30, 40) if swapped else (40, 30))
        cy, cx = int(b.top + b.height / 2), int(b.left + b.width / 2)
        assert arr[cy, cx, 0] > 200 and arr[cy, cx, 1] < 60, (orientation, b)
        outside = arr.copy()
        outside[int(b.top):int(b.top + b.height), int(b.left):int(b.left + b.width)] = 0
        assert outside[..., 0].max() < 120  # nothing red outside the mapped box (JPEG fringe aside)


def test_exif_rotated_boxes_given_on_the_displayed_frame_are_kept(mk: Factory, store) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    key = mk.image("rot.jpg", _encode(_marked(160, 100, (0, 0, 10, 10)), "JPEG", exif=exif.tobytes()))
    line = det_line(key, [("mark", 5, 6, 20, 30)], (100, 160))
    m = validate_manifest(store, MANIFESTS, mk.manifest([line]).name, role="training")
    b = m.records[0].boxes[0]
    assert (b.left, b.top, b.width, b.height) == (5, 6, 20, 30)


def test_palette_png_with_transparency_becomes_rgb_on_white(mk: Factory, store) -> None:
    img = Image.new("P", (100, 80), 0)
    img.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    img.paste(1, (50, 0, 100, 80))
    key = mk.image("logo.png", _encode(img, "PNG", transparency=0))
    m = validate_manifest(store, MANIFESTS, mk.manifest([cls_line(key, "logo")]).name, role="training")
    assert m.lines[0].image is not None and m.lines[0].image.mode == "P"
    rgb = load_rgb_image(store, m.records[0])
    assert rgb.mode == "RGB" and rgb.getpixel((10, 10)) == (255, 255, 255) and rgb.getpixel((80, 10)) == (0, 0, 255)


@pytest.mark.parametrize(("mode", "fmt", "value", "expected"), [
    ("L", "JPEG", 90, (90, 90, 90)),
    ("L", "PNG", 90, (90, 90, 90)),
    ("LA", "PNG", (90, 255), (90, 90, 90)),
    ("RGBA", "PNG", (10, 20, 30, 0), (255, 255, 255)),
    ("I;16", "PNG", 65535, (255, 255, 255)),
    ("1", "PNG", 1, (255, 255, 255)),
    ("CMYK", "JPEG", (0, 0, 0, 0), (255, 255, 255)),
])
def test_modes_convert_to_rgb(mode: str, fmt: str, value, expected) -> None:
    rgb = decode_rgb(_encode(Image.new(mode, (80, 70), value), fmt))
    assert rgb.mode == "RGB" and rgb.size == (80, 70)
    got = rgb.getpixel((40, 35))
    assert all(abs(a - b) <= 3 for a, b in zip(got, expected, strict=True)), (mode, got)


def test_sixteen_bit_png_is_scaled_not_clipped() -> None:
    arr = np.full((70, 80), 32768, np.uint16)
    rgb = decode_rgb(_encode(Image.fromarray(arr), "PNG"))
    assert abs(rgb.getpixel((1, 1))[0] - 128) <= 1
