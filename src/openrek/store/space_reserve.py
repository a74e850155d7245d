"""Room kept back on the data disk, so that a full disk can still record what happened.

A training job that fills the disk fails with ENOSPC, and then recording its outcome in SQLite needs a
little room too. `SpaceReserve` keeps a file of a few MiB in the data dir; whoever cannot write for lack of
space releases it, writes what must be written (the version's failure), and the reserve is made again once
space allows.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

RESERVE_FILE = ".space-reserve"
RESERVE_BYTES = 16 * 1024 * 1024


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the disk is full: ENOSPC/EDQUOT, or SQLite's "disk is full"."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "database or disk is full" in str(seen) or "No space left on device" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class SpaceReserve:
    def __init__(self, data_dir: Path | str, size: int = RESERVE_BYTES) -> None:
        self.path = Path(data_dir) / RESERVE_FILE
        self.size = size
        self._lock = threading.Lock()

    def ensure(self) -> bool:
        """Keeps the reserve (True), unless the disk has no room for it now (False, tried again later)."""
        with self._lock:
            try:
                if self.path.exists() and self.path.stat().st_size >= self.size:
                    return True
                with open(self.path, "wb") as f:
                    os.posix_fallocate(f.fileno(), 0, self.size)
                return True
            except OSError as exc:
                self.path.unlink(missing_ok=True)
                if not is_disk_full(exc):
                    log.warning("could not keep %s: %s", self.path, exc)
                return False

    def release(self) -> bool:
        """Frees the reserve's room; True if there was one."""
        with self._lock:
            try:
                self.path.unlink()
                log.warning("the data disk is full: released %s to record what happened", self.path)
                return True
            except FileNotFoundError:
                return False
