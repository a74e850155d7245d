"""Object storage: the `ObjectStore` interface, its typed errors, and `DirectoryObjectStore`, the embedded default.

`ObjectStore` is the whole contract the service and the S3 wire layer rely on; a remote S3-compatible store
(MinIO, Ceph, AWS itself, through boto3) can implement the same ABC later and be chosen by
`open_object_store`. Keys and bucket names follow S3: keys are any non-empty UTF-8 string up to 1024 bytes
and are listed in UTF-8 binary order (the same as Python's code-point order for `str`); errors carry S3's
error codes.

The package's modules, each with one job:

- `errors`: `ObjectStoreError` and its fixed-code subclasses (`NoSuchBucket`, `NoSuchKey`, ...).
- `interface`: the `ObjectStore` ABC, the info records it returns, the S3 limits.
- `naming`: S3's bucket-name and key rules, and which buckets are openrek's own.
- `disk_layout`: how the directory store spells a key as directory and file names.
- `disk_files`: the directory store's file helpers (temp files, atomic writes).
- `etags`: etags, chunked reads and the rules for completing a multipart upload, shared by both stores.
- `views`: `acting_for` / `writing_as`, the views both stores give of themselves.
- `remote`: `S3ObjectStore`, openrek's buckets on a remote S3-compatible store.
- `directory`: `DirectoryObjectStore` (its module docstring describes the on-disk layout and guarantees).
- `factory`: `open_object_store`, which opens a store from a path or URL.

Everything is importable from `openrek.store.objects` itself.
"""

from __future__ import annotations

from openrek.store.objects.directory import DirectoryObjectStore
from openrek.store.objects.disk_files import _temp_owner_gone as _temp_owner_gone  # used by tests
from openrek.store.objects.disk_files import _temp_prefix as _temp_prefix  # used by tests
from openrek.store.objects.errors import (
    AccessDenied,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    EntityTooSmall,
    InvalidArgument,
    InvalidBucketName,
    InvalidPart,
    InvalidPartOrder,
    KeyTooLongError,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    ObjectStoreError,
)
from openrek.store.objects.factory import open_object_store
from openrek.store.objects.interface import (
    DEFAULT_CONTENT_TYPE,
    MAX_KEY_BYTES,
    MAX_PART_NUMBER,
    MIN_PART_SIZE,
    AccessCheck,
    BucketInfo,
    ObjectInfo,
    ObjectStore,
    PartInfo,
    UploadInfo,
)
from openrek.store.objects.naming import is_internal_bucket, validate_bucket_name, validate_key

__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "MAX_KEY_BYTES",
    "MAX_PART_NUMBER",
    "MIN_PART_SIZE",
    "AccessCheck",
    "AccessDenied",
    "BucketAlreadyOwnedByYou",
    "BucketInfo",
    "BucketNotEmpty",
    "DirectoryObjectStore",
    "EntityTooSmall",
    "InvalidArgument",
    "InvalidBucketName",
    "InvalidPart",
    "InvalidPartOrder",
    "KeyTooLongError",
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchUpload",
    "ObjectInfo",
    "ObjectStore",
    "ObjectStoreError",
    "PartInfo",
    "UploadInfo",
    "is_internal_bucket",
    "open_object_store",
    "validate_bucket_name",
    "validate_key",
]
