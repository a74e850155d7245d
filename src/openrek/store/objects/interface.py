"""The `ObjectStore` contract: the abstract base class every object store implements, the info records its
calls return (`BucketInfo`, `ObjectInfo`, `PartInfo`, `UploadInfo`), and the S3 limits they share.

`ObjectStore` is the whole contract the service and the S3 wire layer rely on; a remote S3-compatible store
(MinIO, Ceph, AWS itself, through boto3) can implement the same ABC later. Keys and bucket names follow S3:
keys are any non-empty UTF-8 string up to 1024 bytes and are listed in UTF-8 binary order (the same as
Python's code-point order for `str`); errors carry S3's error codes (see `errors`).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from openrek.store.objects.errors import NoSuchKey
from openrek.store.sealed_files import Encryption

DEFAULT_CONTENT_TYPE = "binary/octet-stream"  # what S3 reports when a client sent none
AccessCheck = Callable[[str, str, str], None]  # (action, bucket, key); raises AccessDenied
MAX_KEY_BYTES = 1024
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10000


@dataclass(frozen=True)
class BucketInfo:
    name: str
    created: datetime
    owner: str | None = None  # the account that created it (None: created before accounts existed)


@dataclass(frozen=True)
class ObjectInfo:
    bucket: str
    key: str
    size: int
    etag: str  # quoted: '"<md5 hex>"', or '"<md5 of part md5s>-<parts>"' after a multipart upload
    last_modified: datetime  # UTC
    content_type: str = DEFAULT_CONTENT_TYPE
    metadata: dict[str, str] = field(default_factory=dict)
    encryption: Encryption | None = None  # how it is encrypted at rest (None: stored in the clear)


@dataclass(frozen=True)
class PartInfo:
    part_number: int
    size: int
    etag: str  # quoted md5 of the part
    last_modified: datetime


@dataclass(frozen=True)
class UploadInfo:
    bucket: str
    key: str
    upload_id: str
    initiated: datetime



class ObjectStore(abc.ABC):
    """S3's object model without HTTP: buckets, objects, multipart uploads; errors are `ObjectStoreError`s."""

    # buckets
    @abc.abstractmethod
    def create_bucket(self, bucket: str, owner: str | None = None) -> None:
        """Creates a bucket owned by the account `owner`."""

    @abc.abstractmethod
    def bucket_policy(self, bucket: str) -> str | None:
        """The bucket's policy document (JSON text), or None; NoSuchBucket if absent."""

    @abc.abstractmethod
    def set_bucket_policy(self, bucket: str, policy: str | None) -> None:
        """Sets (or, with None, removes) the bucket's policy."""

    @abc.abstractmethod
    def bucket_owner(self, bucket: str) -> str | None:
        """The account that owns an existing bucket (None when unrecorded); NoSuchBucket if absent."""

    @abc.abstractmethod
    def delete_bucket(self, bucket: str) -> None: ...

    @abc.abstractmethod
    def bucket_exists(self, bucket: str) -> bool: ...

    @abc.abstractmethod
    def list_buckets(self) -> list[BucketInfo]: ...

    # objects
    @abc.abstractmethod
    def put_object(self, bucket: str, key: str, data: bytes | BinaryIO, content_type: str | None = None,
                   metadata: dict[str, str] | None = None, encryption: Encryption | None = None) -> ObjectInfo:
        """Stores the object, encrypted at rest as `encryption` says (None: the store's default)."""

    @abc.abstractmethod
    def open_object(self, bucket: str, key: str) -> tuple[ObjectInfo, BinaryIO]:
        """The object's info and an open binary stream of its bytes; the caller closes the stream."""

    @abc.abstractmethod
    def head_object(self, bucket: str, key: str) -> ObjectInfo: ...

    @abc.abstractmethod
    def delete_object(self, bucket: str, key: str) -> None:
        """Delete the object; deleting a key that does not exist is not an error (as in S3)."""

    @abc.abstractmethod
    def list_objects(self, bucket: str, prefix: str = "", start_after: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with `prefix` and sorts after `start_after`, in UTF-8 binary key order."""

    # multipart uploads
    @abc.abstractmethod
    def create_multipart_upload(self, bucket: str, key: str, content_type: str | None = None,
                                metadata: dict[str, str] | None = None, encryption: Encryption | None = None) -> str:
        """Starts an upload whose parts and object are encrypted as `encryption` says."""

    @abc.abstractmethod
    def upload_encryption(self, bucket: str, key: str, upload_id: str) -> Encryption | None:
        """How an in-progress upload's object will be encrypted; NoSuchUpload if there is no such upload."""

    @abc.abstractmethod
    def upload_part(self, bucket: str, key: str, upload_id: str, part_number: int,
                    data: bytes | BinaryIO) -> str: ...

    @abc.abstractmethod
    def complete_multipart_upload(self, bucket: str, key: str, upload_id: str,
                                  parts: list[tuple[int, str]]) -> ObjectInfo: ...

    @abc.abstractmethod
    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None: ...

    @abc.abstractmethod
    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]: ...

    @abc.abstractmethod
    def list_multipart_uploads(self, bucket: str, prefix: str = "") -> list[UploadInfo]: ...

    @abc.abstractmethod
    def writing_as(self, encryption: Encryption | None) -> ObjectStore:
        """This store, writing everything under `encryption` unless a write names another (None: as
        this store does): e.g. a training job's files under its version's KMS key."""

    @abc.abstractmethod
    def acting_for(self, check: AccessCheck | None) -> ObjectStore:
        """This store, calling `check(action, bucket, key)` before each read (`s3:GetObject`) or write
        (`s3:PutObject`) of an object outside openrek's internal buckets; `check` raises `AccessDenied`.
        A training job reads and writes this way for the user who asked for it."""

    # conveniences with portable defaults
    def get_bytes(self, bucket: str, key: str) -> bytes:
        _, stream = self.open_object(bucket, key)
        with stream:
            return stream.read()

    def object_exists(self, bucket: str, key: str) -> bool:
        try:
            self.head_object(bucket, key)
        except NoSuchKey:
            return False
        return True

    def copy_object(self, src_bucket: str, src_key: str, bucket: str, key: str,
                    content_type: str | None = None, metadata: dict[str, str] | None = None,
                    encryption: Encryption | None = None) -> ObjectInfo:
        """Copy an object; without `content_type`/`metadata` the source's are kept; the copy is encrypted
        as `encryption` says (None: the store's default, as S3 does when a copy names no encryption)."""
        info, stream = self.open_object(src_bucket, src_key)
        with stream:
            return self.put_object(bucket, key, stream,
                                   content_type=content_type if content_type is not None else info.content_type,
                                   metadata=metadata if metadata is not None else info.metadata,
                                   encryption=encryption)
