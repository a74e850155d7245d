"""Object storage: the `ObjectStore` interface, its typed errors, and `DirectoryObjectStore`, the embedded default.

`ObjectStore` is the whole contract the service and the S3 wire layer rely on; a remote S3-compatible store
(MinIO, Ceph, AWS itself, through boto3) can implement the same ABC later and be chosen in `config.py`.
Keys and bucket names follow S3: keys are any non-empty UTF-8 string up to 1024 bytes and are listed in UTF-8
binary order (the same as Python's code-point order for `str`); errors carry S3's error codes.

On-disk layout of `DirectoryObjectStore(root)`::

    <root>/<bucket>/                      one directory per bucket (internal buckets start with ".")
    <root>/<bucket>/<d1>%2F/<d2>%2F/<f>   the object's bytes, for key "d1/d2/f"
    <root>/.meta/<bucket>/<d1>%2F/<f>.json    its sidecar: etag, size, content type, user metadata
    <root>/.meta/_buckets/<bucket>.json   the bucket's creation date ("_" never occurs in bucket names)
    <root>/.meta/_locks/<bucket>          the bucket's lock file (flock): writes into the bucket share it,
                                          creating or deleting the bucket holds it alone
    <root>/.uploads/<upload id>/          an in-progress multipart upload: upload.json, part-00001-<md5>-<size>
    <root>/.tmp/                          temporary files, renamed into place with os.replace, named after the
                                          process writing them: what a crashed or killed one left there is
                                          removed as soon as a store opens the root

A key is split on "/". Every segment but the last names a directory, written as the encoded segment plus
"%2F" (the escaped "/"), and the last names a file, written as the encoded segment. Encoding percent-escapes
"%", control characters, characters Windows forbids, and a leading "." (so ".", ".." and hidden names never
appear), and leaves other characters, non-ASCII included, as they are; an empty last segment (a folder-marker
key such as "photos/") is the file "%". Directory names therefore always end in "%2F" and file names never do,
so the keys "a" and "a/b" can both exist, and each disk name decodes back to exactly one key. An encoded
segment must fit a file name (255 bytes with its suffix), else `KeyTooLongError`. Case-insensitive file
systems (default macOS, Windows) would merge keys that differ only in case: use a case-sensitive one.

A store given `keys` seals every object's bytes (and every part of an upload) as it writes them: see
`openrek.store.sealed_files`. The sidecar then records the plaintext's size and md5 beside the stored size.

Writes stream into `.tmp/`, then the sidecar and the data file are each moved into place with `os.replace`,
so a reader sees the old object or the new one, never half of one. The sidecar records the data file's inode;
a sidecar that does not match its data file (a crash between the two renames, or two writers racing) is
ignored and the etag is recomputed from the bytes. Readers (GET, HEAD, listings) hold the data file open while
they read its sidecar, so its inode cannot be freed and reused by a later write meanwhile: an etag and a size
always come from one write. A write into a bucket and the bucket's deletion exclude each other (the bucket's
lock), so an acknowledged object is never deleted with its bucket and a deleted bucket never comes back;
a deletion renames the bucket's directory away first, so it is gone at once. Directories left empty by a
delete are removed; a writer that loses the race with that removal recreates the directory and retries.
Everything is safe to call from many threads, and from several processes sharing one root.
"""

from __future__ import annotations

import abc
import contextlib
import copy
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # not POSIX: bucket locks then hold between the threads of one process only
    fcntl = None  # type: ignore[assignment]

from openrek.store.sealed_files import (
    PEEK_BYTES,
    DataKeys,
    Encryption,
    SealedReader,
    SealingWriter,
    looks_sealed,
)

DEFAULT_CONTENT_TYPE = "binary/octet-stream"  # what S3 reports when a client sent none
AccessCheck = Callable[[str, str, str], None]  # (action, bucket, key); raises AccessDenied
MAX_KEY_BYTES = 1024
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10000
_COPY_CHUNK = 1024 * 1024


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Temp files are created 0600; stored objects get the usual mode for new files instead.
_FILE_MODE = 0o666 & ~_current_umask()

# Which process writes a temp file rides in its name: "<kind>-<pid>-<incarnation>-<random>". A store that
# opens the root removes the temp files of writers that are gone (a crash, kill -9) at once: those whose
# process is not alive, and those of an earlier process that had this one's pid (a restarted container's
# server is often pid 1 again). The incarnation is drawn once per process (a forked child has another pid).
_INCARNATION = secrets.token_hex(4)
_TEMP_NAME = re.compile(r"[a-z]+-([0-9]{1,10})-([0-9a-f]{8})-")


