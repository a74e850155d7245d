"""Who is calling and where: the parts of a request the service needs, free of HTTP."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    account: str
    region: str
    request_id: str
