"""Unit tests of DirectoryObjectStore: buckets, weird keys, listing order, atomic writes, multipart."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import pytest

from openrek.store.objects import (
    MIN_PART_SIZE,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    DirectoryObjectStore,
    EntityTooSmall,
    InvalidArgument,
    InvalidBucketName,
    InvalidPart,
    InvalidPartOrder,
    KeyTooLongError,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    ObjectStore,
)
from tests.support.stores import sealed_store

WEIRD_KEYS = [
    "a", "a/b", "a/", "a//b", "a-c", "a.b", "a0", "/leading", "//", "./x", "../y", "x/./y", "x/../y", ".",
    "..", "...", ".hidden", "%", "%2F", "%25", "a%2Fb", "sp ace", "q?uery#frag", "back\\slash", "col:on",
    "tab\there", "new\nline", "é/ü", "日本/語.jpg", "emoji/\U0001f600", "\uffff", "\U00010000",
    "trailing.", "trailing ", "CON", "a" * 240, "x/" * 100 + "deep",
]


@pytest.fixture(params=["clear", "sealed"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> DirectoryObjectStore:
    """The store in the clear, and sealing every object at rest as the server's store does."""
    if request.param == "clear":
        s = DirectoryObjectStore(tmp_path)
    else:
        s = sealed_store(tmp_path, tmp_path.parent / f"{tmp_path.name}-keys")
    s.create_bucket("bucket")
    return s


def _data_file(store: DirectoryObjectStore, bucket: str, key: str) -> Path:
    return store._paths(bucket, key)[0]


def test_it_is_an_object_store(store: DirectoryObjectStore) -> None:
    assert isinstance(store, ObjectStore)


def test_buckets(tmp_path: Path) -> None:
    s = DirectoryObjectStore(tmp_path)
    assert s.list_buckets() == []
    s.create_bucket("zeta")
    s.create_bucket("alpha.beta-1")
    s.create_bucket(".internal")
    assert [b.name for b in s.list_buckets()] == ["alpha.beta-1", "zeta"]
    assert s.bucket_exists(".internal") and s.bucket_exists("zeta") and not s.bucket_exists("nope")
    assert s.list_buckets()[0].created.tzinfo is not None
    with pytest.raises(BucketAlreadyOwnedByYou) as err:
        s.create_bucket("zeta")
    assert err.value.code == "BucketAlreadyOwnedByYou" and err.value.bucket == "zeta"
    s.put_object("zeta", "k", b"v")
    with pytest.raises(BucketNotEmpty):
        s.delete_bucket("zeta")
    s.delete_object("zeta", "k")
    s.delete_bucket("zeta")
    with pytest.raises(NoSuchBucket) as missing:
        s.delete_bucket("zeta")
    assert "zeta" in missing.value.message
    assert [b.name for b in DirectoryObjectStore(tmp_path).list_buckets()] == ["alpha.beta-1"]


@pytest.mark.parametrize("name", ["ab", "a" * 64, "UPPER", "under_score", "-dash", "dash-", "a..b", "a.-b",
                                  "192.168.1.1", "xn--abc", "bad/slash", ".meta", ".uploads", ".tmp", "", "..x"])
def test_invalid_bucket_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidBucketName) as err:
        DirectoryObjectStore(tmp_path).create_bucket(name)
    assert err.value.code == "InvalidBucketName"


def test_missing_bucket_and_key(store: DirectoryObjectStore) -> None:
    with pytest.raises(NoSuchBucket):
        store.put_object("nobucket", "k", b"")
    with pytest.raises(NoSuchBucket):
        list(store.list_objects("nobucket"))
    with pytest.raises(NoSuchKey) as err:
        store.get_bytes("bucket", "missing")
    assert err.value.code == "NoSuchKey" and err.value.key == "missing"
    with pytest.raises(NoSuchKey):
        store.head_object("bucket", "missing/deeper")
    store.delete_object("bucket", "missing")  # no error, as in S3


