"""A blocking, file-like view of a Starlette request body, for store calls running in a worker thread.

`read()` pulls the next chunk from the event loop with `anyio.from_thread.run`, so a large upload streams
to disk without being held in memory. Use it only from a thread started by `run_in_threadpool`.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import anyio.from_thread


class ThreadedBodyReader(io.RawIOBase):
    """Read an async byte stream from a worker thread."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""
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
        if self._eof:
            return False
        chunk = anyio.from_thread.run(self._next_chunk)
        if chunk is None:
            self._eof = True
            return False
        self._buffer += chunk
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            while self._fill():
                pass
            data, self._buffer = self._buffer, b""
            return data
        if not self._buffer:
            self._fill()
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        limit = -1 if size is None else size
        while b"\n" not in self._buffer and (limit < 0 or len(self._buffer) < limit) and self._fill():
            pass
        end = self._buffer.find(b"\n") + 1 or len(self._buffer)
        if limit >= 0:
            end = min(end, limit)
        line, self._buffer = self._buffer[:end], self._buffer[end:]
        return line
