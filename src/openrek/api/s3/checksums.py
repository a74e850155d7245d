"""Request payload integrity: Content-MD5, x-amz-content-sha256 and the flexible x-amz-checksum-* values.

`VerifyingReader` wraps a body, hashes it as the store reads it, and raises `S3Error` at the end of the body
if a digest or the length does not match, so the store never commits a corrupted object. CRC32, SHA1 and
SHA256 are verified with the standard library; CRC32C and CRC64NVME (which botocore only sends when the AWS
CRT is installed) are accepted and echoed without verification.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import zlib
from collections.abc import Callable, Mapping
from typing import BinaryIO, Protocol

from openrek.api.s3.errors import S3Error

CHECKSUM_ALGORITHMS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")


class _Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


class _Crc32:
    def __init__(self) -> None:
        self._value = 0

    def update(self, data: bytes) -> None:
        self._value = zlib.crc32(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(4, "big")


_HASHERS: dict[str, Callable[[], _Hasher]] = {
    "crc32": _Crc32,
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
}


def checksum_header(algorithm: str) -> str:
    return f"x-amz-checksum-{algorithm}"


class VerifyingReader(io.RawIOBase):
    """Pass a body through, checking its length and digests when it ends."""

    def __init__(self, inner: BinaryIO, *, expected_length: int | None, content_md5: str | None,
                 content_sha256_hex: str | None, checksums: Mapping[str, str | None],
                 trailers: Callable[[], Mapping[str, str]] | None = None) -> None:
        """`checksums` maps an algorithm to its base64 value, or to None when the value comes in a trailer."""
        self._inner = inner
        self._expected_length = expected_length
        self._length = 0
        self._trailers = trailers
        self._expected: dict[str, tuple[str, str | None]] = {}  # name -> (kind, expected value)
        self._hashers: dict[str, _Hasher] = {}
        if content_md5 is not None:
            self._expected["md5"] = ("md5", content_md5)
            self._hashers["md5"] = hashlib.md5()
        if content_sha256_hex is not None:
            self._expected["sha256-hex"] = ("sha256-hex", content_sha256_hex.lower())
            self._hashers["sha256-hex"] = hashlib.sha256()
        for algorithm, value in checksums.items():
            self._expected[algorithm] = ("checksum", value)
            if algorithm in _HASHERS:
                self._hashers[algorithm] = _HASHERS[algorithm]()
        self.verified: dict[str, str] = {}  # algorithm -> base64 value, for echoing in the response
        self._finished = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size)
        if data:
            self._length += len(data)
            for hasher in self._hashers.values():
                hasher.update(data)
        elif size != 0 and not self._finished:
            self._finished = True
            self._finish()
        return data

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def _finish(self) -> None:
        if self._expected_length is not None and self._length != self._expected_length:
            raise S3Error("IncompleteBody", f"You did not provide the number of bytes specified by the "
                          f"Content-Length HTTP header ({self._expected_length} expected, {self._length} received).")
        trailers = self._trailers() if self._trailers else {}
        for name, (kind, expected) in self._expected.items():
            if kind == "md5":
                assert expected is not None
                try:
                    wanted = base64.b64decode(expected, validate=True)
                except binascii.Error:
                    raise S3Error("InvalidDigest", "The Content-MD5 you specified was not valid base64.") from None
                if wanted != self._hashers[name].digest():
                    raise S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.")
            elif kind == "sha256-hex":
                if expected != self._hashers[name].digest().hex():
                    raise S3Error("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does "
                                  "not match what was computed.")
            else:
                value = expected if expected is not None else trailers.get(checksum_header(name))
                if value is None:
                    raise S3Error("IncompleteBody", f"The request promised a trailing {checksum_header(name)} "
                                  "but the body did not include it.")
                if name in self._hashers:
                    actual = base64.b64encode(self._hashers[name].digest()).decode("ascii")
                    if actual != value.strip():
                        raise S3Error("BadDigest", f"The {name.upper()} you specified did not match the "
                                      "calculated checksum.")
                self.verified[name] = value.strip()
