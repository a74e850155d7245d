"""Images as Custom Labels accepts them in manifests: read through the object store, checked, decoded to RGB.

`check_image` applies AWS's rules (JPEG or PNG by content, 64–4096 px a side, aspect ratio ≤ 20:1, ≤ 15 MB,
decodes completely) and returns the image's size after EXIF orientation. The formats, limits and the
decode itself are `openrek.imaging`'s, the same DetectCustomLabels uses; `load_rgb_image` / `decode_rgb`
give training the pixels inference sees: EXIF orientation applied, greyscale, 16-bit, palette and
transparent images converted to RGB (transparent areas composited on white).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from PIL import Image

from .. import imaging
from ..imaging import to_rgb
from ..store.objects import ObjectStore, ObjectStoreError
from . import rules
from .line_parser import line_error
from .rules import DEFAULT_LIMITS, Limits
from .s3uri import s3_uri
from .types import ManifestError, ManifestRecord


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


def inspect_image(data: bytes, at: str, limits: Limits = DEFAULT_LIMITS) -> ImageInfo | ManifestError:
    """Check image bytes against AWS's rules; `at` ('line 3 of s3://…') starts any error message."""
    if len(data) > limits.max_image_bytes:
        return line_error(rules.ERROR_INVALID_IMAGE, at,
                          f"the image is {len(data) / rules.MB:.1f} MB; images can be at most "
                          f"{limits.max_image_bytes / rules.MB:g} MB. Compress or resize it.")
    # The dimension check reads the header only, so nothing is decoded past the limits.
    try:
        header = imaging.read_header(data, max_side=None)
        dim = _dimension_problem(header.raw_width, header.raw_height, limits)
        if dim:
            return line_error(rules.ERROR_INVALID_IMAGE_DIMENSION, at, dim)
        imaging.verify(data, max_side=limits.max_image_side)
    except imaging.ImageError as exc:
        if exc.kind == exc.TOO_LARGE:
            return line_error(rules.ERROR_INVALID_IMAGE_DIMENSION, at,
                              f"{exc.reason}; images can be at most "
                              f"{limits.max_image_side}x{limits.max_image_side} pixels.")
        if exc.kind == exc.FORMAT:
            return line_error(rules.ERROR_INVALID_IMAGE, at,
                              f"the image is invalid: {exc.reason}. Convert it to PNG or JPEG.")
        return line_error(rules.ERROR_INVALID_IMAGE, at,
                          f"the image is invalid: it could not be decoded ({exc.reason}). Check that the file is "
                          "a complete, uncorrupted PNG or JPEG image.")
    return ImageInfo(format=header.format, width=header.width, height=header.height,
                     raw_width=header.raw_width, raw_height=header.raw_height, orientation=header.orientation,
                     mode=header.mode, size_bytes=len(data))


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


def decode_rgb(data: bytes) -> Image.Image:
    """Decode image bytes as training and inference see them: EXIF orientation applied, then RGB."""
    return imaging.decode_rgb(data)


def load_rgb_image(objects: ObjectStore, record: ManifestRecord) -> Image.Image:
    """The record's image, read through the object store, as an oriented RGB `PIL.Image.Image`."""
    return decode_rgb(read_object_bytes(objects, record.bucket, record.key, record.version))


__all__ = ["ImageInfo", "check_image", "decode_rgb", "inspect_image", "load_rgb_image", "read_object_bytes",
           "to_rgb"]
