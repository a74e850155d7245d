"""Images as Custom Labels accepts them: read through the object store, checked, decoded to RGB.

`check_image` applies AWS's rules (JPEG or PNG by content, 64–4096 px a side, aspect ratio ≤ 20:1, ≤ 15 MB,
decodes completely) and returns the image's size after EXIF orientation. `load_rgb_image` /
`decode_rgb` give training and inference the same pixels: EXIF orientation applied, greyscale, 16-bit,
palette and transparent images converted to RGB (transparent areas composited on white).
"""

from __future__ import annotations

import inspect
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from ..store.objects import ObjectStore, ObjectStoreError
from . import rules
from .line_parser import line_error
from .rules import DEFAULT_LIMITS, Limits
from .s3uri import s3_uri
from .types import ManifestError, ManifestRecord

ACCEPTED_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG"}  # MPO: a camera JPEG with extra frames
_EXIF_ORIENTATION = 0x0112
_SWAPS_AXES = {5, 6, 7, 8}


@dataclass(frozen=True)
class ImageInfo:
    """What validation needs to know about a good image."""

    format: str  # "JPEG" or "PNG"
    width: int  # after EXIF orientation: the frame boxes are checked against
    height: int
    raw_width: int  # as stored, before EXIF orientation
    raw_height: int
    orientation: int  # EXIF orientation tag, 1 when absent
    mode: str  # Pillow mode as stored ("RGB", "L", "P", "RGBA", ...)
    size_bytes: int


def read_object_bytes(objects: ObjectStore, bucket: str, key: str, version: str | None = None) -> bytes:
    """The object's bytes; `version` is honoured when the store's `get_bytes` takes a version argument."""
    if version:
        params = inspect.signature(objects.get_bytes).parameters
        for name in ("version_id", "version"):
            if name in params:
                return objects.get_bytes(bucket, key, **{name: version})
    return objects.get_bytes(bucket, key)


