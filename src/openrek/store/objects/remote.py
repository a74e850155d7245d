"""`S3ObjectStore`: openrek's buckets kept on a remote S3-compatible store (SeaweedFS, MinIO, Ceph, AWS S3),
reached through botocore. Chosen by `OPENREK_OBJECT_STORE=s3://<prefix>?endpoint_url=...`.

How openrek's buckets map onto the remote store, for the prefix P::

    openrek bucket B          -> remote bucket "P-B"
    internal bucket ".X"      -> remote bucket "P--X"   (openrek's models; a user's bucket never starts with
                                                         "-", so the two never meet)
    the store's own records   -> remote bucket "P--meta": buckets/<B> (owner, policy, creation date),
                                 uploads/<id>/upload.json and uploads/<id>/part-NNNNN (multipart uploads)

So a remote bucket name is at most 63 characters: openrek's bucket names are at most `63 - len(P) - 1`.

Objects are sealed before they leave the process, exactly as the directory store seals them
(`openrek.store.sealed_files`): the remote store only ever holds ciphertext. What openrek knows of an object
(plaintext size, its etag, content type, user metadata, encryption, last-modified time) rides with it in
one user-metadata field, `x-amz-meta-openrek`, as ASCII JSON.

Writes stream: a write of up to `PART_SIZE` (5 MiB) bytes is one PutObject; a longer one becomes a remote multipart
upload fed one sealed part at a time (one part in memory), completed only when the last byte is in, and
aborted on any failure, so a half-written object is never visible and an old one stays until the new one
is whole. Its record is then written by a server-side copy onto itself (the etag is known only at the end);
until that copy lands, readers derive size and etag from the object itself. Reads stream too: ranged GETs
pinned to the remote ETag (If-Match), so a reader never mixes two versions of an object.

A write and the deletion of its bucket exclude each other within a process; between processes (several
servers, training workers) that rests on the remote store refusing to delete a non-empty bucket, which
SeaweedFS checks only loosely (run it with -s3.allowDeleteBucketNotEmpty=false -s3.autoCreateBucket=false).

Remote failures become `ObjectStoreError`s: S3's own codes pass through (NoSuchBucket, NoSuchKey, ...), an
unreachable store is `ServiceUnavailable`, anything else `InternalError`, each with a message that names
the store. Credentials come from OPENREK_S3_ACCESS_KEY_ID / OPENREK_S3_SECRET_ACCESS_KEY when set (so the
store's credentials need not be the AWS_* variables a shell uses to talk to openrek itself), else from the
usual AWS chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or a profile (`profile=` in the URL).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, TypeVar
from urllib.parse import parse_qsl, urlsplit

from openrek.store.objects.errors import (
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    InvalidArgument,
    InvalidBucketName,
    KeyTooLongError,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    ObjectStoreError,
)
from openrek.store.objects.etags import iter_chunks, multipart_etag, parts_to_complete, quote_etag
from openrek.store.objects.interface import (
    DEFAULT_CONTENT_TYPE,
    MAX_PART_NUMBER,
    AccessCheck,
    BucketInfo,
    ObjectInfo,
    ObjectStore,
    PartInfo,
    UploadInfo,
)
from openrek.store.objects.naming import is_internal_bucket, validate_bucket_name, validate_key
from openrek.store.objects.views import StoreViews
from openrek.store.sealed_files import DataKeys, Encryption, SealedReader, SealingWriter
from openrek.store.seekable import SizedReader

PART_SIZE = 5 * 1024 * 1024  # S3's smallest part: a long write holds one (and a chunk) in memory
BUCKET_CACHE_S = 2.0  # how long a bucket found (and its owner and policy) is taken as known
MAX_REMOTE_BUCKET = 63
_PREFIX_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
_UPLOAD_ID_RE = re.compile(r"^[A-Za-z0-9_-]{10,100}$")
_RECORD = "openrek"  # the user-metadata field holding openrek's view of an object
_LIST_WORKERS = 16
_T = TypeVar("_T")
_ACCEPTED = "s3://<prefix>?endpoint_url=http://host:port (e.g. s3://openrek?endpoint_url=http://127.0.0.1:8333)"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RemoteLocation:
    """Where the remote store is and how openrek's buckets are named there (parsed from an s3:// URL)."""

    prefix: str
    endpoint_url: str | None = None
    region: str = "us-east-1"
    profile: str | None = None
    addressing_style: str = "path"

    @classmethod
    def from_url(cls, url: str) -> RemoteLocation:
        parts = urlsplit(url)
        prefix = parts.netloc
        if not _PREFIX_RE.match(prefix) or parts.path not in ("", "/"):
            raise ValueError(
                f"The object store location {url!r} does not name a bucket prefix: give {_ACCEPTED}; the prefix "
                "is 1 to 40 lowercase letters, digits and hyphens, beginning and ending with a letter or digit.")
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
        known = {"endpoint_url", "region", "profile", "addressing_style"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"The object store location {url!r} has unknown options {unknown}: the options are "
                             f"{sorted(known)}.")
        style = options.get("addressing_style", "path")
        if style not in ("path", "virtual", "auto"):
            raise ValueError(f"addressing_style must be path, virtual or auto, not {style!r}.")
        endpoint = options.get("endpoint_url") or None
        if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
            raise ValueError(f"endpoint_url must be an http:// or https:// URL, not {endpoint!r}.")
        return cls(prefix=prefix, endpoint_url=endpoint, region=options.get("region") or "us-east-1",
                   profile=options.get("profile") or None, addressing_style=style)

    def describe(self) -> str:
        return self.endpoint_url or f"S3 in {self.region}"


