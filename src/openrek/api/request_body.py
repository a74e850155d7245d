"""Reads the body of a non-S3 request (JSON 1.1, query protocol, openrek's own routes) within a cap.

Those bodies are parameters, not data: AWS's largest member is DetectCustomLabels' inline image (4 MB of
bytes, about 5.4 MB once base64-encoded), so 8 MiB holds every request a client sends. The body is read
chunk by chunk and refused as soon as it passes the cap (or at once when its Content-Length says it
will), so a huge body is never held whole. S3 bodies are objects and do not come here.
"""

from __future__ import annotations

from starlette.requests import Request

MiB = 1024 * 1024
MAX_BODY_BYTES = 8 * MiB


class BodyTooLarge(Exception):
    """The body is over the cap; the message says how big it may be (HTTP 413)."""

    status = 413

    def __init__(self, limit: int, size: int | None) -> None:
        seen = f"{size} bytes" if size is not None else f"over {limit} bytes"
        super().__init__(
            f"The request body is {seen}; a request body may be at most {limit} bytes ({limit / MiB:g} MiB). "
            "Send large images as Image.S3Object (up to 15 MB) instead of inline Bytes.")
        self.message = str(self)


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, or BodyTooLarge once more than `limit` bytes are declared or have arrived."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit, int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit, None)
        chunks.append(chunk)
    return b"".join(chunks)
