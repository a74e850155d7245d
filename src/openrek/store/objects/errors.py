"""The object store's errors: `ObjectStoreError`, which carries S3's error code, and one subclass per code
the stores raise (`NoSuchBucket`, `NoSuchKey`, ...), so callers can catch a kind of failure by class."""

from __future__ import annotations


class ObjectStoreError(Exception):
    """An error with S3's error code (`code`) and a message a person can act on."""

    code = "InternalError"

    def __init__(self, code: str, message: str, *, bucket: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.bucket = bucket
        self.key = key

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class _FixedCodeError(ObjectStoreError):
    """An `ObjectStoreError` whose class names its code: raise `NoSuchKey(message, bucket=..., key=...)`."""

    def __init__(self, message: str, *, bucket: str | None = None, key: str | None = None) -> None:
        super().__init__(type(self).code, message, bucket=bucket, key=key)


class NoSuchBucket(_FixedCodeError):
    code = "NoSuchBucket"


class NoSuchKey(_FixedCodeError):
    code = "NoSuchKey"


class BucketAlreadyOwnedByYou(_FixedCodeError):
    code = "BucketAlreadyOwnedByYou"


class BucketNotEmpty(_FixedCodeError):
    code = "BucketNotEmpty"


class InvalidBucketName(_FixedCodeError):
    code = "InvalidBucketName"


class KeyTooLongError(_FixedCodeError):
    code = "KeyTooLongError"


class InvalidArgument(_FixedCodeError):
    code = "InvalidArgument"


class AccessDenied(_FixedCodeError):
    """The one the store acts for may not read or write this object (see `acting_for`)."""

    code = "AccessDenied"


class NoSuchUpload(_FixedCodeError):
    code = "NoSuchUpload"


class InvalidPart(_FixedCodeError):
    code = "InvalidPart"


class InvalidPartOrder(_FixedCodeError):
    code = "InvalidPartOrder"


class EntityTooSmall(_FixedCodeError):
    code = "EntityTooSmall"