def _client(location: RemoteLocation) -> Any:
    import botocore.session
    from botocore.config import Config

    session = botocore.session.Session(profile=location.profile) if location.profile else botocore.session.Session()
    explicit = {}
    if os.environ.get("OPENREK_S3_ACCESS_KEY_ID") and os.environ.get("OPENREK_S3_SECRET_ACCESS_KEY"):
        explicit = {"aws_access_key_id": os.environ["OPENREK_S3_ACCESS_KEY_ID"],
                    "aws_secret_access_key": os.environ["OPENREK_S3_SECRET_ACCESS_KEY"],
                    "aws_session_token": os.environ.get("OPENREK_S3_SESSION_TOKEN") or None}
    elif session.get_credentials() is None:
        raise ValueError(f"No credentials for the object store at {location.describe()}: set "
                         "OPENREK_S3_ACCESS_KEY_ID and OPENREK_S3_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and "
                         "AWS_SECRET_ACCESS_KEY, or a profile) in the environment of every openrek process.")
    config = Config(s3={"addressing_style": location.addressing_style},
                    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=60,
                    max_pool_connections=32, request_checksum_calculation="when_required",
                    response_checksum_validation="when_required")
    return session.create_client("s3", region_name=location.region, endpoint_url=location.endpoint_url,
                                 config=config, **explicit)


class _Remote:
    """The botocore client, with every call's failures turned into `ObjectStoreError`s."""

    def __init__(self, location: RemoteLocation) -> None:
        self.location = location
        self.client = _client(location)

    def call(self, operation: str, **params: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

        try:
            return getattr(self.client, operation)(**params)
        except ClientError as exc:
            raise self._client_error(exc, params) from None
        except (ConnectionError, HTTPClientError) as exc:
            raise ObjectStoreError("ServiceUnavailable", f"The object store at {self.location.describe()} did not "
                                   f"answer ({exc}); try again once it is back.") from None
        except BotoCoreError as exc:
            raise ObjectStoreError("InternalError", f"The object store at {self.location.describe()} failed: "
                                   f"{exc}") from None

    def _client_error(self, exc: Any, params: dict[str, Any]) -> ObjectStoreError:
        code = str(exc.response.get("Error", {}).get("Code") or "")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        message = str(exc.response.get("Error", {}).get("Message") or code)
        if code in ("NoSuchBucket", "NoSuchKey", "NoSuchUpload", "BucketNotEmpty", "PreconditionFailed",
                    "InvalidRange", "BucketAlreadyOwnedByYou", "BucketAlreadyExists", "KeyTooLongError"):
            return ObjectStoreError(code, message)
        if code in ("404", "NotFound"):
            return ObjectStoreError("NotFound", message)
        if status == 400 and code in ("400", "BadRequest", "InvalidRequest", "InvalidArgument", "InvalidURI"):
            return ObjectStoreError("InvalidArgument", f"The object store at {self.location.describe()} cannot "
                                    f"hold the key {params.get('Key', '')!r} ({code}: {message}).")
        if code in ("SlowDown", "ServiceUnavailable", "503") or status == 503:
            return ObjectStoreError("ServiceUnavailable", f"The object store at {self.location.describe()} is "
                                    f"busy or unavailable ({code}); try again.")
        return ObjectStoreError("InternalError", f"The object store at {self.location.describe()} refused "
                                f"{params.get('Bucket', '')}/{params.get('Key', '')}: {code}: {message}")


class _RemoteReader(SizedReader):
    """A remote object's stored bytes as a seekable stream: reads continue one ranged GET until a seek
    moves elsewhere; every GET names the ETag it started with, so a rewritten object fails the read instead
    of mixing two versions."""

    def __init__(self, remote: _Remote, bucket: str, key: str, size: int, etag: str, body: Any = None) -> None:
        super().__init__()
        self._remote, self._bucket, self._key, self._etag = remote, bucket, key, etag
        self.size = size
        self._pos = 0
        self._body, self._body_pos = body, 0

    def _drop_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._pos >= self.size or len(buffer) == 0:
            return 0
        if self._body is None or self._body_pos != self._pos:
            self._drop_body()
            try:
                answer = self._remote.call("get_object", Bucket=self._bucket, Key=self._key, IfMatch=self._etag,
                                           Range=f"bytes={self._pos}-")
            except ObjectStoreError as exc:
                if exc.code in ("PreconditionFailed", "NoSuchKey"):
                    raise ObjectStoreError("InternalError", "The object was replaced or deleted while it was "
                                           "being read; read it again.", key=self._key) from None
                raise
            self._body, self._body_pos = answer["Body"], self._pos
        try:
            data = self._body.read(min(len(buffer), self.size - self._pos))
        except Exception as exc:  # the connection broke mid-body
            self._drop_body()
            raise ObjectStoreError("ServiceUnavailable", f"Reading from the object store at "
                                   f"{self._remote.location.describe()} broke off ({exc}).") from None
        if not data:
            self._drop_body()
            raise ObjectStoreError("InternalError", "The object store ended the object early.", key=self._key)
        buffer[:len(data)] = data
        self._pos += len(data)
        self._body_pos = self._pos
        return len(data)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = max(0, self.size - self._pos)
        out = bytearray()
        while len(out) < size and self._pos < self.size:
            chunk = bytearray(min(size - len(out), 1024 * 1024))
            n = self.readinto(chunk)
            out += chunk[:n]
        return bytes(out)

    def readall(self) -> bytes:
        return self.read(-1)

    def close(self) -> None:
        if not self.closed:
            self._drop_body()
        super().close()


class _BucketGuards:
    """Per-bucket shared/exclusive guards within this process: writes into a bucket share its guard, its
    deletion holds it alone, so a write acknowledged here is never deleted with its bucket (the remote
    store's own emptiness check can race a write that lands while it deletes)."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._writers: dict[str, int] = {}
        self._deleting: set[str] = set()

    @contextlib.contextmanager
    def writing(self, bucket: str) -> Iterator[None]:
        with self._lock:
            self._lock.wait_for(lambda: bucket not in self._deleting)
            self._writers[bucket] = self._writers.get(bucket, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._writers[bucket] -= 1
                if not self._writers[bucket]:
                    del self._writers[bucket]
                self._lock.notify_all()

    @contextlib.contextmanager
    def deleting(self, bucket: str) -> Iterator[None]:
        with self._lock:
            self._lock.wait_for(lambda: bucket not in self._deleting and not self._writers.get(bucket))
            self._deleting.add(bucket)
        try:
            yield
        finally:
            with self._lock:
                self._deleting.discard(bucket)
                self._lock.notify_all()


class _PartBuffer:
    """Where sealed (or clear) bytes gather until they make a part; a `SealingWriter` writes into it."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, chunk: bytes) -> int:
        self.data += chunk
        return len(chunk)

    def take(self) -> bytearray:
        """Everything gathered so far, handed over without a copy."""
        out, self.data = self.data, bytearray()
        return out

    def close(self) -> None:
        pass


_FOLDER_MARKER = ".#"  # the remote name of an empty last segment (a folder-marker key such as "photos/")


def remote_key(key: str) -> str:
    """The remote key of openrek's `key`: "." becomes ".!" and "/" becomes ".~/", so every folder's remote
    name ends in ".~" and never equals an object's (the keys "a" and "a/b" both exist); a key ending in "/"
    gets the name ".#" in its folder (stores built on a file tree keep no bytes for "photos/" itself).

    The code is prefix-free and keeps UTF-8 byte order, so a store that lists its tree depth-first in name
    order (SeaweedFS, MinIO) lists in S3's key order, and prefixes and start-after keys carry over as they
    are. Only a folder marker can list out of place: after siblings that start with a character below "."."""
    encoded = key.replace(".", ".!").replace("/", ".~/")
    return encoded + _FOLDER_MARKER if encoded.endswith("/") else encoded


def _prefix_key(prefix: str) -> str:
    return prefix.replace(".", ".!").replace("/", ".~/")


def openrek_key(remote: str) -> str:
    if remote.endswith("/" + _FOLDER_MARKER) or remote == _FOLDER_MARKER:
        remote = remote[: -len(_FOLDER_MARKER)]
    return remote.replace(".~/", "/").replace(".!", ".")


def _record_of(head: dict[str, Any]) -> dict[str, Any] | None:
    raw = (head.get("Metadata") or {}).get(_RECORD)
    try:
        record = json.loads(raw) if raw else None
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _metadata_field(record: dict[str, Any]) -> dict[str, str]:
    return {_RECORD: json.dumps(record, ensure_ascii=True, separators=(",", ":"), sort_keys=True)}


class S3ObjectStore(StoreViews, ObjectStore):
    """openrek's buckets on a remote S3-compatible store; see the module docstring for the mapping."""

    _list_page = 1000  # keys per remote listing page

    def __init__(self, location: RemoteLocation, keys: DataKeys | None = None,
                 default_encryption: Encryption | None = None) -> None:
        self.location = location
        self.keys = keys
        self.default_encryption = default_encryption or (Encryption() if keys is not None else None)
        self._remote = _Remote(location)
        self._check: AccessCheck | None = None
        self._buckets_seen: dict[str, tuple[float, dict[str, Any]]] = {}  # shared by the views
        self._guards = _BucketGuards()  # shared by the views
        self._meta = f"{location.prefix}--meta"
        self._ensure_remote_bucket(self._meta)

    @classmethod
    def from_url(cls, url: str, keys: DataKeys | None = None) -> S3ObjectStore:
        return cls(RemoteLocation.from_url(url), keys=keys)

    # ---- names

    def max_bucket_name(self) -> int:
        return MAX_REMOTE_BUCKET - len(self.location.prefix) - 1

    def _remote_name(self, bucket: str) -> str | None:
        """The remote bucket holding openrek's `bucket`, or None when no such bucket could exist."""
        try:
            validate_bucket_name(bucket)
        except InvalidBucketName:
            return None
        name = f"{self.location.prefix}-{'-' + bucket[1:] if is_internal_bucket(bucket) else bucket}"
        return name if len(name) <= MAX_REMOTE_BUCKET else None

    def _bucket(self, bucket: str) -> str:
        name = self._remote_name(bucket)
        if name is None:
            raise NoSuchBucket(f"The bucket {bucket!r} does not exist.", bucket=bucket)
        return name

    def _ensure_remote_bucket(self, name: str) -> None:
        try:
            self._remote.call("create_bucket", Bucket=name)
        except ObjectStoreError as exc:
            if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    # ---- error translation with openrek's names

    def _translated(self, exc: ObjectStoreError, bucket: str, key: str | None = None) -> ObjectStoreError:
        if exc.code == "NoSuchBucket":
            return NoSuchBucket(f"The bucket {bucket!r} does not exist.", bucket=bucket)
        if exc.code in ("NoSuchKey", "NotFound") and key is not None:
            return NoSuchKey(f"The key {key!r} does not exist in the bucket {bucket!r}.", bucket=bucket, key=key)
        if exc.code == "KeyTooLongError":
            return KeyTooLongError(f"The object store at {self.location.describe()} keeps keys as paths whose "
                                   "'/'-separated segments are at most 255 bytes (each '.' counts twice): use "
                                   "shorter segments.", bucket=bucket, key=key)
        if exc.code == "BucketNotEmpty":
            return BucketNotEmpty(f"The bucket {bucket!r} is not empty: delete its objects first.", bucket=bucket)
        exc.bucket, exc.key = bucket, key
        return exc

    def _call(self, bucket: str, key: str | None, operation: str, **params: Any) -> Any:
        try:
            return self._remote.call(operation, **params)
        except ObjectStoreError as exc:
            raise self._translated(exc, bucket, key) from None

    # ---- bucket records

    def _record_key(self, bucket: str) -> str:
        return f"buckets/{bucket}"

    def _read_json(self, key: str) -> dict[str, Any] | None:
        try:
            answer = self._remote.call("get_object", Bucket=self._meta, Key=key)
        except ObjectStoreError as exc:
            if exc.code in ("NoSuchKey", "NotFound"):
                return None
            raise
        with answer["Body"] as body:
            try:
                doc = json.loads(body.read())
            except ValueError:
                return None
        return doc if isinstance(doc, dict) else None

    def _write_json(self, key: str, doc: dict[str, Any]) -> None:
        self._remote.call("put_object", Bucket=self._meta, Key=key, Body=json.dumps(doc).encode(),
                          ContentType="application/json")

    # ---- buckets

    def create_bucket(self, bucket: str, owner: str | None = None) -> None:
        validate_bucket_name(bucket)
        name = self._remote_name(bucket)
        if name is None:
            raise InvalidBucketName(
                f"The bucket name {bucket!r} is too long for this openrek: its object store keeps each bucket "
                f"as the remote bucket {self.location.prefix!r}-<name>, so names are at most "
                f"{self.max_bucket_name()} characters.", bucket=bucket)
        try:
            self._remote.call("create_bucket", Bucket=name)
        except ObjectStoreError as exc:
            if exc.code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise BucketAlreadyOwnedByYou(f"The bucket {bucket!r} already exists and is yours.",
                                              bucket=bucket) from None
            raise self._translated(exc, bucket) from None
        record: dict[str, Any] = {"created": _now().isoformat()}
        if owner:
            record["owner"] = owner
        self._write_json(self._record_key(bucket), record)
        self._buckets_seen.pop(bucket, None)

    def _bucket_record(self, bucket: str) -> dict[str, Any] | None:
        """The bucket's record ({} when it has none), or None when the bucket does not exist. Every object
        access asks (existence, owner, policy), so what was found is kept for `BUCKET_CACHE_S`: another
        server's policy change shows here that much later. A missing bucket is never kept, so a bucket
        another server just created is found at once."""
        now = time.monotonic()
        hit = self._buckets_seen.get(bucket)
        if hit is not None and now - hit[0] < BUCKET_CACHE_S:
            return hit[1]
        name = self._remote_name(bucket)
        if name is None:
            return None
        try:
            self._remote.call("head_bucket", Bucket=name)
        except ObjectStoreError as exc:
            if exc.code in ("NotFound", "NoSuchBucket"):
                self._buckets_seen.pop(bucket, None)
                return None
            raise
        record = self._read_json(self._record_key(bucket)) or {}
        self._buckets_seen[bucket] = (now, record)
        return record

    def bucket_exists(self, bucket: str) -> bool:
        return self._bucket_record(bucket) is not None

    def _require_bucket(self, bucket: str) -> None:
        if not self.bucket_exists(bucket):
            raise NoSuchBucket(f"The bucket {bucket!r} does not exist.", bucket=bucket)

    def _existing_record(self, bucket: str) -> dict[str, Any]:
        record = self._bucket_record(bucket)
        if record is None:
            raise NoSuchBucket(f"The bucket {bucket!r} does not exist.", bucket=bucket)
        return record

    def bucket_policy(self, bucket: str) -> str | None:
        policy = self._existing_record(bucket).get("policy")
        return policy if isinstance(policy, str) else None

    def set_bucket_policy(self, bucket: str, policy: str | None) -> None:
        self._buckets_seen.pop(bucket, None)
        self._require_bucket(bucket)
        record = self._read_json(self._record_key(bucket)) or {"created": _now().isoformat()}
        if policy is None:
            record.pop("policy", None)
        else:
            record["policy"] = policy
        self._write_json(self._record_key(bucket), record)
        self._buckets_seen.pop(bucket, None)

    def bucket_owner(self, bucket: str) -> str | None:
        owner = self._existing_record(bucket).get("owner")
        return owner if isinstance(owner, str) else None

    def delete_bucket(self, bucket: str) -> None:
        with self._guards.deleting(bucket):
            self._delete_bucket(bucket)

    def _delete_bucket(self, bucket: str) -> None:
        name = self._bucket(bucket)
        self._require_bucket(bucket)
        if self._call(bucket, None, "list_objects_v2", Bucket=name, MaxKeys=1).get("KeyCount", 0):
            raise BucketNotEmpty(f"The bucket {bucket!r} is not empty: delete its objects first.", bucket=bucket)
        for upload in self.list_multipart_uploads(bucket):
            self._delete_upload(upload.upload_id)
        self._buckets_seen.pop(bucket, None)
        self._call(bucket, None, "delete_bucket", Bucket=name)  # the remote refuses it if a write just landed
        self._buckets_seen.pop(bucket, None)
        self._remote.call("delete_object", Bucket=self._meta, Key=self._record_key(bucket))

    def list_buckets(self) -> list[BucketInfo]:
        mine = f"{self.location.prefix}-"
        found = []
        for entry in self._remote.call("list_buckets").get("Buckets", []):
            name = str(entry["Name"])
            if not name.startswith(mine) or name.startswith(mine + "-"):
                continue
            bucket = name[len(mine):]
            if self._remote_name(bucket) == name:
                found.append((bucket, entry.get("CreationDate")))
        records = self._map(lambda item: self._read_json(self._record_key(item[0])) or {}, found)
        out = []
        for (bucket, remote_created), record in zip(found, records, strict=True):
            try:
                created = datetime.fromisoformat(record["created"])
            except (KeyError, TypeError, ValueError):
                created = remote_created or _now()
            owner = record.get("owner")
            out.append(BucketInfo(name=bucket, created=created, owner=owner if isinstance(owner, str) else None))
        out.sort(key=lambda b: b.name)
        return out

    # ---- writing

    def _upload(self, remote_bucket: str, remote_key: str, data: bytes | BinaryIO | Iterator[bytes],
                encryption: Encryption | None, content_type: str | None, metadata: dict[str, str] | None,
                etag: str | None = None) -> dict[str, Any]:
        """Write `data` (sealed as `encryption` says) to the remote object; return its record. `etag`
        overrides the md5 of the plaintext (a completed multipart upload's)."""
        buffer = _PartBuffer()
        writer: Any = buffer if encryption is None else SealingWriter(buffer, self.keys, encryption)  # type: ignore[arg-type]
        record: dict[str, Any] = {"content_type": content_type or DEFAULT_CONTENT_TYPE,
                                  "metadata": dict(metadata or {}), "last_modified": _now().isoformat()}
        if encryption is not None:
            record["encryption"] = encryption.to_json()
        md5, size = hashlib.md5(), 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        target = {"Bucket": remote_bucket, "Key": remote_key}
        try:
            for chunk in iter_chunks(data):
                md5.update(chunk)
                size += len(chunk)
                writer.write(chunk)
                if len(buffer.data) >= PART_SIZE:
                    if upload_id is None:
                        upload_id = self._remote.call(
                            "create_multipart_upload", ContentType=record["content_type"],
                            Metadata=_metadata_field({**record, "pending": True}), **target)["UploadId"]
                    number = len(parts) + 1
                    answer = self._remote.call("upload_part", UploadId=upload_id, PartNumber=number,
                                               Body=buffer.take(), **target)
                    parts.append({"PartNumber": number, "ETag": answer["ETag"]})
            writer.close()
            record.update(size=size, etag=etag or quote_etag(md5.hexdigest()),
                          last_modified=_now().isoformat())
            if upload_id is None:
                self._remote.call("put_object", Body=bytes(buffer.data), ContentType=record["content_type"],
                                  Metadata=_metadata_field(record), **target)
                return record
            if buffer.data:  # else the last full part was the end
                number = len(parts) + 1
                answer = self._remote.call("upload_part", UploadId=upload_id, PartNumber=number,
                                           Body=buffer.take(), **target)
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
            self._remote.call("complete_multipart_upload", UploadId=upload_id,
                              MultipartUpload={"Parts": parts}, **target)
            upload_id = None
        except BaseException:
            if upload_id is not None:
                try:
                    self._remote.call("abort_multipart_upload", UploadId=upload_id, **target)
                except ObjectStoreError:
                    pass  # the remote store drops abandoned uploads by its own lifecycle rules
            raise
        # The etag is known only now: record it by copying the object onto itself (server-side).
        self._remote.call("copy_object", CopySource={"Bucket": remote_bucket, "Key": remote_key},
                          MetadataDirective="REPLACE", ContentType=record["content_type"],
                          Metadata=_metadata_field(record), **target)
        return record

    def put_object(self, bucket: str, key: str, data: bytes | BinaryIO, content_type: str | None = None,
                   metadata: dict[str, str] | None = None, encryption: Encryption | None = None) -> ObjectInfo:
        name = self._bucket(bucket)
        validate_key(key, bucket)
        self._permit("s3:PutObject", bucket, key)
        encryption = self._encryption(encryption)
        try:
            with self._guards.writing(bucket):
                record = self._upload(name, remote_key(key), data, encryption, content_type, metadata)
        except ObjectStoreError as exc:
            raise self._translated(exc, bucket) from None
        return self._info(bucket, key, record)

    # ---- reading

    def _info(self, bucket: str, key: str, record: dict[str, Any]) -> ObjectInfo:
        try:
            last_modified = datetime.fromisoformat(record["last_modified"])
        except (KeyError, TypeError, ValueError):
            last_modified = _now()
        return ObjectInfo(bucket=bucket, key=key, size=int(record["size"]), etag=str(record["etag"]),
                          last_modified=last_modified,
                          content_type=str(record.get("content_type") or DEFAULT_CONTENT_TYPE),
                          metadata={str(k): str(v) for k, v in (record.get("metadata") or {}).items()},
                          encryption=Encryption.from_json(record.get("encryption")))

    def _record_from(self, remote_bucket: str, key: str, head: dict[str, Any]) -> dict[str, Any]:
        """openrek's record of an object from its remote head: as written, or, for an object written by
        someone else or whose record has not landed yet, derived from the object itself."""
        record = _record_of(head)
        if record is not None and not record.get("pending"):
            return record
        derived: dict[str, Any] = dict(record or {})
        derived.setdefault("content_type", head.get("ContentType") or DEFAULT_CONTENT_TYPE)
        derived.setdefault("metadata", {} if record is not None else dict(head.get("Metadata") or {}))
        last = head.get("LastModified")
        derived.setdefault("last_modified", last.isoformat() if isinstance(last, datetime) else _now().isoformat())
        derived["etag"] = str(head.get("ETag") or '""')
        stored = int(head.get("ContentLength") or 0)
        if derived.get("encryption") is None:
            derived["size"] = stored
        else:
            raw = _RemoteReader(self._remote, remote_bucket, key, stored, derived["etag"])
            with SealedReader(raw, self.keys) as plain:  # type: ignore[arg-type]
                derived["size"] = plain.size
        return derived

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        name = self._bucket(bucket)
        self._permit("s3:GetObject", bucket, key)
        try:
            head = self._remote.call("head_object", Bucket=name, Key=remote_key(key))
        except ObjectStoreError as exc:
            if exc.code == "InvalidArgument":  # a key the remote store could never have stored
                exc = ObjectStoreError("NoSuchKey", exc.message)
            if exc.code in ("NotFound", "NoSuchKey"):
                self._require_bucket(bucket)
            raise self._translated(exc, bucket, key) from None
        return self._info(bucket, key, self._record_from(name, remote_key(key), head))

    def open_object(self, bucket: str, key: str) -> tuple[ObjectInfo, BinaryIO]:
        name = self._bucket(bucket)
        self._permit("s3:GetObject", bucket, key)
        try:
            record, stream = self._open(name, remote_key(key))
        except ObjectStoreError as exc:
            if exc.code == "InvalidArgument":  # a key the remote store could never have stored
                exc = ObjectStoreError("NoSuchKey", exc.message)
            raise self._translated(exc, bucket, key) from None
        return self._info(bucket, key, record), stream

    def _open(self, remote_bucket: str, key: str) -> tuple[dict[str, Any], BinaryIO]:
        """The record and plaintext stream of a remote object; the caller closes the stream."""
        answer = self._remote.call("get_object", Bucket=remote_bucket, Key=key)
        try:
            record = self._record_from(remote_bucket, key, answer)
            raw = _RemoteReader(self._remote, remote_bucket, key, int(answer.get("ContentLength") or 0),
                                str(answer.get("ETag") or ""), body=answer["Body"])
        except BaseException:
            answer["Body"].close()
            raise
        if record.get("encryption") is None:
            return record, raw  # type: ignore[return-value]
        if self.keys is None:
            raw.close()
            raise InvalidArgument("This object is encrypted at rest, and this store has no keys to read it.")
        return record, SealedReader(raw, self.keys)  # type: ignore[arg-type,return-value]

    def delete_object(self, bucket: str, key: str) -> None:
        name = self._bucket(bucket)
        self._call(bucket, key, "delete_object", Bucket=name, Key=remote_key(key))

    def _map(self, fn: Callable[[Any], _T], items: list[Any]) -> list[_T]:
        if len(items) <= 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(min(_LIST_WORKERS, len(items))) as pool:
            return list(pool.map(fn, items))

    def _heads(self, remote_bucket: str, keys: list[str]) -> list[dict[str, Any] | None]:
        def head(key: str) -> dict[str, Any] | None:
            try:
                answer = self._remote.call("head_object", Bucket=remote_bucket, Key=key)
            except ObjectStoreError as exc:
                if exc.code in ("NotFound", "NoSuchKey"):
                    return None  # deleted while we listed
                raise
            return self._record_from(remote_bucket, key, answer)

        return self._map(head, keys)

    def _list_keys(self, remote_bucket: str, prefix: str, start_after: str) -> Iterator[list[str]]:
        params: dict[str, Any] = {"Bucket": remote_bucket, "Prefix": prefix, "MaxKeys": self._list_page}
        if start_after:
            params["StartAfter"] = start_after
        while True:
            page = self._remote.call("list_objects_v2", **params)
            yield [str(item["Key"]) for item in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                return
            params.pop("StartAfter", None)
            params["ContinuationToken"] = page["NextContinuationToken"]

    def list_objects(self, bucket: str, prefix: str = "", start_after: str = "") -> Iterator[ObjectInfo]:
        name = self._bucket(bucket)
        self._require_bucket(bucket)
        return self._list(bucket, name, prefix, start_after)

    def _list(self, bucket: str, name: str, prefix: str, start_after: str) -> Iterator[ObjectInfo]:
        try:
            for keys in self._list_keys(name, _prefix_key(prefix), _prefix_key(start_after)):
                for key, record in zip(keys, self._heads(name, keys), strict=True):
                    mine = openrek_key(key)
                    if record is not None and mine > start_after:  # a folder marker may list out of place
                        yield self._info(bucket, mine, record)
        except ObjectStoreError as exc:
            raise self._translated(exc, bucket) from None

    # ---- multipart uploads (openrek's own: parts are sealed objects in the records bucket)

    def _upload_prefix(self, upload_id: str) -> str:
        return f"uploads/{upload_id}/"

    def _upload_record(self, bucket: str, key: str, upload_id: str) -> dict[str, Any]:
        self._require_bucket(bucket)
        record = self._read_json(self._upload_prefix(upload_id) + "upload.json") \
            if _UPLOAD_ID_RE.match(upload_id or "") else None
        if record is None or record.get("bucket") != bucket or record.get("key") != key:
            raise NoSuchUpload(
                f"There is no multipart upload {upload_id!r} for key {key!r} in bucket {bucket!r}; "
                "it may have been completed or aborted.", bucket=bucket, key=key)
        return record

    def create_multipart_upload(self, bucket: str, key: str, content_type: str | None = None,
                                metadata: dict[str, str] | None = None, encryption: Encryption | None = None) -> str:
        self._bucket(bucket)
        validate_key(key, bucket)
        self._require_bucket(bucket)
        encryption = self._encryption(encryption)
        upload_id = secrets.token_urlsafe(32)
        record: dict[str, Any] = {"bucket": bucket, "key": key, "content_type": content_type,
                                  "metadata": dict(metadata or {}), "initiated": _now().isoformat()}
        if encryption is not None:
            record["encryption"] = encryption.to_json()
        self._write_json(self._upload_prefix(upload_id) + "upload.json", record)
        return upload_id

    def upload_encryption(self, bucket: str, key: str, upload_id: str) -> Encryption | None:
        return Encryption.from_json(self._upload_record(bucket, key, upload_id).get("encryption"))

    def upload_part(self, bucket: str, key: str, upload_id: str, part_number: int,
                    data: bytes | BinaryIO) -> str:
        record = self._upload_record(bucket, key, upload_id)
        if not 1 <= part_number <= MAX_PART_NUMBER:
            raise InvalidArgument(f"Part number must be an integer between 1 and {MAX_PART_NUMBER}.",
                                  bucket=bucket, key=key)
        part_key = f"{self._upload_prefix(upload_id)}part-{part_number:05d}"
        written = self._upload(self._meta, part_key, data, Encryption.from_json(record.get("encryption")),
                               None, None)
        if self._read_json(self._upload_prefix(upload_id) + "upload.json") is None:  # aborted meanwhile
            self._remote.call("delete_object", Bucket=self._meta, Key=part_key)
            raise NoSuchUpload(f"The multipart upload {upload_id!r} was aborted or completed.",
                               bucket=bucket, key=key)
        return str(written["etag"])

    def _stored_parts(self, upload_id: str) -> dict[int, tuple[str, dict[str, Any]]]:
        """{part number: (remote key, record)} of an upload's parts."""
        prefix = self._upload_prefix(upload_id) + "part-"
        out: dict[int, tuple[str, dict[str, Any]]] = {}
        for keys in self._list_keys(self._meta, prefix, ""):
            for key, record in zip(keys, self._heads(self._meta, keys), strict=True):
                if record is not None and key[len(prefix):].isdigit():
                    out[int(key[len(prefix):])] = (key, record)
        return out

    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]:
        self._upload_record(bucket, key, upload_id)
        return [PartInfo(part_number=n, size=int(rec["size"]), etag=str(rec["etag"]),
                         last_modified=self._info(bucket, key, rec).last_modified)
                for n, (_, rec) in sorted(self._stored_parts(upload_id).items())]

    def complete_multipart_upload(self, bucket: str, key: str, upload_id: str,
                                  parts: list[tuple[int, str]]) -> ObjectInfo:
        record = self._upload_record(bucket, key, upload_id)
        stored = self._stored_parts(upload_id)
        numbers = parts_to_complete(bucket, key, parts, {n: (str(rec["etag"]).strip('"'), int(rec["size"]))
                                                         for n, (_, rec) in stored.items()})
        encryption = Encryption.from_json(record.get("encryption"))
        name = self._bucket(bucket)

        def plaintext() -> Iterator[bytes]:
            for n in numbers:
                try:
                    _, stream = self._open(self._meta, stored[n][0])
                except ObjectStoreError as exc:
                    if exc.code != "NoSuchKey":
                        raise
                    raise NoSuchUpload(f"The multipart upload {upload_id!r} was aborted or completed meanwhile.",
                                       bucket=bucket, key=key) from None
                with stream:
                    yield from iter_chunks(stream)

        etag = multipart_etag([str(stored[n][1]["etag"]).strip('"') for n in numbers])
        try:
            with self._guards.writing(bucket):
                written = self._upload(name, remote_key(key), plaintext(), encryption,
                                       record.get("content_type"), record.get("metadata"), etag=etag)
        except ObjectStoreError as exc:
            raise self._translated(exc, bucket) from None
        self._delete_upload(upload_id)
        return self._info(bucket, key, written)

    def _delete_upload(self, upload_id: str) -> None:
        prefix = self._upload_prefix(upload_id)
        # The record first: from then on the upload is gone for everyone, whatever happens to its parts.
        self._remote.call("delete_object", Bucket=self._meta, Key=prefix + "upload.json")
        for keys in self._list_keys(self._meta, prefix, ""):
            if keys:
                self._remote.call("delete_objects", Bucket=self._meta,
                                  Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self._upload_record(bucket, key, upload_id)
        self._delete_upload(upload_id)

    def list_multipart_uploads(self, bucket: str, prefix: str = "") -> list[UploadInfo]:
        self._require_bucket(bucket)
        ids: list[str] = []
        params: dict[str, Any] = {"Bucket": self._meta, "Prefix": "uploads/", "Delimiter": "/"}
        while True:
            page = self._remote.call("list_objects_v2", **params)
            ids += [str(p["Prefix"])[len("uploads/"):-1] for p in page.get("CommonPrefixes", [])]
            if not page.get("IsTruncated"):
                break
            params["ContinuationToken"] = page["NextContinuationToken"]
        records = self._map(lambda upload_id: self._read_json(self._upload_prefix(upload_id) + "upload.json"), ids)
        out = []
        for upload_id, record in zip(ids, records, strict=True):
            if not record or record.get("bucket") != bucket or not str(record.get("key", "")).startswith(prefix):
                continue
            try:
                initiated = datetime.fromisoformat(record["initiated"])
            except (KeyError, TypeError, ValueError):
                initiated = _now()
            out.append(UploadInfo(bucket=bucket, key=str(record["key"]), upload_id=upload_id, initiated=initiated))
        out.sort(key=lambda u: (u.key, u.initiated))
        return out
