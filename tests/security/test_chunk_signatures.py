"""Signed aws-chunked uploads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), checked against the example in AWS's S3
documentation (its published seed and chunk signatures), and a tampered chunk refused."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from openrek.api.s3.aws_chunked import AwsChunkedReader
from openrek.api.s3.errors import S3Error
from openrek.security.sigv4 import ChunkChain, SignedRequest, verify

# AWS's example: 66,560 bytes of "a" in chunks of 65,536 and 1,024 bytes, signed by the documentation's keys.
SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNKS = [(65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"),
          (1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"),
          (0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9")]
HEADERS = [("Host", "s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"),
           ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
           ("Content-Encoding", "aws-chunked"), ("x-amz-decoded-content-length", "66560"), ("Content-Length", "66824"),
           ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
            f"x-amz-decoded-content-length;x-amz-storage-class,Signature={SEED}")]
SECRETS = {"AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}


def _body(chunks: list[tuple[int, str]], fill: bytes = b"a") -> bytes:
    out = b""
    for size, signature in chunks:
        out += f"{size:x};chunk-signature={signature}\r\n".encode() + fill * size + b"\r\n"
    return out


def _chain() -> ChunkChain:
    request = SignedRequest("PUT", "/examplebucket/chunkObject.txt", "", HEADERS)
    return ChunkChain(verify(request, SECRETS.get, datetime(2013, 5, 24, 0, 5, tzinfo=UTC)))


def test_awss_example_upload_verifies_chunk_by_chunk() -> None:
    body = _body(CHUNKS)
    assert len(body) == 66824  # the example's Content-Length
    assert AwsChunkedReader(io.BytesIO(body), _chain()).read() == b"a" * 66560


@pytest.mark.parametrize("damage", ["byte", "signature", "missing", "reordered"])
def test_a_tampered_chunk_is_refused(damage: str) -> None:
    chunks = list(CHUNKS)
    body = _body(chunks)
    if damage == "byte":
        body = body.replace(b"a" * 10, b"a" * 9 + b"b", 1)
    elif damage == "signature":
        body = _body([(chunks[0][0], "0" * 64), *chunks[1:]])
    elif damage == "missing":
        body = body.replace(f";chunk-signature={chunks[1][1]}".encode(), b"")
    else:
        body = _body([chunks[1], chunks[0], chunks[2]])
    with pytest.raises(S3Error) as err:
        AwsChunkedReader(io.BytesIO(body), _chain()).read()
    assert err.value.code == "SignatureDoesNotMatch" and err.value.status == 403


def test_without_a_chain_chunks_are_only_decoded() -> None:
    assert AwsChunkedReader(io.BytesIO(_body([(3, "x"), (0, "y")]))).read() == b"aaa"
