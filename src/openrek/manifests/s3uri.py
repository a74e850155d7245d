"""`s3://bucket/key` URIs as Ground Truth manifests write them in `source-ref`.

Parsing only: no I/O. A malformed URI raises `S3UriError` with a reason a person can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..store.objects import is_internal_bucket

# S3's bucket rules, plus the legacy upper-case/underscore names botocore still accepts for Rekognition.
_BUCKET_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-_]{1,253}[0-9A-Za-z]$")
MAX_KEY_BYTES = 1024


class S3UriError(ValueError):
    """The text is not a usable `s3://bucket/key` URI; `str(err)` says why."""


@dataclass(frozen=True)
class S3Uri:
    """A parsed `s3://bucket/key` (no version: S3 URIs do not carry one)."""

    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def s3_uri(bucket: str, key: str) -> str:
    """The `s3://bucket/key` text for an object."""
    return f"s3://{bucket}/{key}"


def parse_s3_uri(text: object) -> S3Uri:
    """Parse `s3://bucket/key`; raise `S3UriError` if it is not a string of that form."""
    if not isinstance(text, str):
        raise S3UriError(f"the value must be a string like \"s3://bucket/path/image.jpg\", not {_kind(text)}")
    if not text.startswith("s3://"):
        scheme = text.split("://", 1)[0] + "://" if "://" in text else ""
        hint = f" (it starts with {scheme!r})" if scheme else ""
        raise S3UriError(f"{text!r} does not start with \"s3://\"{hint}; write \"s3://bucket/path/image.jpg\"")
    rest = text[len("s3://"):]
    bucket, sep, key = rest.partition("/")
    if not bucket:
        raise S3UriError(f"{text!r} names no bucket; write \"s3://bucket/path/image.jpg\"")
    if is_internal_bucket(bucket):
        raise S3UriError(f"{bucket!r} in {text!r} is not a valid S3 bucket name: bucket names never begin with "
                         "a period. Point source-ref at an image in one of your own buckets")
    if not _BUCKET_RE.match(bucket) or ".." in bucket:
        raise S3UriError(f"{bucket!r} in {text!r} is not a valid S3 bucket name")
    if not sep or not key:
        raise S3UriError(f"{text!r} names a bucket but no object key; write \"s3://{bucket}/path/image.jpg\"")
    if key.endswith("/"):
        raise S3UriError(f"{text!r} names a folder, not an object; point it at one image file")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise S3UriError(f"the object key in {text[:60]!r}… is longer than {MAX_KEY_BYTES} bytes")
    return S3Uri(bucket=bucket, key=key)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__)
