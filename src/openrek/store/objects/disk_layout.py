"""How `DirectoryObjectStore` spells a key on disk: each "/"-separated segment percent-escaped into a
directory name (ending "%2F") or a file name, and back (see the `directory` module docstring)."""

from __future__ import annotations

import re

from openrek.store.objects.errors import KeyTooLongError
from openrek.store.objects.naming import validate_key

_DIR_SUFFIX = "%2F"
_EMPTY_FILE = "%"
_META_SUFFIX = ".json"
_MAX_NAME_BYTES = 255
_MAX_PATH_BYTES = 4096  # PATH_MAX on Linux, the terminating NUL included
_UNSAFE = frozenset('%\\:*?"<>|') | {chr(c) for c in range(0x20)} | {"\x7f"}
_ESCAPE_RE = re.compile(r"%([0-9A-F]{2})")


def _encode_segment(segment: str) -> str:
    out = []
    for i, ch in enumerate(segment):
        if ch in _UNSAFE or (i == 0 and ch == "."):
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


def _decode_segment(name: str) -> str:
    # Every escape is of an ASCII character, so the escapes decode one byte -> one character.
    return _ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), name)


def _file_name(segment: str) -> str:
    return _EMPTY_FILE if segment == "" else _encode_segment(segment)


def _dir_name(segment: str) -> str:
    return _encode_segment(segment) + _DIR_SUFFIX


def _key_parts(bucket: str, key: str) -> list[str]:
    """The relative path components (directories, then the file) that hold `key`."""
    validate_key(key, bucket)
    segments = key.split("/")
    parts = [_dir_name(s) for s in segments[:-1]] + [_file_name(segments[-1])]
    for part in parts:
        if len(part.encode("utf-8")) + len(_META_SUFFIX) > _MAX_NAME_BYTES:
            raise KeyTooLongError(
                "One '/'-separated segment of the key is too long for a file name on this object store "
                f"(at most about {_MAX_NAME_BYTES - 10} bytes once escaped); use shorter segments.",
                bucket=bucket, key=key)
    return parts
