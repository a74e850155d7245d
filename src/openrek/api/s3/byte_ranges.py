"""The HTTP Range header as S3 reads it: one `bytes=` range, resolved against the object's size."""

from __future__ import annotations

import re

from openrek.api.s3.errors import S3Error
from openrek.api.s3.numbers import saturating_decimal

# ASCII digits only ([0-9], not \d), of any length: a position past the end of every object saturates.
_RANGE = re.compile(r"[ \t]*bytes[ \t]*=[ \t]*([0-9]*)[ \t]*-[ \t]*([0-9]*)[ \t]*")


def resolve_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte positions, inclusive, or None to send the whole object.

    Like S3, a header that is not a single well-formed byte range is ignored; a range that starts past the
    end of the object is `InvalidRange` (416). Positions are ASCII digits of any length (RFC 9110 sets no
    bound): past 2**63 - 1 they count as that, so `bytes=0-<5,000 nines>` is the whole object.
    """
    if not header:
        return None
    match = _RANGE.fullmatch(header)
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first_text, last_text = match.groups()
    if not first_text:  # suffix range: the last N bytes
        length = _position(last_text)
        if length == 0 or size == 0:
            raise _invalid(size)
        return max(0, size - length), size - 1
    first = _position(first_text)
    last = _position(last_text) if last_text else size - 1
    if last_text and last < first:
        return None
    if first >= size:
        raise _invalid(size)
    return first, min(last, size - 1)


def _position(digits: str) -> int:
    value = saturating_decimal(digits)
    assert value is not None  # the pattern matched ASCII digits
    return value


def _invalid(size: int) -> S3Error:
    return S3Error("InvalidRange", "The requested range is not satisfiable.",
                   extra={"ActualObjectSize": str(size)},
                   headers={"Content-Range": f"bytes */{size}"})