def test_put_get_head(store: DirectoryObjectStore) -> None:
    info = store.put_object("bucket", "dir/file.txt", b"hello", content_type="text/plain",
                            metadata={"owner": "me"})
    assert info.etag == f'"{hashlib.md5(b"hello").hexdigest()}"'
    assert info.size == 5 and info.last_modified.tzinfo is not None
    head = store.head_object("bucket", "dir/file.txt")
    assert (head.etag, head.size, head.content_type, head.metadata) == (info.etag, 5, "text/plain",
                                                                         {"owner": "me"})
    assert store.get_bytes("bucket", "dir/file.txt") == b"hello"
    stream_info, stream = store.open_object("bucket", "dir/file.txt")
    with stream:
        assert stream.read() == b"hello"
    assert stream_info == head
    assert store.put_object("bucket", "empty", b"").content_type == "binary/octet-stream"
    assert store.get_bytes("bucket", "empty") == b""
    on_disk = _data_file(store, "bucket", "dir/file.txt").read_bytes()
    assert (on_disk == b"hello") if store.keys is None else (b"hello" not in on_disk)


def test_streamed_put(store: DirectoryObjectStore) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    info = store.put_object("bucket", "big", io.BytesIO(data))
    assert info.size == len(data) and info.etag == f'"{hashlib.md5(data).hexdigest()}"'
    assert store.get_bytes("bucket", "big") == data


def test_weird_keys_round_trip_and_list_in_utf8_order(store: DirectoryObjectStore, tmp_path: Path) -> None:
    for key in WEIRD_KEYS:
        store.put_object("bucket", key, key.encode("utf-8"))
    for key in WEIRD_KEYS:
        assert store.get_bytes("bucket", key) == key.encode("utf-8"), key
        assert store.head_object("bucket", key).key == key
    listed = [o.key for o in store.list_objects("bucket")]
    assert listed == sorted(WEIRD_KEYS, key=lambda k: k.encode("utf-8"))
    # Everything stays inside the bucket's directory and the sidecar tree.
    for path in tmp_path.rglob("*"):
        assert path.resolve().is_relative_to(tmp_path.resolve())
    assert not (tmp_path / "y").exists() and not (tmp_path / "bucket" / "..").resolve() == tmp_path.parent
    # A fresh store over the same root sees the same objects.
    assert [o.key for o in DirectoryObjectStore(tmp_path).list_objects("bucket")] == listed


def test_key_and_folder_with_the_same_name(store: DirectoryObjectStore) -> None:
    store.put_object("bucket", "photos", b"file")
    store.put_object("bucket", "photos/", b"")
    store.put_object("bucket", "photos/cat.jpg", b"cat")
    assert [o.key for o in store.list_objects("bucket")] == ["photos", "photos/", "photos/cat.jpg"]
    assert store.get_bytes("bucket", "photos") == b"file"
    store.delete_object("bucket", "photos/")
    assert [o.key for o in store.list_objects("bucket")] == ["photos", "photos/cat.jpg"]


def test_prefix_and_start_after(store: DirectoryObjectStore) -> None:
    keys = ["a", "a-b", "a/b", "a/b/c", "a/c", "a0", "b/x", "b/y/z"]
    for key in keys:
        store.put_object("bucket", key, b"")
    assert [o.key for o in store.list_objects("bucket", prefix="a/")] == ["a/b", "a/b/c", "a/c"]
    assert [o.key for o in store.list_objects("bucket", prefix="a")] == ["a", "a-b", "a/b", "a/b/c", "a/c", "a0"]
    assert [o.key for o in store.list_objects("bucket", prefix="a/b")] == ["a/b", "a/b/c"]
    assert [o.key for o in store.list_objects("bucket", prefix="b/y/")] == ["b/y/z"]
    assert [o.key for o in store.list_objects("bucket", prefix="nothing/")] == []
    assert [o.key for o in store.list_objects("bucket", start_after="a/b")] == ["a/b/c", "a/c", "a0", "b/x",
                                                                                "b/y/z"]
    assert [o.key for o in store.list_objects("bucket", start_after="a/\U0010ffff")] == ["a0", "b/x", "b/y/z"]
    assert [o.key for o in store.list_objects("bucket", prefix="b/", start_after="b/x")] == ["b/y/z"]
    assert [o.key for o in store.list_objects("bucket", start_after="zzz")] == []


