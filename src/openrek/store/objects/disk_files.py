"""File helpers of `DirectoryObjectStore`: temp files named after the process writing them (and whether
that writer is gone), atomic JSON writes, moving a file into place, quiet unlinks and tolerant JSON reads."""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from pathlib import Path


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Temp files are created 0600; stored objects get the usual mode for new files instead.
_FILE_MODE = 0o666 & ~_current_umask()

# Which process writes a temp file rides in its name: "<kind>-<pid>-<incarnation>-<random>". A store that
# opens the root removes the temp files of writers that are gone (a crash, kill -9) at once: those whose
# process is not alive, and those of an earlier process that had this one's pid (a restarted container's
# server is often pid 1 again). The incarnation is drawn once per process (a forked child has another pid).
_INCARNATION = secrets.token_hex(4)
_TEMP_NAME = re.compile(r"[a-z]+-([0-9]{1,10})-([0-9a-f]{8})-")


def _temp_prefix(kind: str) -> str:
    return f"{kind}-{os.getpid()}-{_INCARNATION}-"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or a pid we cannot ask about: assume it writes
    return True


def _temp_owner_gone(name: str) -> bool | None:
    """True if the temp file `name` belongs to a writer that is gone, False if it may still be written,
    None if its name does not say (a file from before names carried their writer)."""
    m = _TEMP_NAME.match(name)
    if m is None:
        return None
    pid, incarnation = int(m.group(1)), m.group(2)
    if pid == os.getpid():
        return incarnation != _INCARNATION
    return not _process_alive(pid)


def _write_json_atomic(path: Path, obj: object, tmp_dir: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix=_temp_prefix("json"))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f)
        _replace_into(Path(tmp), path)
    except BaseException:
        _unlink_quietly(Path(tmp))
        raise


def _replace_into(tmp: Path, dest: Path, attempts: int = 20) -> None:
    """os.replace(tmp, dest), creating dest's parents; retries if a concurrent delete removes them."""
    for _ in range(attempts):
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dest)
            return
        except (FileNotFoundError, FileExistsError):
            # A concurrent delete pruned a directory on the way (mkdir saw it, then it was gone).
            if not tmp.exists():
                raise
    raise OSError(f"could not move {tmp} into {dest}: its directory kept disappearing")


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _read_json(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None
