"""openrek.imaging: the one table of formats and limits, and the one decode, that manifests and serving share."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from openrek import imaging
from openrek.manifests import rules
from openrek.manifests.image_check import inspect_image
from openrek.service.errors import ImageTooLargeException, InvalidImageFormatException
from openrek.service.rekognition.images import check_format


def _encoded(img: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def _png_header(width: int, height: int) -> bytes:
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr))
            + struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND")))


def test_manifest_limits_are_the_imaging_limits() -> None:
    limits = rules.DEFAULT_LIMITS
    assert (limits.min_image_side, limits.max_image_side, limits.max_aspect_ratio, limits.max_image_bytes) == (
        imaging.MIN_SIDE, imaging.MAX_SIDE, imaging.MAX_ASPECT_RATIO, imaging.MAX_S3_BYTES)


def test_a_multi_frame_camera_jpeg_is_a_jpeg_for_training_and_for_serving() -> None:
    red, blue = Image.new("RGB", (100, 80), (200, 0, 0)), Image.new("RGB", (100, 80), (0, 0, 200))
    mpo = _encoded(red, "MPO", save_all=True, append_images=[blue])
    assert Image.open(io.BytesIO(mpo)).format == "MPO"
    assert check_format(mpo).format == "JPEG"  # DetectCustomLabels used to refuse it
    info = inspect_image(mpo, "line 1 of s3://b/m")
    assert not hasattr(info, "code") and info.format == "JPEG"
    assert imaging.decode_rgb(mpo).getpixel((5, 5))[0] > 150  # the first frame


def test_headers_are_checked_before_any_pixel_is_decoded() -> None:
    with pytest.raises(imaging.ImageError) as exc:
        imaging.read_header(_png_header(30_000, 30_000))  # Pillow's DecompressionBombError
    assert exc.value.kind == exc.value.TOO_LARGE and exc.value.code == "ImageTooLargeException"
    with pytest.raises(imaging.ImageError) as exc:
        imaging.decode_rgb(_png_header(10_000, 10_000))
    assert exc.value.kind == exc.value.TOO_LARGE and "10000x10000" in exc.value.reason
    assert imaging.read_header(_png_header(10_000, 10_000), max_side=None).raw_width == 10_000
    with pytest.raises(ImageTooLargeException):
        check_format(_png_header(4097, 100))


@pytest.mark.parametrize("data", [_png_header(200, 200), b"\x89PNG\r\n\x1a\n", b"", b"GIF89a...",
                                  _encoded(Image.new("RGB", (64, 64)), "PNG")[:-30]])
def test_broken_images_are_image_errors_whatever_pillow_raises(data: bytes) -> None:
    with pytest.raises(imaging.ImageError) as exc:
        imaging.decode_rgb(data)
    assert exc.value.code == "InvalidImageFormatException"


def test_serving_maps_image_errors_to_awss() -> None:
    with pytest.raises(InvalidImageFormatException, match="GIF"):
        check_format(_encoded(Image.new("RGB", (80, 80)), "GIF"))
    with pytest.raises(InvalidImageFormatException):
        check_format(b"not an image")


def test_a_large_jpeg_decodes_at_reduced_size_for_a_small_target() -> None:
    data = _encoded(Image.new("RGB", (4000, 3000), (10, 200, 10)), "JPEG")
    small = imaging.decode_rgb(data, target=(600, 300))
    assert small.size == (1000, 750) and small.mode == "RGB"  # 1/4 scale: 1/8 would be under 600 wide
    assert imaging.decode_rgb(data, target=(400, 300)).size == (500, 375)
    assert imaging.decode_rgb(data).size == (4000, 3000)


def test_orientation_and_transparency() -> None:
    img = Image.new("RGBA", (120, 70), (0, 0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°: width and height swap
    data = _encoded(img.convert("RGB"), "JPEG", exif=exif.tobytes())
    header = imaging.read_header(data)
    assert (header.raw_width, header.raw_height, header.width, header.height) == (120, 70, 70, 120)
    assert imaging.decode_rgb(data).size == (70, 120)
    assert imaging.decode_rgb(_encoded(img, "PNG")).getpixel((3, 3)) == (255, 255, 255)
