"""`S3ObjectStore` against a real SeaweedFS S3 gateway: the object store contract, sealing before bytes
leave the process, streamed long writes, openrek's multipart uploads, the bucket mapping, and a store
restarted mid-upload."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import botocore.session
import pytest
from botocore.config import Config

from openrek.store.objects import (
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    InvalidBucketName,
    InvalidPart,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    ObjectStore,
    ObjectStoreError,
    open_object_store,
)
from openrek.store.objects.remote import PART_SIZE, RemoteLocation, S3ObjectStore, openrek_key, remote_key
from openrek.store.sealed_files import MAGIC
from openrek.stores import StoreLocation, open_stores
from tests.support.backends import s3_store_url, seaweed
from tests.support.seaweedfs import SeaweedServer


def _open(tmp_path: Path, server: SeaweedServer, name: str | None = None) -> ObjectStore:
    """A sealing S3 store on `server` (keys in tmp_path), with a bucket prefix of its own."""
    url = s3_store_url(server, name or str(tmp_path))
    return open_stores(StoreLocation(data_dir=str(tmp_path), database_url=f"sqlite:///{tmp_path / 'm.db'}",
                                     objects_dir=url), migrate_schema=True).objects


def _raw_client(server: SeaweedServer):  # type: ignore[no-untyped-def]
    return botocore.session.Session().create_client(
        "s3", region_name="us-east-1", endpoint_url=server.endpoint_url, aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                      response_checksum_validation="when_required"))


@pytest.fixture
def store(tmp_path: Path) -> S3ObjectStore:
    objects = _open(tmp_path, seaweed())
    assert isinstance(objects, S3ObjectStore)
    objects.create_bucket("photos", owner="111122223333")
    return objects


def test_objects_round_trip_sealed_and_their_records_ride_along(store: S3ObjectStore) -> None:
    data = b"a picture of a cat" * 100
    info = store.put_object("photos", "cats/1.jpg", data, content_type="image/jpeg", metadata={"camera": "x"})
    assert info.etag == f'"{hashlib.md5(data).hexdigest()}"' and info.size == len(data)
    assert store.head_object("photos", "cats/1.jpg") == info
    got, stream = store.open_object("photos", "cats/1.jpg")
    with stream:
        assert stream.read() == data
    assert got == info and got.encryption is not None and got.encryption.algorithm == "AES256"
    # The remote store holds only ciphertext, under the mapped bucket name.
    remote = _raw_client(seaweed()).get_object(Bucket=f"{store.location.prefix}-photos",
                                            Key=remote_key("cats/1.jpg"))
    stored = remote["Body"].read()
    assert stored.startswith(MAGIC) and b"cat" not in stored
    store.delete_object("photos", "cats/1.jpg")
    store.delete_object("photos", "cats/1.jpg")  # deleting what is gone is not an error
    with pytest.raises(NoSuchKey):
        store.head_object("photos", "cats/1.jpg")
    with pytest.raises(NoSuchKey):
        store.open_object("photos", "cats/1.jpg")
    with pytest.raises(NoSuchBucket):
        store.head_object("nobody", "k")
    with pytest.raises(NoSuchBucket):
        store.put_object("nobody", "k", b"x")


def _stream(total: int, seed: bytes = b"x") -> Iterator[bytes]:
    block = hashlib.sha256(seed).digest() * 32768  # 1 MiB
    sent = 0
    while sent < total:
        chunk = block[: min(len(block), total - sent)]
        sent += len(chunk)
        yield chunk


class _Reader(io.RawIOBase):
    """A file-like stream of `total` bytes that calls `at_half` once when half of them are read."""

    def __init__(self, total: int, at_half=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self._chunks = _stream(total)
        self._total, self._sent, self._at_half = total, 0, at_half

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._at_half is not None and self._sent >= self._total // 2:
            self._at_half()
            self._at_half = None
        chunk = next(self._chunks, b"")
        self._sent += len(chunk)
        return chunk


def test_a_long_write_streams_as_a_remote_multipart_upload(store: S3ObjectStore) -> None:
    total = 2 * PART_SIZE + 12345
    expected = b"".join(_stream(total))
    info = store.put_object("photos", "big.bin", _Reader(total))
    assert info.size == total and info.etag == f'"{hashlib.md5(expected).hexdigest()}"'
    assert store.head_object("photos", "big.bin") == info  # the record landed by the copy onto itself
    _, stream = store.open_object("photos", "big.bin")
    with stream:
        stream.seek(PART_SIZE - 5)
        assert stream.read(10) == expected[PART_SIZE - 5: PART_SIZE + 5]  # a ranged read
        stream.seek(0)
        assert hashlib.md5(stream.read()).hexdigest() == hashlib.md5(expected).hexdigest()
    uploads = _raw_client(seaweed()).list_multipart_uploads(Bucket=f"{store.location.prefix}-photos")
    assert not uploads.get("Uploads")  # nothing left behind


def test_listing_in_key_order_with_prefix_start_after_and_pages(store: S3ObjectStore) -> None:
    keys = ["a", "a/b", "a/c", "b", "b/x/y", "b!", "b.txt", "é", "z z", "100%", "f/", "f/x", ".", "a//b"]
    for key in keys:
        store.put_object("photos", key, key.encode())
    store._list_page = 3  # type: ignore[attr-defined]
    listed = list(store.list_objects("photos"))
    assert [o.key for o in listed] == sorted(keys, key=lambda k: k.encode())
    assert all(o.size == len(o.key.encode()) for o in listed)
    assert [o.key for o in store.list_objects("photos", prefix="a/")] == ["a//b", "a/b", "a/c"]
    assert [o.key for o in store.list_objects("photos", start_after="b")] == ["b!", "b.txt", "b/x/y", "f/", "f/x",
                                                                               "z z", "é"]
    assert [o.key for o in store.list_objects("photos", start_after="f/")] == ["f/x", "z z", "é"]
    assert store.get_bytes("photos", "f/") == b"f/"  # a folder marker keeps its bytes
    with pytest.raises(NoSuchBucket):
        list(store.list_objects("nobody"))


@pytest.mark.parametrize("key", ["a", "a/b", "photos/", "/", ".", "..", "a.~/b", "x.#", "a//b/", "é.jpg"])
def test_remote_keys_decode_to_the_key(key: str) -> None:
    assert openrek_key(remote_key(key)) == key
    assert ".~" not in remote_key(key).split("/")[-1] or key.endswith("/")


def test_buckets_map_onto_prefixed_remote_buckets(tmp_path: Path, store: S3ObjectStore) -> None:
    with pytest.raises(BucketAlreadyOwnedByYou):
        store.create_bucket("photos")
    store.create_bucket(".models")  # an internal bucket: kept, never listed
    store.put_object(".models", "m/model.onnx", b"weights")
    assert [(b.name, b.owner) for b in store.list_buckets()] == [("photos", "111122223333")]
    assert store.bucket_owner("photos") == "111122223333"
    store.set_bucket_policy("photos", '{"Version": "2012-10-17"}')
    assert store.bucket_policy("photos") == '{"Version": "2012-10-17"}'
    store.put_object("photos", "k", b"v")
    with pytest.raises(BucketNotEmpty):
        store.delete_bucket("photos")
    store.delete_object("photos", "k")
    store.delete_bucket("photos")
    assert not store.bucket_exists("photos") and store.list_buckets() == []
    assert store.get_bytes(".models", "m/model.onnx") == b"weights"
    # Another prefix on the same remote store is another openrek: it sees none of this one's buckets.
    other = _open(tmp_path / "other", seaweed())
    other.create_bucket("photos")
    assert not store.bucket_exists("photos") and [b.name for b in other.list_buckets()] == ["photos"]
    longest = "b" * store.max_bucket_name()
    store.create_bucket(longest)
    with pytest.raises(InvalidBucketName, match="at most"):
        store.create_bucket(longest + "c")


def test_multipart_uploads_through_the_store(store: S3ObjectStore) -> None:
    first = os.urandom(5 * 1024 * 1024)
    upload = store.create_multipart_upload("photos", "mp.bin", content_type="application/x-test",
                                           metadata={"m": "1"})
    e1 = store.upload_part("photos", "mp.bin", upload, 1, first)
    e2 = store.upload_part("photos", "mp.bin", upload, 2, io.BytesIO(b"tail"))
    assert e1 == f'"{hashlib.md5(first).hexdigest()}"'
    assert [(p.part_number, p.size) for p in store.list_parts("photos", "mp.bin", upload)] == [(1, len(first)), (2, 4)]
    assert [u.upload_id for u in store.list_multipart_uploads("photos")] == [upload]
    with pytest.raises(InvalidPart):
        store.complete_multipart_upload("photos", "mp.bin", upload, [(1, e1), (2, '"0123"')])
    info = store.complete_multipart_upload("photos", "mp.bin", upload, [(1, e1), (2, e2)])
    combined = hashlib.md5(bytes.fromhex(e1.strip('"')) + bytes.fromhex(e2.strip('"'))).hexdigest()
    assert info.etag == f'"{combined}-2"' and info.size == len(first) + 4
    assert store.head_object("photos", "mp.bin") == info and info.metadata == {"m": "1"}
    assert store.get_bytes("photos", "mp.bin") == first + b"tail"
    assert store.list_multipart_uploads("photos") == []
    with pytest.raises(NoSuchUpload):
        store.upload_part("photos", "mp.bin", upload, 3, b"late")
    aborted = store.create_multipart_upload("photos", "gone.bin")
    store.upload_part("photos", "gone.bin", aborted, 1, b"x")
    store.abort_multipart_upload("photos", "gone.bin", aborted)
    with pytest.raises(NoSuchUpload):
        store.list_parts("photos", "gone.bin", aborted)
    assert not store.object_exists("photos", "gone.bin")


def test_a_store_restarted_mid_upload_fails_the_write_cleanly(tmp_path: Path) -> None:
    with SeaweedServer(tmp_path / "weed") as server:
        os.environ.update({"OPENREK_S3_ACCESS_KEY_ID": server.access_key,
                           "OPENREK_S3_SECRET_ACCESS_KEY": server.secret_key})
        try:
            store = _open(tmp_path / "keys", server)
            store.create_bucket("photos")
            store.put_object("photos", "k", b"the old object")
            stopped = threading.Event()

            def stop() -> None:
                server.stop()
                stopped.set()

            with pytest.raises(ObjectStoreError) as failure:
                store.put_object("photos", "k", _Reader(3 * PART_SIZE, at_half=stop))
            assert stopped.is_set() and failure.value.code == "ServiceUnavailable"
            assert "did not answer" in failure.value.message
            server.start()
            # Nothing half-written is visible: the old object is whole, and no upload lingers.
            assert store.get_bytes("photos", "k") == b"the old object"
            assert [o.key for o in store.list_objects("photos")] == ["k"]
            store.put_object("photos", "k", b"the new object")
            assert store.get_bytes("photos", "k") == b"the new object"
        finally:
            os.environ.update({"OPENREK_S3_ACCESS_KEY_ID": seaweed().access_key,
                               "OPENREK_S3_SECRET_ACCESS_KEY": seaweed().secret_key})


@pytest.mark.parametrize("url, message", [
    ("s3://", "does not name a bucket prefix"),
    ("s3://Upper?endpoint_url=http://127.0.0.1:1", "does not name a bucket prefix"),
    ("s3://p/path", "does not name a bucket prefix"),
    ("s3://p?endpoint=http://127.0.0.1:1", "unknown options"),
    ("s3://p?endpoint_url=ftp://h", "http:// or https://"),
])
def test_bad_s3_locations_are_refused_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RemoteLocation.from_url(url)


def test_an_unreachable_store_says_so(tmp_path: Path) -> None:
    os.environ.setdefault("OPENREK_S3_ACCESS_KEY_ID", "k")
    os.environ.setdefault("OPENREK_S3_SECRET_ACCESS_KEY", "s")
    with pytest.raises(ObjectStoreError, match="did not answer") as failure:
        open_object_store("s3://openrek?endpoint_url=http://127.0.0.1:9")
    assert failure.value.code == "ServiceUnavailable"
