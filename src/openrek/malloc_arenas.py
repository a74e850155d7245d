"""Caps glibc's malloc arenas for the server process.

glibc gives each thread that meets contention its own arena (up to 8 per core), and each arena keeps
the memory it once held, fragmented: a threaded server whose requests allocate images, arrays and
bodies on many threads grows by tens of MiB over an hour without leaking anything. Two arenas keep that
growth small, for about 2 % of throughput (`bench/soak.py`, 5 minutes: +50 → +38 MiB, 100 → 98
requests/s). Set before threads start; `OPENREK_MALLOC_ARENAS`
overrides the number (0 leaves glibc's default). Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

_M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h
DEFAULT_ARENAS = 2


def cap_malloc_arenas() -> int | None:
    """Cap the arenas; returns the cap applied, or None when left as it was."""
    raw = os.environ.get("OPENREK_MALLOC_ARENAS", str(DEFAULT_ARENAS)).strip()
    try:
        arenas = int(raw)
    except ValueError:
        return None
    if arenas <= 0:
        return None
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return None
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return arenas if mallopt(_M_ARENA_MAX, arenas) == 1 else None


__all__ = ["cap_malloc_arenas"]