def _temp_prefix(kind: str) -> str:
    return f"{kind}-{os.getpid()}-{_INCARNATION}-"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or a pid we cannot ask about: assume it writes
    return True


def _temp_owner_gone(name: str) -> bool | None:
    """True if the temp file `name` belongs to a writer that is gone, False if it may still be written,
    None if its name does not say (a file from before names carried their writer)."""
    m = _TEMP_NAME.match(name)
    if m is None:
        return None
    pid, incarnation = int(m.group(1)), m.group(2)
    if pid == os.getpid():
        return incarnation != _INCARNATION
    return not _process_alive(pid)


# --------------------------------------------------------------------------------------------------- errors


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


# ---------------------------------------------------------------------------------------------- data types


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


# ----------------------------------------------------------------------------------------------- interface


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



# -------------------------------------------------------------------------------------------- validation

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


# ------------------------------------------------------------------------------------------ key <-> paths

_DIR_SUFFIX = "%2F"
_EMPTY_FILE = "%"
_META_SUFFIX = ".json"
_MAX_NAME_BYTES = 255
_MAX_PATH_BYTES = 4096  # PATH_MAX on Linux, the terminating NUL included
_UNSAFE = frozenset('%\\:*?"<>|') | {chr(c) for c in range(0x20)} | {"\x7f"}
_ESCAPE_RE = re.compile(r"%([0-9A-F]{2})")


def _encode_segment(segment: str) -> str:
    out = []
    for i, ch in enumerate(segment):
        if ch in _UNSAFE or (i == 0 and ch == "."):
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


def _decode_segment(name: str) -> str:
    # Every escape is of an ASCII character, so the escapes decode one byte -> one character.
    return _ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), name)


def _file_name(segment: str) -> str:
    return _EMPTY_FILE if segment == "" else _encode_segment(segment)


def _dir_name(segment: str) -> str:
    return _encode_segment(segment) + _DIR_SUFFIX


def _key_parts(bucket: str, key: str) -> list[str]:
    """The relative path components (directories, then the file) that hold `key`."""
    validate_key(key, bucket)
    segments = key.split("/")
    parts = [_dir_name(s) for s in segments[:-1]] + [_file_name(segments[-1])]
    for part in parts:
        if len(part.encode("utf-8")) + len(_META_SUFFIX) > _MAX_NAME_BYTES:
            raise KeyTooLongError(
                "One '/'-separated segment of the key is too long for a file name on this object store "
                f"(at most about {_MAX_NAME_BYTES - 10} bytes once escaped); use shorter segments.",
                bucket=bucket, key=key)
    return parts


# ------------------------------------------------------------------------------------------ small helpers


def _now() -> datetime:
    return datetime.now(UTC)


def _from_timestamp(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _quote(hex_digest: str) -> str:
    return f'"{hex_digest}"'


def _normalize_etag(etag: str) -> str:
    etag = etag.strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"')


def _write_json_atomic(path: Path, obj: object, tmp_dir: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix=_temp_prefix("json"))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f)
        _replace_into(Path(tmp), path)
    except BaseException:
        _unlink_quietly(Path(tmp))
        raise


