"""Text lines kept out of memory while a manifest is validated: an anonymous temporary file.

A manifest may be 1 GB; its lines, their validation lines and the valid lines' JSON all live in a
`LineSpool` rather than in Python objects, so validating one costs memory for its *records* only.
The file is unlinked from the moment it exists (nothing is left behind, even after kill -9) and every
line is sealed with AES-GCM under a key that exists only in this process's memory, so manifest
content never lies on disk in the clear. Reads use `pread`, so threads may read concurrently.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from array import array
from collections.abc import Iterable, Iterator

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class LineSpool:
    """An append-only list of text lines in a sealed temporary file; `append` returns the line's index."""

    def __init__(self, directory: str | None = None) -> None:
        self._file = tempfile.TemporaryFile(prefix="openrek-lines-", dir=directory)
        self._fd = self._file.fileno()
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self._offsets = array("q")
        self._lengths = array("q")
        self._end = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._offsets)

    def append(self, text: str) -> int:
        with self._lock:
            index = len(self._offsets)
            sealed = self._aead.encrypt(index.to_bytes(12, "big"), text.encode("utf-8"), None)
            written = 0
            while written < len(sealed):
                written += os.pwrite(self._fd, sealed[written:], self._end + written)
            self._offsets.append(self._end)
            self._lengths.append(len(sealed))
            self._end += len(sealed)
            return index

    def text(self, index: int) -> str:
        sealed = os.pread(self._fd, self._lengths[index], self._offsets[index])
        return self._aead.decrypt(index.to_bytes(12, "big"), sealed, None).decode("utf-8")

    def close(self) -> None:
        self._file.close()


class JsonLinesStream(io.RawIOBase):
    """A readable binary stream of `lines`, each UTF-8 encoded and ended by a newline, made as it is
    read: an output file of a million lines is written without ever being whole in memory."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines: Iterator[str] = iter(lines)
        self._pending = bytearray()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        want = len(buffer)
        while len(self._pending) < want:
            line = next(self._lines, None)
            if line is None:
                break
            self._pending += (line + "\n").encode("utf-8")
        n = min(want, len(self._pending))
        buffer[:n] = self._pending[:n]
        del self._pending[:n]
        return n


__all__ = ["JsonLinesStream", "LineSpool"]
