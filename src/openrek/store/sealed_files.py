"""Objects encrypted at rest: the sealed file format, its streaming writer and seekable reader.

Every object the store keeps is sealed with its own random 256-bit data key (AES-256-GCM). The data key is
kept only wrapped, by whatever `DataKeys` the store was given: the server's master key for S3-managed
encryption (`AES256`, S3's default since 2023) or a KMS key (`aws:kms`). The store knows nothing of KMS;
`openrek.security.object_keys` supplies the keys.

Layout (lengths big-endian)::

    magic (8) | format version (1) | header length (4) | header (JSON: algorithm, key id, context,
    wrapped data key, nonce prefix) | segment 0 | segment 1 | ...

The plaintext is cut into 64 KiB segments, each AES-256-GCM-sealed on its own (16-byte tag) with the nonce
`prefix (7) | segment index (4) | last? (1)` and, as associated data, the SHA-256 of every byte before the
first segment. So a reader can seek (a ranged GET decrypts only the segments it needs), any altered byte or
header is caught, and so is a file cut at a segment boundary (its new last segment was not sealed as last).
An empty object is one empty last segment.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import secrets
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from openrek.store.seekable import SizedReader

MAGIC = b"\x89OREK\r\n\x1a"
FORMAT_VERSION = 2
SEGMENT = 64 * 1024
_TAG = 16
_PREFIX = 7
_MAX_HEADER = 64 * 1024
PEEK_BYTES = len(MAGIC) + 1  # enough of a file's start for `looks_sealed`

SSE_S3 = "AES256"
SSE_KMS = "aws:kms"
ALGORITHMS = (SSE_S3, SSE_KMS)


@dataclass(frozen=True)
class Encryption:
    """How an object is encrypted at rest, in S3's terms: `AES256` (a key the service manages) or `aws:kms`
    with the KMS key's ARN and the data key's encryption context."""

    algorithm: str = SSE_S3
    key_id: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def kms(cls, key_arn: str, context: Mapping[str, str] | None = None) -> Encryption:
        return cls(SSE_KMS, key_arn, dict(context or {}))

    @classmethod
    def for_key(cls, key_arn: str | None) -> Encryption | None:
        """Encryption under a KMS key when there is one; None (the store's default, AES256) otherwise."""
        return cls.kms(key_arn) if key_arn else None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"algorithm": self.algorithm}
        if self.key_id is not None:
            out["key_id"] = self.key_id
        if self.context:
            out["context"] = dict(self.context)
        return out

    @classmethod
    def from_json(cls, obj: object) -> Encryption | None:
        if not isinstance(obj, dict) or obj.get("algorithm") not in ALGORITHMS:
            return None
        key_id = obj.get("key_id")
        context = obj.get("context") or {}
        return cls(str(obj["algorithm"]), key_id if isinstance(key_id, str) else None,
                   {str(k): str(v) for k, v in context.items()} if isinstance(context, dict) else {})


class DataKeys(Protocol):
    """Where data keys come from: a fresh one for a write, the plaintext of a wrapped one for a read. Errors
    (a disabled or deleted KMS key, a master key that changed) propagate as the supplier's exceptions."""

    def generate(self, encryption: Encryption) -> tuple[bytes, bytes]:
        """(32-byte data key, its wrapped form) for `encryption`."""

    def unwrap(self, encryption: Encryption, wrapped: bytes) -> bytes:
        """The data key `wrapped` holds."""


class SealedFileError(Exception):
    """A sealed file is malformed, truncated or altered."""


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


def _header(encryption: Encryption, wrapped: bytes, prefix: bytes) -> bytes:
    doc = {**encryption.to_json(), "wrapped_key": base64.b64encode(wrapped).decode(),
           "nonce_prefix": base64.b64encode(prefix).decode(), "segment": SEGMENT}
    body = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return MAGIC + bytes([FORMAT_VERSION]) + struct.pack(">I", len(body)) + body


def looks_sealed(first_bytes: bytes) -> bool:
    """Whether a file starting with these bytes is sealed (the reader verifies the rest)."""
    return first_bytes[:len(MAGIC)] == MAGIC and first_bytes[len(MAGIC):len(MAGIC) + 1] == bytes([FORMAT_VERSION])


