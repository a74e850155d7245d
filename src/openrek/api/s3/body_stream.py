"""A blocking, file-like view of a Starlette request body, for store calls running in a worker thread.

`read()` pulls the next chunk from the event loop with `anyio.from_thread.run`, so a large upload streams
to disk without being held in memory. Use it only from a thread started by `run_in_threadpool`.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import anyio.from_thread


class ThreadedBodyReader(io.RawIOBase):
    """Read an async byte stream from a worker thread.

    Every read costs time in proportion to what it returns, whatever the read sizes and however large the
    stream's chunks: the unread rest of a chunk is kept with an offset, never copied again per read.
    """

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""  # the current chunk; bytes before _offset have been read
        self._offset = 0
        self._eof = False

    def readable(self) -> bool:
        return True

    async def _next_chunk(self) -> bytes | None:
        try:
            while True:
                chunk = await self._chunks.__anext__()
                if chunk:
                    return chunk
        except StopAsyncIteration:
            return None

    def _fill(self) -> bool:
        """Make the buffer hold unread bytes, if the stream has more; False at its end."""
        if self._offset < len(self._buffer):
            return True
        if self._eof:
            return False
        chunk = anyio.from_thread.run(self._next_chunk)
        if chunk is None:
            self._eof = True
            self._buffer, self._offset = b"", 0
            return False
        self._buffer, self._offset = bytes(chunk), 0
        return True

    def _take(self, size: int) -> bytes:
        data = self._buffer[self._offset:self._offset + size]
        self._offset += len(data)
        return data

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            parts = []
            while self._fill():
                parts.append(self._take(len(self._buffer)))
            return b"".join(parts)
        if size == 0 or not self._fill():
            return b""
        return self._take(size)

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        limit = -1 if size is None else size
        parts: list[bytes] = []
        taken = 0
        while (limit < 0 or taken < limit) and self._fill():
            stop = len(self._buffer) if limit < 0 else min(len(self._buffer), self._offset + limit - taken)
            end = self._buffer.find(b"\n", self._offset, stop) + 1 or stop
            want = end - self._offset
            part = self._take(want)
            parts.append(part)
            taken += len(part)
            if part.endswith(b"\n"):
                break
        return b"".join(parts)