def test_overwrite_and_delete_prune_directories(store: DirectoryObjectStore, tmp_path: Path) -> None:
    store.put_object("bucket", "d1/d2/d3/f", b"one", metadata={"v": "1"})
    store.put_object("bucket", "d1/d2/d3/f", b"two")
    assert store.get_bytes("bucket", "d1/d2/d3/f") == b"two"
    assert store.head_object("bucket", "d1/d2/d3/f").metadata == {}
    store.delete_object("bucket", "d1/d2/d3/f")
    assert list((tmp_path / "bucket").iterdir()) == []
    assert list((tmp_path / ".meta" / "bucket").iterdir()) == []
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_key_limits(store: DirectoryObjectStore) -> None:
    with pytest.raises(KeyTooLongError):
        store.put_object("bucket", "k" * 1025, b"")
    with pytest.raises(KeyTooLongError):
        store.put_object("bucket", "s" * 300, b"")  # one segment longer than a file name
    with pytest.raises(InvalidArgument):
        store.put_object("bucket", "", b"")


class _FailingReader(io.RawIOBase):
    def __init__(self) -> None:
        self.sent = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.sent >= 2 * 1024 * 1024:
            raise ConnectionError("client went away")
        self.sent += 1024 * 1024
        return b"x" * (1024 * 1024)


def test_interrupted_write_leaves_the_old_object(store: DirectoryObjectStore, tmp_path: Path) -> None:
    store.put_object("bucket", "k", b"old", content_type="text/old")
    with pytest.raises(ConnectionError):
        store.put_object("bucket", "k", _FailingReader())
    info = store.head_object("bucket", "k")
    assert store.get_bytes("bucket", "k") == b"old" and info.content_type == "text/old"
    with pytest.raises(ConnectionError):
        store.put_object("bucket", "new", _FailingReader())
    assert not store.object_exists("bucket", "new")
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_sidecar_that_does_not_match_its_data_is_ignored(store: DirectoryObjectStore, tmp_path: Path) -> None:
    store.put_object("bucket", "k", b"first", content_type="text/plain")
    # Simulate a crash between the sidecar's rename and the data's: new bytes, old sidecar.
    data_path = _data_file(store, "bucket", "k")
    tmp = tmp_path / "replacement"
    tmp.write_bytes(b"other")
    os.replace(tmp, data_path)
    info = store.head_object("bucket", "k")
    assert info.etag == f'"{hashlib.md5(b"other").hexdigest()}"'
    assert [o.etag for o in store.list_objects("bucket")] == [info.etag]


