"""Decoding `Content-Encoding: aws-chunked` request bodies (SigV4 streaming uploads).

Each chunk is `<hex size>[;chunk-signature=<sig>]\r\n<bytes>\r\n`; a zero-size chunk ends the data and may be
followed by trailer lines (`x-amz-checksum-crc32:<b64>`, `x-amz-trailer-signature:<sig>`) and an empty line.
With a `ChunkChain` (a signed streaming upload whose seed signature was verified), every chunk's signature
— and the trailer's, in the -TRAILER variant — must match, else SignatureDoesNotMatch.
"""

from __future__ import annotations

import hashlib
import io
import re
from typing import BinaryIO

from openrek.api.s3.errors import S3Error
from openrek.security.sigv4 import ChunkChain

_MAX_LINE = 64 * 1024
_MAX_TRAILERS = 64
_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}")  # a chunk is at most 2**64 - 1 bytes: 16 hex digits


def _incomplete(message: str) -> S3Error:
    return S3Error("IncompleteBody", f"The aws-chunked request body is malformed: {message}.")


class AwsChunkedReader(io.RawIOBase):
    """The decoded payload of an aws-chunked body; `trailers` holds the trailing headers once read to the end."""

    def __init__(self, raw: BinaryIO, chain: ChunkChain | None = None) -> None:
        self._raw = raw
        self._remaining = 0  # bytes left in the current chunk
        self._done = False
        self._chain = chain
        self._claimed: str | None = None  # the current chunk's chunk-signature
        self._hash = hashlib.sha256()
        self.trailers: dict[str, str] = {}

    def readable(self) -> bool:
        return True

    def _line(self) -> bytes:
        line = self._raw.readline(_MAX_LINE)
        if not line.endswith(b"\n"):
            raise _incomplete("a chunk header or trailer line was cut short")
        return line.rstrip(b"\r\n")

    def _next_chunk(self) -> None:
        header = self._line()
        size_text, _, extension = header.partition(b";")
        size_text = size_text.strip(b" \t")
        # Hex digits only: int(text, 16) also takes "-1", "0xd", "0_d" and " +d".
        if not _CHUNK_SIZE.fullmatch(size_text):
            raise _incomplete(f"bad chunk size {size_text[:20]!r}")
        size = int(size_text, 16)
        name, _, value = extension.decode("latin-1").partition("=")
        self._claimed = value.strip() if name.strip() == "chunk-signature" else None
        self._hash = hashlib.sha256()
        if size == 0:
            self._verify_chunk()
            self._read_trailers()
            self._done = True
        self._remaining = size

    def _verify_chunk(self) -> None:
        if self._chain is not None and not self._chain.check_chunk(self._claimed, self._hash.hexdigest()):
            raise S3Error("SignatureDoesNotMatch", "The chunk signature we calculated does not match the "
                          "chunk-signature you provided. Check your secret access key and signing method.")

    def _read_trailers(self) -> None:
        signed: list[bytes] = []
        for _ in range(_MAX_TRAILERS + 1):
            line = self._raw.readline(_MAX_LINE)
            if not line or line in (b"\r\n", b"\n"):
                break
            name, sep, value = line.decode("latin-1").rstrip("\r\n").partition(":")
            if not sep:
                raise _incomplete(f"bad trailer line {line[:40]!r}")
            self.trailers[name.strip().lower()] = value.strip()
            if name.strip().lower() != "x-amz-trailer-signature":
                signed.append(f"{name.strip()}:{value.strip()}\n".encode("latin-1"))
        else:
            raise _incomplete(f"more than {_MAX_TRAILERS} trailer lines")
        chain = self._chain
        if chain is not None and chain.trailer_signed and not chain.check_trailer(
                self.trailers.get("x-amz-trailer-signature"), b"".join(signed)):
            raise S3Error("SignatureDoesNotMatch", "The trailer signature we calculated does not match the "
                          "x-amz-trailer-signature you provided.")

    def _end_chunk(self) -> None:
        crlf = b""
        while len(crlf) < 2 and (more := self._raw.read(2 - len(crlf))):
            crlf += more
        if crlf != b"\r\n":
            raise _incomplete("a chunk is longer than its declared size")

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            parts = []
            while chunk := self.read(1024 * 1024):
                parts.append(chunk)
            return b"".join(parts)
        while not self._done and self._remaining == 0:
            self._next_chunk()
        if self._done or size == 0:
            return b""
        data = self._raw.read(min(size, self._remaining))
        if not data:
            raise _incomplete("the body ended inside a chunk")
        self._remaining -= len(data)
        if self._chain is not None:
            self._hash.update(data)
        if self._remaining == 0:
            self._verify_chunk()
            self._end_chunk()
        return data

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)
