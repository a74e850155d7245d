"""Objects sealed at rest: nothing in the clear on disk, seekable reads, tampering caught, KMS keys obeyed."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from openrek.security.kms_errors import DisabledException
from openrek.store.objects import MIN_PART_SIZE, DirectoryObjectStore
from openrek.store.sealed_files import SEGMENT, SSE_KMS, SSE_S3, Encryption, SealedFileError
from openrek.stores import Stores
from tests.support.stores import server_stores

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture
def stores(tmp_path: Path) -> Stores:
    s = server_stores(tmp_path / "data")
    s.objects.create_bucket("bucket")
    return s


def _on_disk(objects: DirectoryObjectStore, key: str) -> bytes:
    return objects._paths("bucket", key)[0].read_bytes()


@pytest.mark.parametrize("size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT, 3 * SEGMENT + 5])
def test_round_trip_and_ranges(stores: Stores, size: int) -> None:
    data = os.urandom(size)
    info = stores.objects.put_object("bucket", "k", data)
    assert info.size == size and info.etag == f'"{hashlib.md5(data).hexdigest()}"'
    assert info.encryption == Encryption(SSE_S3)
    assert stores.objects.head_object("bucket", "k") == info
    assert stores.objects.get_bytes("bucket", "k") == data
    on_disk = _on_disk(stores.objects, "k")
    assert len(on_disk) > size and (size < 16 or data[:16] not in on_disk)
    _, stream = stores.objects.open_object("bucket", "k")
    with stream:
        for start, length in [(0, 10), (SEGMENT - 3, 7), (size // 2, SEGMENT + 9), (max(0, size - 4), 100)]:
            stream.seek(start)
            assert stream.read(length) == data[start:start + length]
        stream.seek(0)
        assert b"".join(iter(lambda: stream.read(4096), b"")) == data


def test_any_altered_byte_or_cut_is_caught(stores: Stores) -> None:
    data = os.urandom(2 * SEGMENT + 100)
    stores.objects.put_object("bucket", "k", data)
    path = stores.objects._paths("bucket", "k")[0]
    sealed = path.read_bytes()
    for where in (20, len(sealed) // 2, len(sealed) - 1):
        altered = bytearray(sealed)
        altered[where] ^= 1
        path.write_bytes(bytes(altered))
        with pytest.raises((SealedFileError, ValueError)):
            stores.objects.get_bytes("bucket", "k")
    header_end = len(sealed) - (2 * (SEGMENT + 16) + 100 + 16)
    path.write_bytes(sealed[:header_end + 2 * (SEGMENT + 16)])  # cut at a segment boundary
    with pytest.raises(SealedFileError):
        stores.objects.get_bytes("bucket", "k")


def test_kms_sealed_object_needs_an_enabled_key(stores: Stores) -> None:
    key = stores.kms_keys.create_key(ACCOUNT, REGION)["KeyMetadata"]
    secret = b"a distinctive plaintext that must never reach the disk"
    info = stores.objects.put_object("bucket", "k", secret, encryption=Encryption.kms(key["Arn"]))
    assert info.encryption == Encryption(SSE_KMS, key["Arn"])
    assert stores.objects.head_object("bucket", "k").encryption == Encryption(SSE_KMS, key["Arn"])
    assert secret not in _on_disk(stores.objects, "k")
    assert stores.objects.get_bytes("bucket", "k") == secret
    stores.kms_keys.disable_key(ACCOUNT, REGION, key["KeyId"])
    with pytest.raises(DisabledException):
        stores.objects.get_bytes("bucket", "k")
    assert stores.objects.head_object("bucket", "k").size == len(secret)  # metadata needs no key
    stores.kms_keys.enable_key(ACCOUNT, REGION, key["KeyId"])
    copy = stores.objects.copy_object("bucket", "k", "bucket", "copy")
    assert copy.encryption == Encryption(SSE_S3)  # a copy takes the encryption it is given (default here)
    assert stores.objects.get_bytes("bucket", "copy") == secret


def test_multipart_parts_and_object_are_sealed(stores: Stores, tmp_path: Path) -> None:
    key = stores.kms_keys.create_key(ACCOUNT, REGION)["KeyMetadata"]
    objects = stores.objects
    upload = objects.create_multipart_upload("bucket", "big", encryption=Encryption.kms(key["Arn"]))
    assert objects.upload_encryption("bucket", "big", upload) == Encryption(SSE_KMS, key["Arn"])
    part1, part2 = b"\x11" * MIN_PART_SIZE, b"\x22" * 1000
    etags = [objects.upload_part("bucket", "big", upload, 1, io.BytesIO(part1)),
             objects.upload_part("bucket", "big", upload, 2, part2)]
    assert [p.size for p in objects.list_parts("bucket", "big", upload)] == [len(part1), len(part2)]
    for path in (tmp_path / "data" / "s3" / ".uploads" / upload).glob("part-*"):
        assert b"\x11" * 64 not in path.read_bytes() and b"\x22" * 64 not in path.read_bytes()
    info = objects.complete_multipart_upload("bucket", "big", upload, [(1, etags[0]), (2, etags[1])])
    assert info.size == len(part1) + len(part2) and info.encryption == Encryption(SSE_KMS, key["Arn"])
    assert objects.get_bytes("bucket", "big") == part1 + part2
    assert b"\x11" * 64 not in _on_disk(objects, "big")


def test_objects_kept_in_the_clear_stay_readable(stores: Stores, tmp_path: Path) -> None:
    clear = DirectoryObjectStore(tmp_path / "data" / "s3")  # a store without keys: as before sealing
    clear.put_object("bucket", "old", b"written in the clear")
    assert stores.objects.get_bytes("bucket", "old") == b"written in the clear"
    assert stores.objects.head_object("bucket", "old").encryption is None


def test_a_lost_sidecar_is_rebuilt_from_the_sealed_bytes(stores: Stores) -> None:
    data = os.urandom(SEGMENT + 7)
    stores.objects.put_object("bucket", "k", data)
    stores.objects._paths("bucket", "k")[1].unlink()
    info = stores.objects.head_object("bucket", "k")
    assert (info.size, info.etag, info.encryption) == (len(data), f'"{hashlib.md5(data).hexdigest()}"',
                                                       Encryption(SSE_S3))
    _, stream = stores.objects.open_object("bucket", "k")
    with stream:
        assert stream.read() == data
