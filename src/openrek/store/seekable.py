"""`SizedReader`: the position bookkeeping of a read-only stream of known size (readable, seekable, tell,
seek anywhere up to and past the end), shared by the sealed-object reader and the remote-object reader."""

from __future__ import annotations

import io


class SizedReader(io.RawIOBase):
    """A readable, seekable stream of `size` bytes; subclasses read from `_pos`."""

    size: int = 0
    _pos: int = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos
