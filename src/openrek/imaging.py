"""Images as Custom Labels takes them, in one place: the formats, the limits, and the one decode that
manifest validation, training and DetectCustomLabels share.

- Formats: PNG and JPEG by content. Pillow calls a camera JPEG with extra frames (a multi-picture
  file) "MPO"; it is a JPEG to AWS, and to every caller here.
- Limits: AWS's image limits (64–4096 px a side, aspect ratio ≤ 20:1, 15 MB in S3, 4 MB inline).
  `manifests.rules.Limits` takes its defaults from here; serving refuses an image over `MAX_SIDE`.
- Decoding: the header is read first (no pixels), and nothing is decoded past `max_side`, so a small
  file that declares a huge image costs nothing. A JPEG is decoded at reduced size when the caller only
  needs `target` pixels (libjpeg scales by 1/2, 1/4 or 1/8 while decoding). At most
  `MAX_CONCURRENT_DECODES` decodes run at once in a process, so concurrent requests cannot multiply the
  memory one decode takes. Every failure is an `ImageError`, whatever Pillow raised.
"""

from __future__ import annotations

import io
import os
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MB = 1024 * 1024
FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG"}  # Pillow's format → the format AWS sees
MIN_SIDE = 64
MAX_SIDE = 4096
MAX_ASPECT_RATIO = 20.0
MAX_S3_BYTES = 15 * MB  # an image in S3 (datasets, Image.S3Object)
MAX_INLINE_BYTES = 4 * MB  # DetectCustomLabels' Image.Bytes
MAX_CONCURRENT_DECODES = max(1, min(4, os.cpu_count() or 1))

_DECODES = threading.BoundedSemaphore(MAX_CONCURRENT_DECODES)
# Pillow's own guard (a warning past 89 megapixels, DecompressionBombError past 179, both while opening) is
# replaced by the size check every decode here makes from the header, far lower; this module is the only
# code of openrek that opens images.
Image.MAX_IMAGE_PIXELS = None
_EXIF_ORIENTATION = 0x0112
_SWAPS_AXES = {5, 6, 7, 8}


class ImageError(ValueError):
    """An image that cannot be used: `kind` says why (FORMAT, TOO_LARGE, CORRUPT), `reason` in words."""

    FORMAT = "format"  # not a PNG or JPEG
    TOO_LARGE = "too-large"  # more pixels than may be decoded
    CORRUPT = "corrupt"  # a PNG or JPEG (or not even that) that does not decode

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason

    def __reduce__(self) -> tuple:  # crosses process boundaries intact (a Ray replica raises it)
        return type(self), (self.kind, self.reason)

    @property
    def code(self) -> str:
        """The error DetectCustomLabels answers with."""
        return "ImageTooLargeException" if self.kind == self.TOO_LARGE else "InvalidImageFormatException"


@dataclass(frozen=True)
class Header:
    """What an image's header says, read without decoding a pixel."""

    format: str  # "JPEG" or "PNG"
    raw_width: int  # as stored, before EXIF orientation
    raw_height: int
    orientation: int  # EXIF orientation tag, 1 when absent
    mode: str  # Pillow mode as stored ("RGB", "L", "P", "RGBA", ...)

    @property
    def width(self) -> int:
        """After EXIF orientation (what the frame of boxes and the eye see)."""
        return self.raw_height if self.orientation in _SWAPS_AXES else self.raw_width

    @property
    def height(self) -> int:
        return self.raw_width if self.orientation in _SWAPS_AXES else self.raw_height


def _exif_orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # a malformed EXIF block must not make the image unusable
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _too_large(w: int, h: int, max_side: int) -> ImageError:
    return ImageError(ImageError.TOO_LARGE, f"the image is {w}x{h} pixels; images can be at most "
                                            f"{max_side}x{max_side} pixels")


def _open(data: bytes) -> tuple[Image.Image, Header]:
    """The image opened (header parsed, no pixels decoded) and its header; ImageError otherwise."""
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:  # only if Pillow's guard was turned back on
        raise ImageError(ImageError.TOO_LARGE, "the image has too many pixels to decode safely") from None
    except UnidentifiedImageError:
        raise ImageError(ImageError.CORRUPT, "the bytes are not a PNG or JPEG image") from None
    except Exception as exc:  # Pillow raises many types for damaged headers
        raise ImageError(ImageError.CORRUPT, str(exc) or type(exc).__name__) from None
    fmt = FORMATS.get(img.format or "")
    if fmt is None:
        img.close()
        raise ImageError(ImageError.FORMAT, f"it is a {img.format or 'unknown'} file; only PNG and JPEG images "
                                            "are accepted")
    return img, Header(format=fmt, raw_width=img.size[0], raw_height=img.size[1],
                       orientation=_exif_orientation(img), mode=img.mode)


def read_header(data: bytes, max_side: int | None = MAX_SIDE) -> Header:
    """The image's header, checked for format and (unless `max_side` is None) size; no pixel is decoded."""
    img, header = _open(data)
    img.close()
    if max_side is not None and max(header.raw_width, header.raw_height) > max_side:
        raise _too_large(header.raw_width, header.raw_height, max_side)
    return header


def _load(data: bytes, max_side: int, target: tuple[int, int] | None = None,
          eighth: bool = False) -> tuple[Image.Image, Header]:
    """The image decoded (a JPEG at reduced size for `target`, or at 1/8 with `eighth`), its size checked
    against `max_side` from the header before any pixel is decoded."""
    img, header = _open(data)
    if max(header.raw_width, header.raw_height) > max_side:
        img.close()
        raise _too_large(header.raw_width, header.raw_height, max_side)
    if eighth:
        target = (max(1, header.raw_width // 8), max(1, header.raw_height // 8))
    try:
        if target is not None and header.format == "JPEG":
            img.draft(img.mode, target)  # libjpeg decodes at 1/2, 1/4 or 1/8 scale, still at least `target`
        img.load()
    except Exception as exc:  # truncated data, a header with no pixel data (IndexError), bad chunks, ...
        raise ImageError(ImageError.CORRUPT, str(exc) or type(exc).__name__) from None
    return img, header


def verify(data: bytes, max_side: int = MAX_SIDE) -> Header:
    """The header of an image that decodes completely (a JPEG at 1/8 scale: every byte is still read)."""
    with _DECODES:
        img, header = _load(data, max_side, eighth=True)
        img.close()
    return header


def decode_rgb(data: bytes, target: tuple[int, int] | None = None, max_side: int = MAX_SIDE) -> Image.Image:
    """The image as training and inference see it: EXIF orientation applied, then 8-bit RGB (transparency
    over white). `target` (width, height): the size the caller needs at least, letting a JPEG decode
    smaller; None decodes at full size. ImageError for anything that is no usable image."""
    with _DECODES:
        img, _ = _load(data, max_side, target)
        try:
            oriented = ImageOps.exif_transpose(img)
        except Exception:  # a malformed EXIF block: the pixels as stored
            oriented = None
        return to_rgb(oriented if oriented is not None else img)


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


__all__ = ["FORMATS", "MAX_ASPECT_RATIO", "MAX_CONCURRENT_DECODES", "MAX_INLINE_BYTES", "MAX_S3_BYTES",
           "MAX_SIDE", "MIN_SIDE", "Header", "ImageError", "decode_rgb", "read_header", "to_rgb", "verify"]
