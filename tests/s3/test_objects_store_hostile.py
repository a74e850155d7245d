"""DirectoryObjectStore under hostile input and racing writers: prefixes and keys too long for the file
system, puts racing bucket deletion (threads, two stores on one root, two processes), an object's etag and
size always from one write, temp files of dead writers; and the body readers under odd framing."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest

from openrek.api.s3.aws_chunked import AwsChunkedReader
from openrek.api.s3.body_stream import ThreadedBodyReader
from openrek.api.s3.errors import S3Error
from openrek.store import objects as objects_module
from openrek.store.objects import (
    BucketNotEmpty,
    DirectoryObjectStore,
    KeyTooLongError,
    NoSuchBucket,
    NoSuchKey,
)
from tests.support.stores import sealed_store


@pytest.fixture(params=["clear", "sealed"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> DirectoryObjectStore:
    if request.param == "clear":
        s = DirectoryObjectStore(tmp_path / "root")
    else:
        s = sealed_store(tmp_path / "root", tmp_path / "keys")
    s.create_bucket("bucket")
    return s


# ---------------------------------------------------------------------------- names too long for the disk


def test_a_prefix_with_a_segment_too_long_for_a_file_name_matches_nothing(store: DirectoryObjectStore) -> None:
    store.put_object("bucket", "x/y", b"1")
    store.put_object("bucket", "a" * 240 + "/b", b"2")
    for prefix in ["a" * 300 + "/", "x/" + "a" * 300 + "/", "x/" + "a" * 300 + "/y/z", "%" * 90 + "/",
                   "/" * 1100, "x/" + "/" * 1100]:
        assert list(store.list_objects("bucket", prefix=prefix)) == []
        assert list(store.list_objects("bucket", prefix=prefix, start_after=prefix + "q")) == []
    assert [o.key for o in store.list_objects("bucket", prefix="a")] == ["a" * 240 + "/b"]


def test_a_key_too_long_for_the_file_system_is_refused_on_write_and_absent_on_read(
        store: DirectoryObjectStore) -> None:
    for key in ["x/" + "a" * 300, "/" * 1020 + "z", "./" * 10 + "/" * 1000]:  # a segment, or the path
        with pytest.raises(KeyTooLongError):
            store.put_object("bucket", key, b"x")
        with pytest.raises(KeyTooLongError):
            store.create_multipart_upload("bucket", key)
        with pytest.raises(NoSuchKey):
            store.head_object("bucket", key)
        with pytest.raises(NoSuchKey):
            store.open_object("bucket", key)
        store.delete_object("bucket", key)  # nothing there: not an error
    with pytest.raises(KeyTooLongError):  # longer than S3 allows: refused on reads too
        store.head_object("bucket", "k" * 1025)
    assert list(store.list_objects("bucket")) == []


# ------------------------------------------------------------------------------- put vs delete bucket


def _race_once(putter: DirectoryObjectStore, deleter: DirectoryObjectStore, bucket: str) -> tuple[str, str]:
    barrier = threading.Barrier(2)
    result: dict[str, str] = {}

    def put() -> None:
        barrier.wait()
        try:
            putter.put_object(bucket, "deep/k", b"acknowledged" * 1000)
            result["put"] = "ok"
        except NoSuchBucket:
            result["put"] = "NoSuchBucket"

    def delete() -> None:
        barrier.wait()
        try:
            deleter.delete_bucket(bucket)
            result["delete"] = "ok"
        except BucketNotEmpty:
            result["delete"] = "BucketNotEmpty"

    threads = [threading.Thread(target=put), threading.Thread(target=delete)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return result["put"], result["delete"]


def _check_outcome(store: DirectoryObjectStore, bucket: str, outcome: tuple[str, str]) -> None:
    assert outcome in {("ok", "BucketNotEmpty"), ("NoSuchBucket", "ok")}, outcome
    if outcome[0] == "ok":  # acknowledged: still there
        assert store.get_bytes(bucket, "deep/k") == b"acknowledged" * 1000
        store.delete_object(bucket, "deep/k")
        store.delete_bucket(bucket)
    assert not store.bucket_exists(bucket)  # deleted: stays deleted (nothing recreated its directory)
    assert not (store.root / bucket).exists()
    assert not (store.root / ".meta" / bucket).exists()


@pytest.mark.parametrize("stores", ["one store", "two stores on one root"])
def test_put_racing_delete_bucket(store: DirectoryObjectStore, stores: str) -> None:
    # Two stores on one root share nothing in memory, as two processes would not.
    other = store if stores == "one store" else DirectoryObjectStore(store.root, keys=store.keys)
    for i in range(100):
        bucket = f"race-{i}"
        store.create_bucket(bucket)
        _check_outcome(store, bucket, _race_once(store, other, bucket))


def _put_in_every_bucket(root: str, rounds: int, ready: Any, results: Any) -> None:
    store = DirectoryObjectStore(root)
    for i in range(rounds):
        ready.wait()
        try:
            store.put_object(f"race-{i}", "deep/k", b"acknowledged" * 1000)
            results.put((i, "ok"))
        except NoSuchBucket:
            results.put((i, "NoSuchBucket"))


def test_put_racing_delete_bucket_across_processes(tmp_path: Path) -> None:
    store = DirectoryObjectStore(tmp_path / "root")
    rounds = 60
    for i in range(rounds):
        store.create_bucket(f"race-{i}")
    ctx = multiprocessing.get_context("spawn")
    ready, results = ctx.Barrier(2), ctx.Queue()
    child = ctx.Process(target=_put_in_every_bucket, args=(str(store.root), rounds, ready, results))
    child.start()
    try:
        deleted = {}
        for i in range(rounds):
            ready.wait(timeout=60)
            try:
                store.delete_bucket(f"race-{i}")
                deleted[i] = "ok"
            except BucketNotEmpty:
                deleted[i] = "BucketNotEmpty"
        put = dict(results.get(timeout=60) for _ in range(rounds))
    finally:
        child.join(timeout=60)
        if child.is_alive():
            child.kill()
    for i in range(rounds):
        _check_outcome(store, f"race-{i}", (put[i], deleted[i]))


# ------------------------------------------------------------------------ one write's etag and size


def test_head_and_list_pair_each_etag_with_its_own_size(store: DirectoryObjectStore) -> None:
    versions = [bytes([i]) * (500 + 777 * i) for i in range(6)]
    md5_by_size = {len(v): f'"{hashlib.md5(v).hexdigest()}"' for v in versions}
    # Writers on two more stores on the root: their per-key locks do not exclude each other (two processes).
    writers = [store, DirectoryObjectStore(store.root, keys=store.keys), DirectoryObjectStore(store.root, keys=store.keys)]
    store.put_object("bucket", "k", versions[0])
    stop = threading.Event()
    problems: list[tuple[str, int, str]] = []
    reads = [0]

    def write(i: int) -> None:
        while not stop.is_set():
            writers[i % len(writers)].put_object("bucket", "k", versions[i])

    def read() -> None:
        while not stop.is_set():
            head = store.head_object("bucket", "k")
            if md5_by_size.get(head.size) != head.etag:
                problems.append(("head", head.size, head.etag))
            for info in store.list_objects("bucket"):
                if md5_by_size.get(info.size) != info.etag:
                    problems.append(("list", info.size, info.etag))
            info, stream = store.open_object("bucket", "k")
            with stream:
                data = stream.read()
            if (len(data), f'"{hashlib.md5(data).hexdigest()}"') != (info.size, info.etag):
                problems.append(("get", info.size, info.etag))
            reads[0] += 1

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(versions))]
    threads += [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(2)
    stop.set()
    for t in threads:
        t.join()
    assert reads[0] > 20
    assert problems == [], problems[:5]


# ------------------------------------------------------------------------------ temp files of the dead


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_opening_a_store_removes_the_temp_files_of_dead_writers(tmp_path: Path) -> None:
    root = tmp_path / "root"
    DirectoryObjectStore(root)
    tmp = root / ".tmp"
    dead, me = _dead_pid(), os.getpid()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        ours = objects_module._temp_prefix("put") + "abcdefgh"
        files = {
            f"put-{dead}-0123abcd-xyz": False,  # a killed server's upload
            f"part-{dead}-0123abcd-xyz": False,
            f"json-{dead}-0123abcd-xyz": False,
            f"put-{me}-ffffffff-xyz": False,  # an earlier process with this pid (a restarted container)
            ours: True,  # this process's own, being written by another store on the root
            f"put-{live.pid}-0123abcd-xyz": True,  # a live worker's
            "put-legacyname": True,  # a name that does not say its writer, and fresh
            "json-old-legacy": False,  # ... and a day old
            f"put-{live.pid}-0123abcd-old": False,  # a day old: stale, whoever has that pid now
        }
        for name in files:
            (tmp / name).write_bytes(b"spooled")
        old = time.time() - 2 * 24 * 3600
        for name in ("json-old-legacy", f"put-{live.pid}-0123abcd-old"):
            os.utime(tmp / name, (old, old))
        tombstone = tmp / f"deleted-{dead}-0123abcd-bucket"  # a deleted bucket's directory, mid-removal
        (tombstone / "a%2F").mkdir(parents=True)
        (tombstone / "a%2F" / "b").write_bytes(b"x")

        DirectoryObjectStore(root)
        assert sorted(p.name for p in tmp.iterdir()) == sorted(name for name, kept in files.items() if kept)
    finally:
        live.kill()
        live.wait()


def test_temp_files_are_named_after_their_writer(store: DirectoryObjectStore) -> None:
    seen: set[str] = set()
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.update(os.listdir(store.root / ".tmp"))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for i in range(20):
            store.put_object("bucket", f"k{i}", os.urandom(256 * 1024))
    finally:
        stop.set()
        watcher.join()
    assert seen, "no temp file was seen"
    assert all(objects_module._temp_owner_gone(name) is False for name in seen), seen


# ------------------------------------------------------------------------------------- body readers


def _reader_over(chunks: list[bytes]) -> ThreadedBodyReader:
    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return ThreadedBodyReader(stream())


def test_reading_a_whole_body_takes_linear_time() -> None:
    """read(-1) used to append each chunk to one bytes object: 64 MB in 64 KB chunks copied ~34 GB."""
    chunks = [b"x" * 65536] * 1024

    async def main() -> tuple[int, float]:
        reader = _reader_over(chunks)
        started = time.monotonic()
        data = await anyio.to_thread.run_sync(reader.read)
        return len(data), time.monotonic() - started

    size, elapsed = anyio.run(main)
    assert size == 64 * 1024 * 1024
    assert elapsed < 3, elapsed


def test_small_reads_of_big_chunks_take_linear_time() -> None:
    chunks = [b"0123456789abcdef" * 65536] * 16  # 1 MB chunks read 2 bytes at a time

    async def main() -> tuple[int, float]:
        reader = _reader_over(chunks)
        started = time.monotonic()

        def consume() -> int:
            total = 0
            while piece := reader.read(2):
                total += len(piece)
            return total

        total = await anyio.to_thread.run_sync(consume)
        return total, time.monotonic() - started

    total, elapsed = anyio.run(main)
    assert total == 16 * 1024 * 1024
    assert elapsed < 30, elapsed


@pytest.mark.parametrize("size", [b"-1", b"-0", b"0xd", b"0Xd", b"0_d", b"+d", b" ", b"g", b"\xd9\xa1", b"1" * 17])
def test_chunk_sizes_must_be_hex_digits(size: bytes) -> None:
    async def main() -> None:
        reader = AwsChunkedReader(_reader_over([size + b"\r\nhello world!!\r\n0\r\n\r\n"]))  # type: ignore[arg-type]
        with pytest.raises(S3Error) as err:
            await anyio.to_thread.run_sync(reader.read)
        assert err.value.code == "IncompleteBody"

    anyio.run(main)


def test_good_chunk_sizes_and_too_many_trailers() -> None:
    async def main() -> None:
        body = b"D\r\nhello world!!\r\n000\r\nx-amz-checksum-crc32:abc=\r\n\r\n"
        reader = AwsChunkedReader(_reader_over([body[i:i + 3] for i in range(0, len(body), 3)]))  # type: ignore[arg-type]
        assert await anyio.to_thread.run_sync(reader.read) == b"hello world!!"
        assert reader.trailers == {"x-amz-checksum-crc32": "abc="}
        flood = b"0\r\n" + b"x-a:b\r\n" * 10000 + b"\r\n"
        reader = AwsChunkedReader(_reader_over([flood]))  # type: ignore[arg-type]
        with pytest.raises(S3Error):
            await anyio.to_thread.run_sync(reader.read)

    anyio.run(main)
