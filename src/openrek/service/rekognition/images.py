"""Fetches the image sent to DetectCustomLabels and checks it against AWS's limits (bytes, formats,
pixels) from its header, before the model host decodes it, once (`openrek.imaging` holds the rules).
"""

from __future__ import annotations

from typing import Any

from openrek import imaging
from openrek.service.errors import (
    ImageTooLargeException,
    InvalidImageFormatException,
    InvalidS3ObjectException,
)
from openrek.store.objects import NoSuchBucket, ObjectStore, ObjectStoreError, is_internal_bucket

MAX_BYTES_INLINE = imaging.MAX_INLINE_BYTES  # Image.Bytes
MAX_BYTES_S3 = imaging.MAX_S3_BYTES  # Image.S3Object


def image_bytes(objects: ObjectStore, image: dict[str, Any]) -> bytes:
    """The raw bytes of `Image` (Bytes or S3Object), within AWS's limits, or the error AWS gives."""
    if "Bytes" in image and "S3Object" in image:
        raise InvalidImageFormatException("Give Image.Bytes or Image.S3Object, not both.")
    if "Bytes" in image:
        data = image["Bytes"]
        if len(data) > MAX_BYTES_INLINE:
            raise ImageTooLargeException(
                f"The image is {len(data)} bytes; Image.Bytes may hold at most 4 MB. Resize it, or upload it "
                "and pass Image.S3Object (up to 15 MB)."
            )
    elif "S3Object" in image:
        ref = image["S3Object"]
        bucket, name = ref.get("Bucket"), ref.get("Name")
        if not bucket or not name:
            raise InvalidS3ObjectException("Image.S3Object needs Bucket and Name.")
        try:
            if is_internal_bucket(bucket):  # openrek's own buckets are not there for requests to name
                raise NoSuchBucket(f"The bucket {bucket!r} does not exist.", bucket=bucket)
            info = objects.head_object(bucket, name)
            if info.size > MAX_BYTES_S3:
                raise ImageTooLargeException(
                    f"s3://{bucket}/{name} is {info.size} bytes; images in S3 may be at most 15 MB."
                )
            data = objects.get_bytes(bucket, name)
        except ObjectStoreError as exc:
            raise InvalidS3ObjectException(
                f"Unable to get object metadata from S3: s3://{bucket}/{name} ({exc.code}). Check the bucket and key."
            ) from None
    else:
        raise InvalidImageFormatException("Image needs Bytes or S3Object.")
    check_format(data)
    return data


def check_format(data: bytes) -> imaging.Header:
    """The image's header if it is a PNG or JPEG within the pixel limit; AWS's error otherwise. Reads the
    header only: the pixels are decoded once, by the model host."""
    try:
        return imaging.read_header(data)
    except imaging.ImageError as exc:
        raise service_error(exc) from None


def service_error(exc: imaging.ImageError) -> ImageTooLargeException | InvalidImageFormatException:
    """What DetectCustomLabels answers for an image that cannot be used."""
    if exc.kind == exc.TOO_LARGE:
        return ImageTooLargeException(
            f"The input image size exceeds the allowed limit: {exc.reason}. Resize the image (a JPEG or PNG of "
            f"at most {imaging.MAX_SIDE} pixels a side).")
    if exc.kind == exc.FORMAT:
        return InvalidImageFormatException(
            f"Request has unsupported image format: {exc.reason}. DetectCustomLabels accepts JPEG and PNG.")
    return InvalidImageFormatException(
        f"Request has unsupported image format: the bytes are not a readable JPEG or PNG image ({exc.reason}).")