class SealingWriter:
    """Writes a sealed file to `out` as plaintext is fed in; `close()` seals the last segment."""

    def __init__(self, out: BinaryIO, keys: DataKeys, encryption: Encryption) -> None:
        data_key, wrapped = keys.generate(encryption)
        self._aead = AESGCM(data_key)
        self._prefix = secrets.token_bytes(_PREFIX)
        header = _header(encryption, wrapped, self._prefix)
        self._aad = hashlib.sha256(header).digest()
        self._out = out
        self._out.write(header)
        self._pending = bytearray()
        self._index = 0
        self.stored_size = len(header)
        self.closed = False

    def write(self, data: bytes) -> int:
        self._pending += data
        while len(self._pending) > SEGMENT:  # keep at least one byte back: the last segment is sealed apart
            self._seal(bytes(self._pending[:SEGMENT]), last=False)
            del self._pending[:SEGMENT]
        return len(data)

    def _seal(self, chunk: bytes, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._prefix, self._index, last), chunk, self._aad)
        self._out.write(sealed)
        self.stored_size += len(sealed)
        self._index += 1

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._pending), last=True)
            self._pending.clear()
            self.closed = True


@dataclass(frozen=True)
class _Header:
    encryption: Encryption
    wrapped: bytes
    prefix: bytes
    aad: bytes
    length: int  # bytes before the first segment


def _read_header(f: BinaryIO) -> _Header:
    start = f.read(len(MAGIC) + 1 + 4)
    if len(start) < len(MAGIC) + 5 or not looks_sealed(start):
        raise SealedFileError("not a sealed object")
    (body_len,) = struct.unpack(">I", start[len(MAGIC) + 1:])
    if body_len > _MAX_HEADER:
        raise SealedFileError("the sealed object's header is too long")
    body = f.read(body_len)
    try:
        doc = json.loads(body)
        encryption = Encryption.from_json(doc)
        wrapped = base64.b64decode(doc["wrapped_key"], validate=True)
        prefix = base64.b64decode(doc["nonce_prefix"], validate=True)
        segment = doc["segment"]
    except (ValueError, KeyError, TypeError):
        raise SealedFileError("the sealed object's header is malformed") from None
    if encryption is None or len(prefix) != _PREFIX or segment != SEGMENT or len(body) != body_len:
        raise SealedFileError("the sealed object's header is malformed")
    return _Header(encryption, wrapped, prefix, hashlib.sha256(start + body).digest(), len(start) + body_len)


def plaintext_size(stored_size: int, header_length: int) -> int:
    body = stored_size - header_length
    full, rest = divmod(body, SEGMENT + _TAG)
    if body <= 0 or 0 < rest < _TAG:
        raise SealedFileError("the sealed object is truncated")
    return full * SEGMENT if rest == 0 else full * SEGMENT + rest - _TAG


class SealedReader(SizedReader):
    """The plaintext of a sealed file, readable and seekable; decrypts one segment at a time. Takes
    ownership of `raw` (closing this closes it)."""

    def __init__(self, raw: BinaryIO, keys: DataKeys) -> None:
        super().__init__()
        self._raw = raw
        try:
            raw.seek(0)
            self._header = _read_header(raw)
            self.size = plaintext_size(raw.seek(0, io.SEEK_END), self._header.length)  # a file or any seekable
            self._aead = AESGCM(keys.unwrap(self._header.encryption, self._header.wrapped))
        except BaseException:
            raw.close()
            raise
        self._segments = max(1, -(-self.size // SEGMENT))
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None

    @property
    def encryption(self) -> Encryption:
        return self._header.encryption

    def _segment(self, index: int) -> bytes:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        self._raw.seek(self._header.length + index * (SEGMENT + _TAG))
        last = index == self._segments - 1
        sealed = self._raw.read(SEGMENT + _TAG)
        try:
            plain = self._aead.decrypt(_nonce(self._header.prefix, index, last), sealed, self._header.aad)
        except InvalidTag:
            raise SealedFileError("the sealed object was altered or truncated") from None
        self._cached = (index, plain)
        return plain

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._pos >= self.size:
            return 0
        index, offset = divmod(self._pos, SEGMENT)
        chunk = self._segment(index)[offset:offset + len(buffer)]
        buffer[:len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = max(0, self.size - self._pos)
        out = bytearray()
        while len(out) < size and self._pos < self.size:
            index, offset = divmod(self._pos, SEGMENT)
            chunk = self._segment(index)[offset:offset + size - len(out)]
            out += chunk
            self._pos += len(chunk)
        return bytes(out)

    def readall(self) -> bytes:
        return self.read(-1)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()
