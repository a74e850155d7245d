"""Reads the SigV4 credential scope (access key, date, region, service) from a request's headers.

Signatures are not verified yet; the scope's region is what ARNs and listings are scoped by.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")


@dataclass(frozen=True)
class CredentialScope:
    access_key: str
    date: str
    region: str
    service: str


def credential_scope(headers: dict[str, str] | object, query: str = "") -> CredentialScope | None:
    auth = headers.get("authorization", "") if hasattr(headers, "get") else ""  # type: ignore[union-attr]
    match = _CREDENTIAL.search(auth or "")
    if match is None and query:
        values = parse_qs(query).get("X-Amz-Credential")
        if values:
            match = _CREDENTIAL.search("Credential=" + values[0])
    if match is None:
        return None
    return CredentialScope(*match.groups())


# AWS region names: a partition prefix, an optional -gov/-iso* part, a direction and a number
# (us-east-1, eu-central-2, ap-southeast-5, us-gov-west-1, cn-north-1, us-isob-east-1, il-central-1).
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")


def is_region_name(region: str) -> bool:
    """True for a name shaped like an AWS region's; ARNs are built from it, so nonsense is refused."""
    return bool(_REGION.match(region))
