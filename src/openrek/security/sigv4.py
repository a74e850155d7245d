"""Verifies AWS Signature Version 4 on a request, once for every protocol (JSON 1.1 and S3 REST).

`verify(request, secret_for, now)` recomputes the signature of a header-signed (`Authorization:
AWS4-HMAC-SHA256 …`) or presigned (`X-Amz-Signature=…` in the query) request from the request as it
arrived, and returns the caller's `VerifiedSignature` — or raises `SigV4Error` whose `kind` each protocol
maps onto its own error codes (`error_codes.py`). The rules are AWS's: canonical request, string to
sign, the HMAC key chain of date/region/service; a 15-minute clock skew for header auth; `X-Amz-Expires`
(1 s to 7 days) for presigned URLs; `UNSIGNED-PAYLOAD` and the `STREAMING-…` payload markers are signed as
given (the streaming chunks are checked with `chunk_signature`). S3 signs the path as sent; every other
service signs it normalised and encoded once more, as botocore does.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=15)
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_HEADER_PARTS = re.compile(r"\s*(Credential|SignedHeaders|Signature)\s*=\s*([^,\s]*)\s*")
_SPACES = re.compile(r"\s+")


class SigV4ErrorKind(StrEnum):
    MISSING = "missing"  # no authentication at all
    MALFORMED = "malformed"  # an Authorization header or presign query that is not SigV4 as AWS writes it
    UNSUPPORTED = "unsupported"  # another scheme (SigV2, …)
    UNKNOWN_KEY = "unknown_key"  # the access key id is not known
    MISMATCH = "mismatch"  # the signature does not match
    SKEWED = "skewed"  # header auth more than 15 minutes off the server's clock
    EXPIRED = "expired"  # a presigned URL past X-Amz-Expires


class SigV4Error(Exception):
    def __init__(self, kind: SigV4ErrorKind, message: str, *, access_key: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.access_key = access_key


@dataclass(frozen=True)
class SignedRequest:
    """A request as it arrived: raw (still percent-encoded) path and query, headers, the payload hash.

    `payload_sha256`: the hex SHA-256 of the body, needed only when the client did not send
    `x-amz-content-sha256` (JSON services); None when the body was not read.
    """

    method: str
    raw_path: str
    raw_query: str
    headers: Sequence[tuple[str, str]]
    payload_sha256: str | None = None

    def header(self, name: str) -> str | None:
        lname = name.lower()
        values = [v for k, v in self.headers if k.lower() == lname]
        return ",".join(values) if values else None


@dataclass(frozen=True)
class VerifiedSignature:
    access_key: str
    date: str  # YYYYMMDD of the credential scope
    region: str
    service: str
    amz_date: str  # the request's timestamp, YYYYMMDD'T'HHMMSS'Z'
    signature: str  # the seed signature of a streaming upload
    signing_key: bytes
    payload: str  # what was signed as the payload: a hash, UNSIGNED-PAYLOAD or a STREAMING-… marker
    presigned: bool

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@dataclass(frozen=True)
class _Claim:
    access_key: str
    date: str
    region: str
    service: str
    signed_headers: list[str]
    signature: str
    amz_date: str
    presigned: bool
    expires: int | None


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def _hmac_hex(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _scope(credential: str, where: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not re.fullmatch(r"\d{8}", parts[1]) or not parts[0]:
        raise SigV4Error(SigV4ErrorKind.MALFORMED,
                         f"{where} Credential must be <access key>/<YYYYMMDD>/<region>/<service>/aws4_request, "
                         f"not {credential!r}.")
    return parts[0], parts[1], parts[2], parts[3]


def _query_pairs(raw_query: str) -> list[tuple[str, str]]:
    pairs = []
    for item in raw_query.split("&") if raw_query else []:
        if item:
            key, _, value = item.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return pairs


def _claim(request: SignedRequest) -> _Claim:
    auth = request.header("authorization")
    query = dict(_query_pairs(request.raw_query))
    if auth is not None:
        scheme, _, rest = auth.strip().partition(" ")
        if scheme != ALGORITHM:
            kind = SigV4ErrorKind.UNSUPPORTED if scheme in ("AWS", "AWS4-ECDSA-P256-SHA256") else SigV4ErrorKind.MALFORMED
            raise SigV4Error(kind, f"The Authorization header uses {scheme or 'no scheme'!r}; openrek accepts AWS "
                                   f"Signature Version 4 ({ALGORITHM}) only.")
        fields: dict[str, str] = {}
        for part in rest.split(","):
            m = _HEADER_PARTS.fullmatch(part)
            if m is None:
                raise SigV4Error(SigV4ErrorKind.MALFORMED, f"Authorization header part {part.strip()!r} is not "
                                                           "Credential=…, SignedHeaders=… or Signature=….")
            fields[m.group(1)] = m.group(2)
        missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not fields.get(k)]
        if missing:
            raise SigV4Error(SigV4ErrorKind.MALFORMED, f"Authorization header requires {', '.join(missing)}.")
        amz_date = request.header("x-amz-date")
        if not amz_date:
            date_header = request.header("date")
            amz_date = _from_http_date(date_header) if date_header else None
        if not amz_date:
            raise SigV4Error(SigV4ErrorKind.MALFORMED, "A signed request needs an X-Amz-Date (or Date) header.")
        key, date, region, service = _scope(fields["Credential"], "The Authorization header's")
        return _Claim(key, date, region, service, fields["SignedHeaders"].split(";"), fields["Signature"],
                      amz_date, False, None)
    if "X-Amz-Signature" in query or query.get("X-Amz-Algorithm"):
        if query.get("X-Amz-Algorithm") != ALGORITHM:
            raise SigV4Error(SigV4ErrorKind.UNSUPPORTED, f"X-Amz-Algorithm must be {ALGORITHM}.")
        need = ["X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Expires"]
        missing = [k for k in need if not query.get(k)]
        if missing:
            raise SigV4Error(SigV4ErrorKind.MALFORMED, f"A presigned URL requires {', '.join(missing)}.")
        try:
            expires = int(query["X-Amz-Expires"])
        except ValueError:
            raise SigV4Error(SigV4ErrorKind.MALFORMED, "X-Amz-Expires must be a number of seconds.") from None
        if not 1 <= expires <= MAX_PRESIGN_EXPIRES:
            raise SigV4Error(SigV4ErrorKind.MALFORMED,
                             f"X-Amz-Expires must be between 1 and {MAX_PRESIGN_EXPIRES} seconds (7 days).")
        key, date, region, service = _scope(query["X-Amz-Credential"], "X-Amz-Credential's")
        return _Claim(key, date, region, service, query["X-Amz-SignedHeaders"].split(";"),
                      query["X-Amz-Signature"], query["X-Amz-Date"], True, expires)
    if "Signature" in query and "AWSAccessKeyId" in query:
        raise SigV4Error(SigV4ErrorKind.UNSUPPORTED, "Signature Version 2 query authentication is not supported; "
                                                     "presign with Signature Version 4 (boto3: "
                                                     "Config(signature_version='s3v4')).")
    raise SigV4Error(SigV4ErrorKind.MISSING, "The request is not signed (no Authorization header and no "
                                             "X-Amz-Signature): sign it with AWS Signature Version 4.")


def _from_http_date(value: str) -> str | None:
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    except (TypeError, ValueError, OverflowError, IndexError):  # an 11-digit year overflows
        return None


def _parse_amz_date(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise SigV4Error(SigV4ErrorKind.MALFORMED, f"X-Amz-Date {value!r} is not YYYYMMDD'T'HHMMSS'Z'.") from None


def _canonical_path(raw_path: str, service: str) -> str:
    """S3 signs the path exactly as sent; other services sign it dot-segment normalised (repeated slashes
    removed) and percent-encoded once more, as botocore does."""
    path = raw_path or "/"
    if service == "s3":
        return path
    return quote(_remove_dot_segments(path), safe="/~")


def _remove_dot_segments(path: str) -> str:
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and kept else ""
    return first + "/".join(kept) + last


def _canonical_query(raw_query: str, presigned: bool) -> str:
    pairs = [(quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in _query_pairs(raw_query)
             if not (presigned and k == "X-Amz-Signature")]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _canonical_headers(request: SignedRequest, names: list[str]) -> str:
    lines = []
    for name in names:
        values = [_SPACES.sub(" ", v.strip()) for k, v in request.headers if k.lower() == name]
        lines.append(f"{name}:{','.join(values)}\n")
    return "".join(lines)


def canonical_request(request: SignedRequest, claim_service: str, signed_headers: list[str], presigned: bool,
                      payload: str) -> str:
    return "\n".join([
        request.method.upper(),
        _canonical_path(request.raw_path, claim_service),
        _canonical_query(request.raw_query, presigned),
        _canonical_headers(request, signed_headers),
        ";".join(signed_headers),
        payload,
    ])


def verify(request: SignedRequest, secret_for: Callable[[str], str | None], now: datetime | None = None,
           *, required_headers: Mapping[str, str] | None = None) -> VerifiedSignature:
    """The verified caller of `request`, or `SigV4Error`. `secret_for(access_key)`: the secret, or None."""
    claim = _claim(request)
    now = now or datetime.now(UTC)
    when = _parse_amz_date(claim.amz_date)
    if claim.amz_date[:8] != claim.date:
        raise SigV4Error(SigV4ErrorKind.MALFORMED,
                         f"The credential scope's date {claim.date} is not the request's date {claim.amz_date[:8]}.",
                         access_key=claim.access_key)
    if "host" not in claim.signed_headers:
        raise SigV4Error(SigV4ErrorKind.MALFORMED, "SignedHeaders must include host.", access_key=claim.access_key)
    secret = secret_for(claim.access_key)
    if secret is None:
        raise SigV4Error(SigV4ErrorKind.UNKNOWN_KEY, f"The access key id {claim.access_key} does not exist.",
                         access_key=claim.access_key)
    if claim.presigned:
        assert claim.expires is not None
        if now > when + timedelta(seconds=claim.expires):
            raise SigV4Error(SigV4ErrorKind.EXPIRED, f"The presigned URL expired at "
                                                     f"{(when + timedelta(seconds=claim.expires)).isoformat()}.",
                             access_key=claim.access_key)
        if when - now > MAX_SKEW:
            raise SigV4Error(SigV4ErrorKind.SKEWED, "The presigned URL is dated in the future.",
                             access_key=claim.access_key)
        payload = dict(_query_pairs(request.raw_query)).get("X-Amz-Content-Sha256") or UNSIGNED_PAYLOAD
    else:
        if abs(now - when) > MAX_SKEW:
            raise SigV4Error(SigV4ErrorKind.SKEWED,
                             f"The request time {when.isoformat()} is more than 15 minutes from the server's time "
                             f"{now.replace(microsecond=0).isoformat()}; fix the client's clock.",
                             access_key=claim.access_key)
        payload = request.header("x-amz-content-sha256") or request.payload_sha256 or EMPTY_SHA256
    canonical = canonical_request(request, claim.service, claim.signed_headers, claim.presigned, payload)
    string_to_sign = "\n".join([ALGORITHM, claim.amz_date,
                                f"{claim.date}/{claim.region}/{claim.service}/aws4_request",
                                hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = signing_key(secret, claim.date, claim.region, claim.service)
    expected = _hmac_hex(key, string_to_sign)
    if not hmac.compare_digest(expected, claim.signature):
        raise SigV4Error(SigV4ErrorKind.MISMATCH,
                         "The request signature we calculated does not match the signature you provided. Check "
                         "your secret access key and signing method.", access_key=claim.access_key)
    return VerifiedSignature(claim.access_key, claim.date, claim.region, claim.service, claim.amz_date,
                             claim.signature, key, payload, claim.presigned)


def chunk_signature(verified: VerifiedSignature, previous: str, chunk_sha256: str) -> str:
    """The signature of one `aws-chunked` chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), chained on `previous`."""
    text = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", verified.amz_date, verified.scope, previous, EMPTY_SHA256,
                      chunk_sha256])
    return _hmac_hex(verified.signing_key, text)


def trailer_signature(verified: VerifiedSignature, previous: str, trailers: bytes) -> str:
    """The signature of an `aws-chunked` trailer block (`name:value\n` lines) in the -TRAILER variant."""
    text = "\n".join(["AWS4-HMAC-SHA256-TRAILER", verified.amz_date, verified.scope, previous,
                      hashlib.sha256(trailers).hexdigest()])
    return _hmac_hex(verified.signing_key, text)


SIGNED_STREAMING = ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")


class ChunkChain:
    """Checks the chained signatures of a signed `aws-chunked` body, chunk by chunk, from the seed signature."""

    def __init__(self, verified: VerifiedSignature) -> None:
        self.verified = verified
        self.previous = verified.signature
        self.trailer_signed = verified.payload.endswith("-TRAILER")

    def check_chunk(self, claimed: str | None, chunk_sha256: str) -> bool:
        if not claimed:
            return False
        expected = chunk_signature(self.verified, self.previous, chunk_sha256)
        if not hmac.compare_digest(expected, claimed):
            return False
        self.previous = expected
        return True

    def check_trailer(self, claimed: str | None, trailers: bytes) -> bool:
        if not claimed:
            return False
        return hmac.compare_digest(trailer_signature(self.verified, self.previous, trailers), claimed)
