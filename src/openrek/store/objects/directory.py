"""`DirectoryObjectStore`, the embedded default `ObjectStore`: objects as files under a root directory.

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

import contextlib
import errno
import hashlib
import os
import re
import secrets
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # not POSIX: bucket locks then hold between the threads of one process only
    fcntl = None  # type: ignore[assignment]

from openrek.store.objects.disk_files import (
    _FILE_MODE,
    _read_json,
    _replace_into,
    _temp_owner_gone,
    _temp_prefix,
    _unlink_quietly,
    _write_json_atomic,
)
from openrek.store.objects.disk_layout import (
    _DIR_SUFFIX,
    _EMPTY_FILE,
    _MAX_NAME_BYTES,
    _MAX_PATH_BYTES,
    _META_SUFFIX,
    _decode_segment,
    _dir_name,
    _key_parts,
)
from openrek.store.objects.errors import (
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    InvalidArgument,
    InvalidBucketName,
    KeyTooLongError,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
)
from openrek.store.objects.etags import iter_chunks, multipart_etag, parts_to_complete, quote_etag
from openrek.store.objects.interface import (
    DEFAULT_CONTENT_TYPE,
    MAX_KEY_BYTES,
    MAX_PART_NUMBER,
    AccessCheck,
    BucketInfo,
    ObjectInfo,
    ObjectStore,
    PartInfo,
    UploadInfo,
)
from openrek.store.objects.naming import _BUCKET_RE, is_internal_bucket, validate_bucket_name
from openrek.store.objects.views import StoreViews
from openrek.store.sealed_files import (
    PEEK_BYTES,
    DataKeys,
    Encryption,
    SealedReader,
    SealingWriter,
    looks_sealed,
)


def _now() -> datetime:
    return datetime.now(UTC)


def _from_timestamp(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class DirectoryObjectStore(StoreViews, ObjectStore):
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
                for chunk in iter_chunks(data):
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
        return self._commit(bucket, key, tmp, size, quote_etag(md5), content_type, metadata, data_path, meta_path,
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
            for chunk in iter_chunks(plain):
                md5.update(chunk)
                size += len(chunk)
            encryption = plain.encryption if isinstance(plain, SealedReader) else None
        data_file.seek(0)
        return ObjectInfo(bucket=bucket, key=key, size=size, etag=quote_etag(md5.hexdigest()),
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
        etag = quote_etag(md5)
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
        return [PartInfo(part_number=n, size=size, etag=quote_etag(md5), last_modified=_from_timestamp(st.st_mtime))
                for n, (_, md5, size, st) in sorted(self._parts(directory).items())]

    def complete_multipart_upload(self, bucket: str, key: str, upload_id: str,
                                  parts: list[tuple[int, str]]) -> ObjectInfo:
        directory, upload = self._upload_dir(bucket, key, upload_id)
        stored = self._parts(directory)
        numbers = parts_to_complete(bucket, key, parts, {n: (md5, size) for n, (_, md5, size, _) in stored.items()})
        chosen = [stored[n][:3] for n in numbers]
        data_path, meta_path = self._paths(bucket, key)
        encryption = Encryption.from_json(upload.get("encryption"))

        def plaintext() -> Iterator[bytes]:
            for path, _, _ in chosen:
                with self._plaintext(open(path, "rb")) as src:
                    yield from iter_chunks(src)

        try:
            tmp, total, _ = self._spool(plaintext(), "mpu", encryption)
        except FileNotFoundError:
            raise NoSuchUpload(f"The multipart upload {upload_id!r} was aborted or completed meanwhile.",
                               bucket=bucket, key=key) from None
        info = self._commit(bucket, key, tmp, total, multipart_etag([md5 for _, md5, _ in chosen]),
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
