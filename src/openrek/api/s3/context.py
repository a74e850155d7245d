"""The per-request state S3 operations share: the request, the store, ids, and helpers to read the body
and call the (blocking) store from a worker thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from openrek.api.s3.aws_chunked import AwsChunkedReader
from openrek.api.s3.body_stream import ThreadedBodyReader
from openrek.api.s3.checksums import CHECKSUM_ALGORITHMS, VerifyingReader, checksum_header
from openrek.api.s3.errors import S3Error
from openrek.api.s3.numbers import header_length
from openrek.security.sigv4 import SIGNED_STREAMING, ChunkChain, VerifiedSignature
from openrek.service.context import RequestContext
from openrek.store.objects import NoSuchBucket, ObjectStore

T = TypeVar("T")

_SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
MAX_XML_BODY = 2 * 1024 * 1024


@dataclass
class S3Context:
    request: Request
    objects: ObjectStore
    request_id: str
    bucket: str | None
    key: str | None
    account: str = ""  # the caller's account ("" in tests that build a context by hand: no ownership checks)
    default_owner: str = ""  # the owner of buckets made before owners were recorded: the first account
    signature: VerifiedSignature | None = None  # set when the request's SigV4 signature was verified
    caller: RequestContext | None = None  # who asks (account, region, IAM policies); None: no checks
    kms: Any = None  # the server's KmsKeys, for SSE-KMS; None: aws:kms is not available

    @property
    def headers(self) -> Any:
        return self.request.headers

    @property
    def query(self) -> Any:
        return self.request.query_params

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking store call in the threadpool."""
        return await run_in_threadpool(fn, *args, **kwargs)

    def require_bucket_name(self) -> str:
        assert self.bucket is not None
        return self.bucket

    async def existing_bucket(self) -> str:
        """The request's bucket, or `NoSuchBucket` if it does not exist."""
        bucket = self.require_bucket_name()
        if not await self.call(self.objects.bucket_exists, bucket):
            raise NoSuchBucket(f"The bucket {bucket!r} does not exist.", bucket=bucket)
        return bucket

    def owner_of(self, bucket: str) -> str:
        """The account owning an existing bucket (buckets from before accounts: the first account)."""
        return self.objects.bucket_owner(bucket) or self.default_owner

    def require_key(self) -> str:
        assert self.key is not None
        return self.key

    def caller_or_owner(self) -> RequestContext:
        """The caller, or (in tests that build a context by hand) the bucket's default owner as root."""
        return self.caller or RequestContext(account=self.account or self.default_owner, region="us-east-1",
                                             request_id=self.request_id)

    def metadata(self) -> dict[str, str]:
        """User metadata from the x-amz-meta-* headers, names lowercased as S3 stores them."""
        return {name[len("x-amz-meta-"):]: value for name, value in self.headers.items()
                if name.lower().startswith("x-amz-meta-")}

    def body_reader(self) -> VerifyingReader:
        """The payload as a blocking reader for a worker thread: aws-chunked decoded, digests verified at EOF."""
        headers = self.headers
        raw: BinaryIO = ThreadedBodyReader(self.request.stream())  # type: ignore[assignment]
        content_sha256 = headers.get("x-amz-content-sha256", "")
        encodings = [e.strip().lower() for e in headers.get("content-encoding", "").split(",") if e.strip()]
        chunked = content_sha256.startswith("STREAMING-") or "aws-chunked" in encodings
        expected_length: int | None = None
        trailers = None
        if chunked:
            chain = ChunkChain(self.signature) if self.signature and content_sha256 in SIGNED_STREAMING else None
            decoder = AwsChunkedReader(raw, chain)
            raw, trailers = decoder, (lambda: decoder.trailers)  # type: ignore[assignment]
            expected_length = header_length(headers, "x-amz-decoded-content-length")
        else:
            expected_length = header_length(headers, "content-length")
        checksums: dict[str, str | None] = {}
        for algorithm in CHECKSUM_ALGORITHMS:
            value = headers.get(checksum_header(algorithm))
            if value:
                checksums[algorithm] = value
        trailer_names = [t.strip().lower() for t in headers.get("x-amz-trailer", "").split(",") if t.strip()]
        for name in trailer_names:
            if name.startswith("x-amz-checksum-") and name[len("x-amz-checksum-"):] in CHECKSUM_ALGORITHMS:
                checksums.setdefault(name[len("x-amz-checksum-"):], None)
        return VerifyingReader(
            raw, expected_length=expected_length, content_md5=headers.get("content-md5"),
            content_sha256_hex=content_sha256 if _SHA256_HEX.match(content_sha256) else None,
            checksums=checksums, trailers=trailers)

    async def small_body(self) -> bytes:
        """A whole (XML) request body, aws-chunked decoded and verified."""
        reader = self.body_reader()

        def read_all() -> bytes:
            data = reader.read(MAX_XML_BODY + 1)
            rest = reader.read(MAX_XML_BODY + 1)
            while rest:
                data += rest
                if len(data) > MAX_XML_BODY:
                    raise S3Error("MaxMessageLengthExceeded", "Your request was too big.")
                rest = reader.read(MAX_XML_BODY + 1)
            return data

        return await self.call(read_all)