def _exif_orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # a malformed EXIF block must not make the image unusable
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def inspect_image(data: bytes, at: str, limits: Limits = DEFAULT_LIMITS) -> ImageInfo | ManifestError:
    """Check image bytes against AWS's rules; `at` ('line 3 of s3://…') starts any error message."""
    if len(data) > limits.max_image_bytes:
        return line_error(rules.ERROR_INVALID_IMAGE, at,
                          f"the image is {len(data) / rules.MB:.1f} MB; images can be at most "
                          f"{limits.max_image_bytes / rules.MB:g} MB. Compress or resize it.")
    # The dimension check runs before decoding, so Pillow's decompression-bomb limit (far above 4096x4096)
    # only trips on a header claiming a gigantic image: report that as a dimension error.
    try:
        img = Image.open(io.BytesIO(data))
        fmt = ACCEPTED_FORMATS.get(img.format or "")
        if fmt is None:
            return line_error(rules.ERROR_INVALID_IMAGE, at,
                              f"the image is invalid: it is a {img.format or 'unknown'} file; Custom Labels "
                              "accepts only PNG and JPEG images. Convert it to PNG or JPEG.")
        raw_w, raw_h = img.size
        dim = _dimension_problem(raw_w, raw_h, limits)
        if dim:
            return line_error(rules.ERROR_INVALID_IMAGE_DIMENSION, at, dim)
        orientation = _exif_orientation(img)
        mode = img.mode
        if fmt == "JPEG":
            img.draft(img.mode, (max(1, raw_w // 8), max(1, raw_h // 8)))  # still reads every byte
        img.load()
    except Image.DecompressionBombError:
        return line_error(rules.ERROR_INVALID_IMAGE_DIMENSION, at,
                          "the image has too many pixels to decode safely; images can be at most "
                          f"{limits.max_image_side}x{limits.max_image_side} pixels.")
    except Exception as exc:  # Pillow raises many types for damaged files
        reason = str(exc) or type(exc).__name__
        return line_error(rules.ERROR_INVALID_IMAGE, at,
                          f"the image is invalid: it could not be decoded ({reason}). Check that the file is "
                          "a complete, uncorrupted PNG or JPEG image.")
    width, height = (raw_h, raw_w) if orientation in _SWAPS_AXES else (raw_w, raw_h)
    return ImageInfo(format=fmt, width=width, height=height, raw_width=raw_w, raw_height=raw_h,
                     orientation=orientation, mode=mode, size_bytes=len(data))


def _dimension_problem(w: int, h: int, limits: Limits) -> str | None:
    lo, hi = limits.min_image_side, limits.max_image_side
    if min(w, h) < lo or max(w, h) > hi:
        return (f"the image dimensions ({w}x{h} pixels) do not conform to allowed dimensions: each side must be "
                f"between {lo} and {hi} pixels. Resize the image.")
    if max(w, h) / min(w, h) > limits.max_aspect_ratio:
        return (f"the image aspect ratio ({w}x{h} pixels, {max(w, h) / min(w, h):.1f}:1) is above the allowed "
                f"{limits.max_aspect_ratio:g}:1. Crop or pad the image.")
    return None


def check_image(objects: ObjectStore, bucket: str, key: str, version: str | None, at: str,
                limits: Limits = DEFAULT_LIMITS) -> ImageInfo | ManifestError:
    """Read `s3://bucket/key` through the store and check it; an unreadable object is ERROR_INVALID_IMAGE."""
    uri = s3_uri(bucket, key)
    try:
        info = objects.head_object(bucket, key)
        if info.size > limits.max_image_bytes:
            return line_error(rules.ERROR_INVALID_IMAGE, at,
                              f"the image {uri} is {info.size / rules.MB:.1f} MB; images can be at most "
                              f"{limits.max_image_bytes / rules.MB:g} MB. Compress or resize it.")
        data = read_object_bytes(objects, bucket, key, version)
    except OSError as exc:  # the store's disk, not the image
        return line_error(rules.ERROR_INVALID_IMAGE, at,
                          f"the image is invalid: {uri} could not be read ({exc}). Check the S3 path in "
                          "source-ref and that the image was uploaded.")
    except ObjectStoreError as exc:
        if exc.code == "AccessDenied":
            return line_error(rules.ERROR_INVALID_PERMISSIONS_IMAGES_S3_BUCKET, at,
                              f"the image {uri} could not be read: access denied ({exc.message}). Grant read "
                              f"access to the bucket {bucket!r}.")
        return line_error(rules.ERROR_INVALID_IMAGE, at,
                          f"the image is invalid: {uri} could not be read ({exc.code}: {exc.message}). Check the "
                          "S3 path in source-ref and that the image was uploaded.")
    return inspect_image(data, at, limits)


def _to_8bit_grey(img: Image.Image) -> Image.Image:
    arr: Any = np.asarray(img)
    if img.mode.startswith("I;16") or (arr.dtype.kind in "iu" and arr.max(initial=0) > 255):
        arr = arr.astype(np.float64) / 257.0 if arr.max(initial=0) <= 65535 else \
            arr.astype(np.float64) * (255.0 / float(arr.max()))
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "L")


def to_rgb(img: Image.Image) -> Image.Image:
    """The image as 8-bit RGB; transparency is composited onto white."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I", "F") or img.mode.startswith("I;16"):
        img = _to_8bit_grey(img)
    has_alpha = img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in img.info
    if has_alpha:
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        background.alpha_composite(rgba)
        return background.convert("RGB")
    return img.convert("RGB")


def decode_rgb(data: bytes) -> Image.Image:
    """Decode image bytes as training and inference see them: EXIF orientation applied, then RGB."""
    img = Image.open(io.BytesIO(data))
    img.load()
    oriented = ImageOps.exif_transpose(img)
    return to_rgb(oriented if oriented is not None else img)


def load_rgb_image(objects: ObjectStore, record: ManifestRecord) -> Image.Image:
    """The record's image, read through the object store, as an oriented RGB `PIL.Image.Image`."""
    return decode_rgb(read_object_bytes(objects, record.bucket, record.key, record.version))


__all__ = ["ImageInfo", "check_image", "decode_rgb", "inspect_image", "load_rgb_image", "read_object_bytes",
           "to_rgb"]
