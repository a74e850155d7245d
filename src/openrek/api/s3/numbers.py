"""Numbers in S3 query parameters, headers and request documents, parsed one strict way.

`str.isdigit()` and `int()` are too lenient for the wire: `isdigit` accepts "²" (which `int` then refuses),
`int` accepts " 5", "+5", "5_0" and non-ASCII digits such as "١", and converting a 5,000-digit string raises
(Python refuses more than 4,300 digits) instead of answering. Here a number is ASCII digits only, and a
value with more digits than its largest allowed value has is refused (or, for byte positions, saturated)
without ever being converted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from openrek.api.s3.errors import S3Error, shown_value

INT32_MAX = 2**31 - 1  # S3's bound for max-keys, max-parts, max-uploads, part-number-marker
INT64_MAX = 2**63 - 1  # lengths and byte positions

_DIGITS = re.compile(r"[0-9]+")  # not \d, which matches every Unicode digit
_SIGNED = re.compile(r"-?[0-9]+")


def decimal(text: str | None, maximum: int = INT64_MAX) -> int | None:
    """The value of `text` if it is ASCII digits worth at most `maximum`, else None."""
    if not text or not _DIGITS.fullmatch(text):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(maximum)):
        return None
    value = int(significant)
    return value if value <= maximum else None


def saturating_decimal(text: str, cap: int = INT64_MAX) -> int | None:
    """ASCII digits of any length as min(value, cap) (a byte position past any object is just "very
    large"); None if `text` is not ASCII digits."""
    if not text or not _DIGITS.fullmatch(text):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(cap)):
        return cap
    return min(int(significant), cap)


def query_integer(query: Mapping[str, str], name: str, *, default: int, minimum: int = 0,
                  maximum: int = INT32_MAX, argument: str | None = None) -> int:
    """The integer query parameter `name` (absent or empty: `default`), worded as S3 refuses one:
    InvalidArgument "Provided max-keys not an integer or within integer range" for what is not a 32-bit
    integer, "Argument maxKeys must be an integer between 0 and 2147483647" for one out of bounds."""
    text = query.get(name)
    if text is None or text == "":
        return default
    value: int | None = None
    if _SIGNED.fullmatch(text) and len(text.lstrip("-").lstrip("0")) <= len(str(INT32_MAX)):
        value = int(text)
        if not -INT32_MAX - 1 <= value <= INT32_MAX:
            value = None
    if value is None:
        raise S3Error("InvalidArgument", f"Provided {name} not an integer or within integer range",
                      extra={"ArgumentName": name, "ArgumentValue": shown_value(text)})
    if not minimum <= value <= maximum:
        raise S3Error("InvalidArgument", f"Argument {argument or name} must be an integer between {minimum} and "
                      f"{maximum}", extra={"ArgumentName": argument or name, "ArgumentValue": shown_value(text)})
    return value


def header_length(headers: Mapping[str, str], name: str) -> int | None:
    """A length header (Content-Length, x-amz-decoded-content-length): None when absent, InvalidArgument
    when it is not a non-negative decimal number that fits 64 bits."""
    text = headers.get(name)
    if text is None:
        return None
    value = decimal(text.strip())
    if value is None:
        raise S3Error("InvalidArgument", f"The {name} header must be a non-negative decimal number of bytes.",
                      extra={"ArgumentName": name, "ArgumentValue": shown_value(text)})
    return value