def test_concurrent_writers_and_readers(store: DirectoryObjectStore) -> None:
    versions = [bytes([i]) * (256 * 1024) for i in range(8)]
    etags = {f'"{hashlib.md5(v).hexdigest()}"' for v in versions}
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            for _ in range(5):
                store.put_object("bucket", "shared/key", versions[i])
                store.put_object("bucket", f"own/{i}", versions[i])
                store.delete_object("bucket", f"own/{i}")
        except BaseException as e:
            errors.append(e)

    def reader() -> None:
        try:
            for _ in range(30):
                try:
                    data = store.get_bytes("bucket", "shared/key")
                except NoSuchKey:
                    continue
                assert data in versions
                assert store.head_object("bucket", "shared/key").etag in etags
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    threads += [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert [o.key for o in store.list_objects("bucket")] == ["shared/key"]


def test_multipart_upload(store: DirectoryObjectStore, tmp_path: Path) -> None:
    part1, part2 = os.urandom(MIN_PART_SIZE), os.urandom(1000)
    upload_id = store.create_multipart_upload("bucket", "mp/obj", content_type="image/jpeg",
                                              metadata={"a": "b"})
    assert [u.upload_id for u in store.list_multipart_uploads("bucket")] == [upload_id]
    etag2 = store.upload_part("bucket", "mp/obj", upload_id, 2, part2)
    etag1 = store.upload_part("bucket", "mp/obj", upload_id, 1, io.BytesIO(part1))
    assert etag1 == f'"{hashlib.md5(part1).hexdigest()}"'
    assert [(p.part_number, p.size) for p in store.list_parts("bucket", "mp/obj", upload_id)] == [
        (1, len(part1)), (2, len(part2))]
    with pytest.raises(InvalidPartOrder):
        store.complete_multipart_upload("bucket", "mp/obj", upload_id, [(2, etag2), (1, etag1)])
    with pytest.raises(InvalidPart):
        store.complete_multipart_upload("bucket", "mp/obj", upload_id, [(1, etag2), (2, etag2)])
    with pytest.raises(InvalidPart):
        store.complete_multipart_upload("bucket", "mp/obj", upload_id, [(1, etag1), (3, etag2)])
    with pytest.raises(NoSuchUpload):
        store.complete_multipart_upload("bucket", "other", upload_id, [(1, etag1)])
    info = store.complete_multipart_upload("bucket", "mp/obj", upload_id, [(1, etag1), (2, etag2.strip('"'))])
    expected = hashlib.md5(hashlib.md5(part1).digest() + hashlib.md5(part2).digest()).hexdigest()
    assert info.etag == f'"{expected}-2"' and info.size == len(part1) + len(part2)
    assert store.get_bytes("bucket", "mp/obj") == part1 + part2
    head = store.head_object("bucket", "mp/obj")
    assert (head.etag, head.content_type, head.metadata) == (info.etag, "image/jpeg", {"a": "b"})
    with pytest.raises(NoSuchUpload):
        store.upload_part("bucket", "mp/obj", upload_id, 3, b"late")
    assert store.list_multipart_uploads("bucket") == []
    assert list((tmp_path / ".uploads").iterdir()) == []


def test_multipart_small_parts_and_abort(store: DirectoryObjectStore) -> None:
    upload_id = store.create_multipart_upload("bucket", "k")
    e1 = store.upload_part("bucket", "k", upload_id, 1, b"small")
    e2 = store.upload_part("bucket", "k", upload_id, 2, b"last")
    with pytest.raises(EntityTooSmall):
        store.complete_multipart_upload("bucket", "k", upload_id, [(1, e1), (2, e2)])
    store.abort_multipart_upload("bucket", "k", upload_id)
    with pytest.raises(NoSuchUpload):
        store.abort_multipart_upload("bucket", "k", upload_id)
    with pytest.raises(NoSuchUpload):
        store.upload_part("bucket", "k", "not-an-upload-id-at-all", 1, b"")
    assert not store.object_exists("bucket", "k")
    single = store.create_multipart_upload("bucket", "k")
    e1 = store.upload_part("bucket", "k", single, 1, b"only")
    assert store.complete_multipart_upload("bucket", "k", single, [(1, e1)]).etag.endswith('-1"')
    assert store.get_bytes("bucket", "k") == b"only"


def test_copy_object(store: DirectoryObjectStore) -> None:
    store.put_object("bucket", "src", b"data", content_type="text/plain", metadata={"m": "1"})
    info = store.copy_object("bucket", "src", "bucket", "dst")
    assert (info.content_type, info.metadata) == ("text/plain", {"m": "1"})
    assert store.get_bytes("bucket", "dst") == b"data"
