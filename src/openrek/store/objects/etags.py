"""What every object store computes the same way: etags (quoted md5s, a multipart upload's md5 of md5s),
data read in chunks, and S3's rules for which parts may complete a multipart upload."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import BinaryIO

from openrek.store.objects.errors import EntityTooSmall, InvalidArgument, InvalidPart, InvalidPartOrder
from openrek.store.objects.interface import MIN_PART_SIZE

COPY_CHUNK = 1024 * 1024


def quote_etag(hex_digest: str) -> str:
    return f'"{hex_digest}"'


def normalize_etag(etag: str) -> str:
    """An etag as a client may send it (quoted, weak, padded) reduced to its bare value."""
    etag = etag.strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"')


def multipart_etag(part_md5s: list[str]) -> str:
    """S3's etag of a completed multipart upload: the md5 of the parts' md5s, then "-" and their count."""
    combined = hashlib.md5(b"".join(bytes.fromhex(md5) for md5 in part_md5s)).hexdigest()
    return quote_etag(f"{combined}-{len(part_md5s)}")


def iter_chunks(data: bytes | BinaryIO | Iterator[bytes]) -> Iterator[bytes]:
    """`data` as chunks of at most `COPY_CHUNK` bytes (bytes as one chunk; an iterator as it comes)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        yield bytes(data)
        return
    if not hasattr(data, "read"):
        yield from data  # type: ignore[misc]
        return
    while True:
        chunk = data.read(COPY_CHUNK)  # type: ignore[union-attr]
        if not chunk:
            return
        yield chunk


def parts_to_complete(bucket: str, key: str, parts: list[tuple[int, str]],
                      stored: Mapping[int, tuple[str, int]]) -> list[int]:
    """The part numbers a CompleteMultipartUpload names, checked as S3 checks them against the uploaded
    parts (`stored`: part number -> (md5 hex, plaintext size)): at least one, ascending, each uploaded
    with that etag, and every one but the last at least `MIN_PART_SIZE` bytes."""
    if not parts:
        raise InvalidArgument("A multipart upload must be completed with at least one part.",
                              bucket=bucket, key=key)
    numbers = [n for n, _ in parts]
    if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
        raise InvalidPartOrder("The list of parts was not in ascending order by part number.",
                               bucket=bucket, key=key)
    for n, etag in parts:
        if n not in stored or stored[n][0] != normalize_etag(etag):
            raise InvalidPart(
                f"Part {n} was not uploaded, or its ETag {etag} does not match the uploaded part.",
                bucket=bucket, key=key)
    for n in numbers[:-1]:
        if stored[n][1] < MIN_PART_SIZE:
            raise EntityTooSmall(
                f"Part {n} is {stored[n][1]} bytes; every part but the last must be at least "
                f"{MIN_PART_SIZE} bytes.", bucket=bucket, key=key)
    return numbers