def _replace_into(tmp: Path, dest: Path, attempts: int = 20) -> None:
    """os.replace(tmp, dest), creating dest's parents; retries if a concurrent delete removes them."""
    for _ in range(attempts):
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dest)
            return
        except (FileNotFoundError, FileExistsError):
            # A concurrent delete pruned a directory on the way (mkdir saw it, then it was gone).
            if not tmp.exists():
                raise
    raise OSError(f"could not move {tmp} into {dest}: its directory kept disappearing")


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _read_json(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _iter_chunks(data: bytes | BinaryIO) -> Iterator[bytes]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        yield bytes(data)
        return
    while True:
        chunk = data.read(_COPY_CHUNK)
        if not chunk:
            return
        yield chunk


# --------------------------------------------------------------------------------- the directory store


class DirectoryObjectStore(ObjectStore):
    """Objects as files under `root`; see the module docstring for the layout and its guarantees.

    With `keys`, every object is sealed at rest (`openrek.store.sealed_files`): under `default_encryption`
    (S3-managed `AES256` unless told otherwise) or the encryption a write names. Without `keys` objects are
    kept in the clear (tests of the layout, tools). Objects stored in the clear stay readable either way.
    """

    def __init__(self, root: Path | str, keys: DataKeys | None = None,
                 default_encryption: Encryption | None = None) -> None:
        self.root = Path(root)
        self.keys = keys
        self.default_encryption = default_encryption or (Encryption() if keys is not None else None)
        self._check: AccessCheck | None = None
        self._meta = self.root / ".meta"
        self._uploads = self.root / ".uploads"
        self._tmp = self.root / ".tmp"
        self._bucket_locks = self._meta / "_locks"  # "_" never occurs in bucket names
        for d in (self.root, self._meta, self._uploads, self._tmp, self._bucket_locks):
            d.mkdir(parents=True, exist_ok=True)
        self._locks = [threading.Lock() for _ in range(64)]
        self._thread_bucket_locks = [threading.Lock() for _ in range(16)]  # without fcntl only
        self._remove_stale_temp_files()

    def acting_for(self, check: AccessCheck | None) -> DirectoryObjectStore:
        view = copy.copy(self)
        view._check = check
        return view

    def _permit(self, action: str, bucket: str, key: str) -> None:
        if self._check is not None and not is_internal_bucket(bucket):
            self._check(action, bucket, key)

    def writing_as(self, encryption: Encryption | None) -> DirectoryObjectStore:
        if encryption is None:
            return self
        self._encryption(encryption)  # a store without keys cannot
        view = copy.copy(self)  # shares the root, keys and locks
        view.default_encryption = encryption
        return view

    def _remove_stale_temp_files(self, max_age_s: float = 24 * 3600) -> None:
        """Remove what crashed or killed writers left in `.tmp/`: files (and deleted buckets' directories)
        whose writer is gone, at once, and any file a day old (a name from before names carried their
        writer, or a pid now reused by another process)."""
        cutoff = time.time() - max_age_s
        for entry in os.scandir(self._tmp):
            try:
                # A writer keeps its file fresh, so one untouched for a day is stale whoever it names
                # (its pid may since belong to another process).
                gone = _temp_owner_gone(entry.name) or entry.stat(follow_symlinks=False).st_mtime < cutoff
                if not gone:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                continue

    # ---- paths

    def _bucket_dir(self, bucket: str) -> Path:
        return self.root / bucket

    def _bucket_meta_file(self, bucket: str) -> Path:
        return self._meta / "_buckets" / f"{bucket}.json"

    def _paths(self, bucket: str, key: str) -> tuple[Path, Path]:
        """The data file and sidecar of `key`; KeyTooLongError if this store cannot hold such a key."""
        parts = _key_parts(bucket, key)
        data = self._bucket_dir(bucket).joinpath(*parts)
        meta = (self._meta / bucket).joinpath(*parts[:-1], parts[-1] + _META_SUFFIX)
        if max(len(os.fsencode(data)), len(os.fsencode(meta))) >= _MAX_PATH_BYTES:
            raise KeyTooLongError(
                "The object key has too many '/'-separated segments (or too many escaped characters) for a "
                f"path on this object store (at most {_MAX_PATH_BYTES - 1} bytes with the store's root); "
                "use fewer or shorter segments.", bucket=bucket, key=key)
        return data, meta

    def _paths_to_read(self, bucket: str, key: str) -> tuple[Path, Path] | None:
        """`_paths`, or None for a valid S3 key this store could never have stored (a segment or path too
        long for the file system): no such object exists."""
        try:
            return self._paths(bucket, key)
        except KeyTooLongError:
            if len(key.encode("utf-8")) > MAX_KEY_BYTES:
                raise  # too long for S3 itself
            return None

    def _lock_for(self, bucket: str, key: str) -> threading.Lock:
        return self._locks[hash((bucket, key)) % len(self._locks)]

    @contextlib.contextmanager
    def _bucket_guard(self, bucket: str, *, exclusive: bool) -> Iterator[None]:
        """Hold the bucket's lock: shared by the writes that put something into the bucket (an object's
        commit, a new upload), exclusive for what creates or deletes the bucket or rewrites its record.

        So a write and the bucket's deletion never overlap: a write either lands before the deletion looks
        (which then fails BucketNotEmpty) or finds the bucket gone (NoSuchBucket); an acknowledged object
        is never deleted with its bucket, and a deleted bucket is never recreated by a late write. The lock
        is an flock(2) on a file per bucket name, so it holds between the processes sharing the root (the
        server and its training workers) as between threads; each holder opens the file itself.
        """
        try:
            validate_bucket_name(bucket)  # the lock file is named after it
        except InvalidBucketName:
            raise NoSuchBucket(f"The bucket {bucket!r} does not exist.", bucket=bucket) from None
        if fcntl is None:
            lock = self._thread_bucket_locks[hash(bucket) % len(self._thread_bucket_locks)]
            with lock:
                yield
            return
        fd = os.open(self._bucket_locks / bucket, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _require_bucket(self, bucket: str) -> None:
        if not self.bucket_exists(bucket):
            raise NoSuchBucket(f"The bucket {bucket!r} does not exist.", bucket=bucket)

    # ---- buckets

    def create_bucket(self, bucket: str, owner: str | None = None) -> None:
        validate_bucket_name(bucket)
        with self._bucket_guard(bucket, exclusive=True):
            try:
                self._bucket_dir(bucket).mkdir()
            except FileExistsError:
                raise BucketAlreadyOwnedByYou(
                    f"The bucket {bucket!r} already exists and is yours.", bucket=bucket) from None
            meta: dict[str, str] = {"created": _now().isoformat()}
            if owner:
                meta["owner"] = owner
            _write_json_atomic(self._bucket_meta_file(bucket), meta, self._tmp)

    def bucket_policy(self, bucket: str) -> str | None:
        self._require_bucket(bucket)
        policy = (_read_json(self._bucket_meta_file(bucket)) or {}).get("policy")
        return policy if isinstance(policy, str) else None

    def set_bucket_policy(self, bucket: str, policy: str | None) -> None:
        with self._bucket_guard(bucket, exclusive=True):
            self._require_bucket(bucket)
            meta = dict(_read_json(self._bucket_meta_file(bucket)) or {"created": _now().isoformat()})
            if policy is None:
                meta.pop("policy", None)
            else:
                meta["policy"] = policy
            _write_json_atomic(self._bucket_meta_file(bucket), meta, self._tmp)

    def bucket_owner(self, bucket: str) -> str | None:
        self._require_bucket(bucket)
        owner = (_read_json(self._bucket_meta_file(bucket)) or {}).get("owner")
        return owner if isinstance(owner, str) else None

    def delete_bucket(self, bucket: str) -> None:
        with self._bucket_guard(bucket, exclusive=True):
            self._require_bucket(bucket)
            if next(self._walk(bucket, "", ""), None) is not None:
                raise BucketNotEmpty(
                    f"The bucket {bucket!r} is not empty: delete its objects first.", bucket=bucket)
            for upload in self.list_multipart_uploads(bucket):
                shutil.rmtree(self._uploads / upload.upload_id, ignore_errors=True)
            # One rename makes the bucket gone for every process at once; a crash after it leaves only
            # leftovers no bucket refers to (the directory in .tmp is removed when a store next opens).
            tombstone = self._tmp / f"{_temp_prefix('deleted')}{secrets.token_hex(8)}"
            os.rename(self._bucket_dir(bucket), tombstone)
            shutil.rmtree(self._meta / bucket, ignore_errors=True)
            _unlink_quietly(self._bucket_meta_file(bucket))
            shutil.rmtree(tombstone, ignore_errors=True)

    def bucket_exists(self, bucket: str) -> bool:
        try:
            validate_bucket_name(bucket)
        except InvalidBucketName:
            return False
        return self._bucket_dir(bucket).is_dir()

    def list_buckets(self) -> list[BucketInfo]:
        out = []
        for entry in sorted(os.scandir(self.root), key=lambda e: e.name):
            if is_internal_bucket(entry.name) or not entry.is_dir() or not _BUCKET_RE.match(entry.name):
                continue
            meta = _read_json(self._bucket_meta_file(entry.name)) or {}
            try:
                created = datetime.fromisoformat(meta["created"])
            except (KeyError, TypeError, ValueError):
                created = _from_timestamp(entry.stat().st_mtime)
            owner = meta.get("owner")
            out.append(BucketInfo(name=entry.name, created=created, owner=owner if isinstance(owner, str) else None))
        return out

    # ---- objects

    def _encryption(self, encryption: Encryption | None) -> Encryption | None:
        if encryption is not None and self.keys is None:
            raise InvalidArgument("This object store keeps no encryption keys, so it cannot encrypt objects.")
        return encryption or self.default_encryption

    def _spool(self, data: bytes | BinaryIO | Iterator[bytes], prefix: str,
               encryption: Encryption | None) -> tuple[Path, int, str]:
        """Write `data` (sealed as `encryption` says, if it says) to a temp file; return its path and the
        plaintext's size and md5 hex."""
        fd, tmp = tempfile.mkstemp(dir=self._tmp, prefix=_temp_prefix(prefix))
        md5 = hashlib.md5()
        size = 0
        try:
            os.fchmod(fd, _FILE_MODE)
            with os.fdopen(fd, "wb") as f:
                out = f if encryption is None else SealingWriter(f, self.keys, encryption)  # type: ignore[arg-type]
                for chunk in (_iter_chunks(data) if isinstance(data, (bytes, bytearray, memoryview))
                              or hasattr(data, "read") else data):
                    md5.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.close()
        except BaseException:
            _unlink_quietly(Path(tmp))
            raise
        return Path(tmp), size, md5.hexdigest()

    def put_object(self, bucket: str, key: str, data: bytes | BinaryIO, content_type: str | None = None,
                   metadata: dict[str, str] | None = None, encryption: Encryption | None = None) -> ObjectInfo:
        self._require_bucket(bucket)
        self._permit("s3:PutObject", bucket, key)
        data_path, meta_path = self._paths(bucket, key)
        encryption = self._encryption(encryption)
        tmp, size, md5 = self._spool(data, "put", encryption)
        return self._commit(bucket, key, tmp, size, _quote(md5), content_type, metadata, data_path, meta_path,
                            encryption)

    def _commit(self, bucket: str, key: str, tmp: Path, size: int, etag: str, content_type: str | None,
                metadata: dict[str, str] | None, data_path: Path, meta_path: Path,
                encryption: Encryption | None) -> ObjectInfo:
        info = ObjectInfo(bucket=bucket, key=key, size=size, etag=etag, last_modified=_now(),
                          content_type=content_type or DEFAULT_CONTENT_TYPE, metadata=dict(metadata or {}),
                          encryption=encryption)
        try:
            st = os.stat(tmp)
            sidecar = {"key": key, "size": size, "stored_size": st.st_size, "etag": etag, "inode": st.st_ino,
                       "last_modified": info.last_modified.isoformat(), "content_type": info.content_type,
                       "metadata": info.metadata}
            if encryption is not None:
                sidecar["encryption"] = encryption.to_json()
            with self._bucket_guard(bucket, exclusive=False), self._lock_for(bucket, key):
                if not self._bucket_dir(bucket).is_dir():
                    raise NoSuchBucket(f"The bucket {bucket!r} does not exist.", bucket=bucket)
                _write_json_atomic(meta_path, sidecar, self._tmp)
                _replace_into(tmp, data_path)
        except BaseException:
            _unlink_quietly(tmp)
            raise
        return info

    def _info_from(self, bucket: str, key: str, st: os.stat_result, meta_path: Path,
                   data_file: BinaryIO) -> ObjectInfo:
        """The info of the object whose data file is `data_file` (held open; `st` is its fstat): from the
        sidecar if that was written with this file (same inode and size), else from the bytes."""
        meta = _read_json(meta_path)
        if meta and meta.get("inode") == st.st_ino and meta.get("stored_size", meta.get("size")) == st.st_size \
                and isinstance(meta.get("size"), int):
            try:
                last_modified = datetime.fromisoformat(meta["last_modified"])
            except (KeyError, TypeError, ValueError):
                last_modified = _from_timestamp(st.st_mtime)
            return ObjectInfo(bucket=bucket, key=key, size=meta["size"], etag=str(meta.get("etag")),
                              last_modified=last_modified,
                              content_type=str(meta.get("content_type") or DEFAULT_CONTENT_TYPE),
                              metadata={str(k): str(v) for k, v in (meta.get("metadata") or {}).items()},
                              encryption=Encryption.from_json(meta.get("encryption")))
        # No sidecar, or one left by an interrupted or racing write: trust the bytes.
        # A duplicate of `data_file` shares its offset: it is rewound before `open_object` reads it.
        f = os.fdopen(os.dup(data_file.fileno()), "rb")
        with self._plaintext(f) as plain:
            md5 = hashlib.md5()
            size = 0
            for chunk in _iter_chunks(plain):
                md5.update(chunk)
                size += len(chunk)
            encryption = plain.encryption if isinstance(plain, SealedReader) else None
        data_file.seek(0)
        return ObjectInfo(bucket=bucket, key=key, size=size, etag=_quote(md5.hexdigest()),
                          last_modified=_from_timestamp(st.st_mtime), encryption=encryption)

    def _plaintext(self, f: BinaryIO) -> BinaryIO:
        """`f` (open at its start) as plaintext: decrypted when it is sealed; takes ownership of `f`."""
        try:
            sealed = looks_sealed(f.read(PEEK_BYTES))
            f.seek(0)
            if not sealed:
                return f
            if self.keys is None:
                raise InvalidArgument("This object is encrypted at rest, and this store has no keys to read it.")
        except BaseException:
            f.close()
            raise
        return SealedReader(f, self.keys)  # type: ignore[return-value]

    def _no_such_key(self, bucket: str, key: str) -> NoSuchKey:
        return NoSuchKey(f"The key {key!r} does not exist in the bucket {bucket!r}.", bucket=bucket, key=key)

    def open_object(self, bucket: str, key: str) -> tuple[ObjectInfo, BinaryIO]:
        self._require_bucket(bucket)
        self._permit("s3:GetObject", bucket, key)
        paths = self._paths_to_read(bucket, key)
        f = self._open_data(paths[0]) if paths is not None else None
        if f is None:
            raise self._no_such_key(bucket, key)
        assert paths is not None
        try:
            info = self._info_from(bucket, key, os.fstat(f.fileno()), paths[1], data_file=f)
        except BaseException:
            f.close()
            raise
        return info, self._plaintext(f)

    @staticmethod
    def _open_data(data_path: Path) -> BinaryIO | None:
        """The data file open for reading, or None if there is no object there."""
        try:
            f = open(data_path, "rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            f.close()
            return None
        return f

    def _stat_info(self, bucket: str, key: str, data_path: Path, meta_path: Path) -> ObjectInfo | None:
        """The object's info read from its data file held open, or None if there is no object there.

        Held open, the data file's inode cannot be freed and reused by a later write while its sidecar is
        read; a sidecar that names this inode was therefore written with this very file (each write moves
        its sidecar into place before its data). With only a stat, a concurrent overwrite could free the
        inode, a third write reuse it for a file of the same size, and that write's etag be paired with
        the first file's size and bytes.
        """
        f = self._open_data(data_path)
        if f is None:
            return None
        with f:
            return self._info_from(bucket, key, os.fstat(f.fileno()), meta_path, data_file=f)

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        self._require_bucket(bucket)
        self._permit("s3:GetObject", bucket, key)
        paths = self._paths_to_read(bucket, key)
        info = self._stat_info(bucket, key, *paths) if paths is not None else None
        if info is None:
            raise self._no_such_key(bucket, key)
        return info

    def delete_object(self, bucket: str, key: str) -> None:
        self._require_bucket(bucket)
        paths = self._paths_to_read(bucket, key)
        if paths is None:
            return  # no such object could exist
        data_path, meta_path = paths
        with self._lock_for(bucket, key):
            _unlink_quietly(data_path)
            _unlink_quietly(meta_path)
        self._prune_empty_dirs(data_path.parent, self._bucket_dir(bucket))
        self._prune_empty_dirs(meta_path.parent, self._meta / bucket)

    @staticmethod
    def _prune_empty_dirs(directory: Path, stop: Path) -> None:
        while directory != stop and stop in directory.parents:
            try:
                directory.rmdir()
            except OSError:  # not empty, or already gone
                return
            directory = directory.parent

    def list_objects(self, bucket: str, prefix: str = "", start_after: str = "") -> Iterator[ObjectInfo]:
        self._require_bucket(bucket)
        return self._list(bucket, prefix, start_after)

    def _list(self, bucket: str, prefix: str, start_after: str) -> Iterator[ObjectInfo]:
        meta_root = self._meta / bucket
        for key, path, _ in self._walk(bucket, prefix, start_after):
            parts = path.relative_to(self._bucket_dir(bucket)).parts
            meta_path = meta_root.joinpath(*parts[:-1], parts[-1] + _META_SUFFIX)
            info = self._stat_info(bucket, key, path, meta_path)
            if info is not None:  # else deleted while we listed
                yield info

    def _walk(self, bucket: str, prefix: str, start_after: str) -> Iterator[tuple[str, Path, os.stat_result]]:
        """(key, data path, stat) for each object with the prefix and after start_after, in key order.

        Walks only the directories that can hold such keys. A directory holds exactly the keys that start
        with its key prefix ("a/b/"), and no file or directory beside it has a key that is a prefix of that,
        so sorting each directory's entries by their key (files) or key prefix (directories) and descending
        in that order yields keys in global order.
        """
        # Start from the deepest directory fully named by the prefix.
        dir_segments = prefix.split("/")[:-1]
        dir_names = [_dir_name(s) for s in dir_segments]
        if any(len(name.encode("utf-8", "surrogatepass")) + len(_META_SUFFIX) > _MAX_NAME_BYTES
               for name in dir_names):
            return  # no stored key has a segment that long (see `_key_parts`): nothing can match
        base = self._bucket_dir(bucket).joinpath(*dir_names)
        base_prefix = "".join(s + "/" for s in dir_segments)
        yield from self._walk_dir(base, base_prefix, prefix, start_after)

    def _walk_dir(self, directory: Path, dir_prefix: str, prefix: str,
                  start_after: str) -> Iterator[tuple[str, Path, os.stat_result]]:
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:  # a path no stored key can have (see `_paths`)
                return
            raise
        items: list[tuple[str, bool, os.DirEntry[str]]] = []
        for entry in entries:
            name = entry.name
            if name.endswith(_DIR_SUFFIX):
                items.append((dir_prefix + _decode_segment(name[: -len(_DIR_SUFFIX)]) + "/", True, entry))
            elif name == _EMPTY_FILE:
                items.append((dir_prefix, False, entry))
            else:
                items.append((dir_prefix + _decode_segment(name), False, entry))
        items.sort(key=lambda item: item[0])
        for key, is_dir, entry in items:
            if is_dir:
                # Skip a directory whose every key fails the prefix or sorts at or before start_after.
                if not (key.startswith(prefix) or prefix.startswith(key)):
                    continue
                if start_after and not start_after.startswith(key) and start_after > key:
                    continue
                yield from self._walk_dir(Path(entry.path), key, prefix, start_after)
            else:
                if not key.startswith(prefix) or key <= start_after or key == "":
                    continue
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    continue
                yield key, Path(entry.path), st

    # ---- multipart uploads

    def _upload_dir(self, bucket: str, key: str, upload_id: str) -> tuple[Path, dict]:
        self._require_bucket(bucket)
        if not re.fullmatch(r"[A-Za-z0-9_-]{10,100}", upload_id or ""):
            raise NoSuchUpload(f"The upload id {upload_id!r} is not valid.", bucket=bucket, key=key)
        directory = self._uploads / upload_id
        info = _read_json(directory / "upload.json")
        if info is None or info.get("bucket") != bucket or info.get("key") != key:
            raise NoSuchUpload(
                f"There is no multipart upload {upload_id!r} for key {key!r} in bucket {bucket!r}; "
                "it may have been completed or aborted.", bucket=bucket, key=key)
        return directory, info

    def create_multipart_upload(self, bucket: str, key: str, content_type: str | None = None,
                                metadata: dict[str, str] | None = None, encryption: Encryption | None = None) -> str:
        self._require_bucket(bucket)
        self._paths(bucket, key)  # KeyTooLongError now rather than when completing
        encryption = self._encryption(encryption)
        upload_id = secrets.token_urlsafe(32)
        directory = self._uploads / upload_id
        upload = {"bucket": bucket, "key": key, "content_type": content_type, "metadata": dict(metadata or {}),
                  "initiated": _now().isoformat()}
        if encryption is not None:
            upload["encryption"] = encryption.to_json()
        with self._bucket_guard(bucket, exclusive=False):  # not into a bucket being deleted
            self._require_bucket(bucket)
            directory.mkdir()
            _write_json_atomic(directory / "upload.json", upload, self._tmp)
        return upload_id

    def upload_encryption(self, bucket: str, key: str, upload_id: str) -> Encryption | None:
        _, upload = self._upload_dir(bucket, key, upload_id)
        return Encryption.from_json(upload.get("encryption"))

    def upload_part(self, bucket: str, key: str, upload_id: str, part_number: int,
                    data: bytes | BinaryIO) -> str:
        directory, upload = self._upload_dir(bucket, key, upload_id)
        if not 1 <= part_number <= MAX_PART_NUMBER:
            raise InvalidArgument(f"Part number must be an integer between 1 and {MAX_PART_NUMBER}.",
                                  bucket=bucket, key=key)
        # Parts are sealed like the object they will become (a part is as sensitive as the object).
        tmp, size, md5 = self._spool(data, "part", Encryption.from_json(upload.get("encryption")))
        etag = _quote(md5)
        try:
            # The part's md5 and plaintext size ride in its file name, so a part and its etag are replaced
            # together.
            for old in directory.glob(f"part-{part_number:05d}-*"):
                _unlink_quietly(old)
            os.replace(tmp, directory / f"part-{part_number:05d}-{md5}-{size}")
        except FileNotFoundError:
            _unlink_quietly(tmp)
            raise NoSuchUpload(f"The multipart upload {upload_id!r} was aborted or completed.",
                               bucket=bucket, key=key) from None
        return etag

    def _parts(self, directory: Path) -> dict[int, tuple[Path, str, int, os.stat_result]]:
        """{part number: (path, md5 hex, plaintext size, stat)}."""
        parts: dict[int, tuple[Path, str, int, os.stat_result]] = {}
        for entry in os.scandir(directory):
            m = re.fullmatch(r"part-(\d{5})-([0-9a-f]{32})-(\d{1,15})", entry.name)
            if m:
                try:
                    parts[int(m.group(1))] = (Path(entry.path), m.group(2), int(m.group(3)), entry.stat())
                except FileNotFoundError:
                    continue
        return parts

    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]:
        directory, _ = self._upload_dir(bucket, key, upload_id)
        return [PartInfo(part_number=n, size=size, etag=_quote(md5), last_modified=_from_timestamp(st.st_mtime))
                for n, (_, md5, size, st) in sorted(self._parts(directory).items())]

    def complete_multipart_upload(self, bucket: str, key: str, upload_id: str,
                                  parts: list[tuple[int, str]]) -> ObjectInfo:
        directory, upload = self._upload_dir(bucket, key, upload_id)
        if not parts:
            raise InvalidArgument("A multipart upload must be completed with at least one part.",
                                  bucket=bucket, key=key)
        stored = self._parts(directory)
        numbers = [n for n, _ in parts]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            raise InvalidPartOrder("The list of parts was not in ascending order by part number.",
                                   bucket=bucket, key=key)
        chosen: list[tuple[Path, str, int]] = []
        for n, etag in parts:
            if n not in stored or stored[n][1] != _normalize_etag(etag):
                raise InvalidPart(
                    f"Part {n} was not uploaded, or its ETag {etag} does not match the uploaded part.",
                    bucket=bucket, key=key)
            path, md5, size, _ = stored[n]
            chosen.append((path, md5, size))
        for i, (_, _, size) in enumerate(chosen[:-1]):
            if size < MIN_PART_SIZE:
                raise EntityTooSmall(
                    f"Part {numbers[i]} is {size} bytes; every part but the last must be at least "
                    f"{MIN_PART_SIZE} bytes.", bucket=bucket, key=key)
        data_path, meta_path = self._paths(bucket, key)
        encryption = Encryption.from_json(upload.get("encryption"))

        def plaintext() -> Iterator[bytes]:
            for path, _, _ in chosen:
                with self._plaintext(open(path, "rb")) as src:
                    yield from _iter_chunks(src)

        try:
            tmp, total, _ = self._spool(plaintext(), "mpu", encryption)
        except FileNotFoundError:
            raise NoSuchUpload(f"The multipart upload {upload_id!r} was aborted or completed meanwhile.",
                               bucket=bucket, key=key) from None
        combined = hashlib.md5(b"".join(bytes.fromhex(md5) for _, md5, _ in chosen)).hexdigest()
        info = self._commit(bucket, key, tmp, total, _quote(f"{combined}-{len(chosen)}"),
                            upload.get("content_type"), upload.get("metadata"), data_path, meta_path,
                            encryption)
        shutil.rmtree(directory, ignore_errors=True)
        return info

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        directory, _ = self._upload_dir(bucket, key, upload_id)
        shutil.rmtree(directory, ignore_errors=True)

    def list_multipart_uploads(self, bucket: str, prefix: str = "") -> list[UploadInfo]:
        self._require_bucket(bucket)
        out = []
        for entry in os.scandir(self._uploads):
            info = _read_json(Path(entry.path) / "upload.json")
            if not info or info.get("bucket") != bucket or not str(info.get("key", "")).startswith(prefix):
                continue
            try:
                initiated = datetime.fromisoformat(info["initiated"])
            except (KeyError, TypeError, ValueError):
                initiated = _now()
            out.append(UploadInfo(bucket=bucket, key=info["key"], upload_id=entry.name, initiated=initiated))
        out.sort(key=lambda u: (u.key, u.initiated))
        return out
