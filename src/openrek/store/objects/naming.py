"""S3's naming rules: which bucket names and object keys are valid, and which buckets are openrek's own."""

from __future__ import annotations

import re

from openrek.store.objects.errors import InvalidArgument, InvalidBucketName, KeyTooLongError
from openrek.store.objects.interface import MAX_KEY_BYTES

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_RE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_RESERVED_DIRS = frozenset({".meta", ".uploads", ".tmp"})


def is_internal_bucket(name: str) -> bool:
    """True for openrek's own buckets (the models bucket, the store's bookkeeping directories).

    Their names start with "." and real S3 bucket names never do, so no S3 client can name one by accident;
    the S3 API, manifests and Rekognition requests treat such a name as a bucket that does not exist.
    """
    return name.startswith(".")


def validate_bucket_name(bucket: str) -> None:
    """Raise `InvalidBucketName` unless `bucket` follows S3's rules, or is an internal name ("." + such a name)."""
    public = bucket[1:] if is_internal_bucket(bucket) else bucket
    reason = None
    if not 3 <= len(public) <= 63:
        reason = "must be between 3 and 63 characters long"
    elif not _BUCKET_RE.match(public):
        reason = ("may contain only lowercase letters, digits, dots and hyphens, "
                  "and must begin and end with a letter or digit")
    elif ".." in public or ".-" in public or "-." in public:
        reason = "must not contain two adjacent periods or a period next to a hyphen"
    elif _IP_RE.match(public):
        reason = "must not be formatted as an IP address"
    elif public.startswith("xn--") or public.endswith("-s3alias") or public.endswith("--ol-s3"):
        reason = "must not use a prefix or suffix that S3 reserves"
    elif bucket in _RESERVED_DIRS:
        reason = "is reserved by the object store"
    if reason:
        raise InvalidBucketName(f"The bucket name {bucket!r} is not valid: it {reason}.", bucket=bucket)


def validate_key(key: str, bucket: str | None = None) -> None:
    if not isinstance(key, str) or key == "":
        raise InvalidArgument("An object key must be a non-empty string.", bucket=bucket, key=key)
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidArgument("An object key must be valid UTF-8.", bucket=bucket) from None
    if size > MAX_KEY_BYTES:
        raise KeyTooLongError(f"The object key is {size} bytes long; the limit is {MAX_KEY_BYTES} bytes.",
                              bucket=bucket, key=key)
