"""Wire details of the S3 endpoint: aws-chunked bodies (stock boto3 over HTTPS, and hand-built signed chunks),
error documents, HEAD errors without a body, virtual-hosted style.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import socket
import time
import warnings
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
import requests
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from urllib3.exceptions import InsecureRequestWarning

from openrek.api.s3.aws_chunked import AwsChunkedReader
from openrek.api.s3.errors import S3Error

if TYPE_CHECKING:
    from tests.s3.conftest import S3Server


def _crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def _signed_chunks(data: bytes, chunk: int, trailers: dict[str, str] | None = None) -> bytes:
    out = b""
    for i in range(0, len(data), chunk):
        piece = data[i: i + chunk]
        out += f"{len(piece):x};chunk-signature={'a' * 64}\r\n".encode() + piece + b"\r\n"
    out += f"0;chunk-signature={'b' * 64}\r\n".encode()
    for name, value in (trailers or {}).items():
        out += f"{name}:{value}\r\n".encode()
    if trailers:
        out += f"x-amz-trailer-signature:{'c' * 64}\r\n".encode()
    return out + b"\r\n"


class _Trickle(io.RawIOBase):
    """Hands out a byte string a few bytes at a time, as a network stream may."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data, self._step = data, step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        n = self._step if size < 0 else min(size, self._step)
        out, self._data = self._data[:n], self._data[n:]
        return out

    def readline(self, size: int = -1) -> bytes:
        end = self._data.find(b"\n") + 1 or len(self._data)
        end = end if size < 0 else min(end, size)
        out, self._data = self._data[:end], self._data[end:]
        return out


@pytest.mark.parametrize("step", [1, 3, 1000])
def test_aws_chunked_decoder(step: int) -> None:
    data = os.urandom(5000)
    reader = AwsChunkedReader(_Trickle(_signed_chunks(data, 1024, {"x-amz-checksum-crc32": "abc="}), step))
    assert reader.read() == data
    assert reader.trailers == {"x-amz-checksum-crc32": "abc=", "x-amz-trailer-signature": "c" * 64}
    unsigned = b"5\r\nhello\r\n0\r\n\r\n"
    assert AwsChunkedReader(_Trickle(unsigned, step)).read() == b"hello"
    with pytest.raises(S3Error) as err:
        AwsChunkedReader(io.BytesIO(b"a;chunk-signature=x\r\nshort")).read()
    assert err.value.code == "IncompleteBody"


def _chunked_headers(data: bytes, mode: str, trailer: str | None = None) -> dict[str, str]:
    headers = {"x-amz-content-sha256": mode, "Content-Encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(len(data)), "Content-Type": "application/x-test"}
    if trailer:
        headers["x-amz-trailer"] = trailer
    return headers


def test_hand_built_signed_chunked_uploads(s3_server: S3Server, s3_client, bucket: str) -> None:
    url = f"{s3_server.endpoint}/{bucket}/chunked/object"
    data = os.urandom(200_000)
    body = _signed_chunks(data, 65536)
    response = requests.put(url, data=body, headers=_chunked_headers(data, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"))
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    got = s3_client.get_object(Bucket=bucket, Key="chunked/object")
    assert got["Body"].read() == data and got["ContentType"] == "application/x-test"

    # With a trailing checksum, verified and echoed.
    body = _signed_chunks(data, 8192, {"x-amz-checksum-crc32": _crc32_b64(data)})
    response = requests.put(url, data=body, headers=_chunked_headers(
        data, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "x-amz-checksum-crc32"))
    assert response.status_code == 200, response.text
    assert response.headers["x-amz-checksum-crc32"] == _crc32_b64(data)

    # A wrong trailing checksum is refused and the stored object is untouched.
    body = _signed_chunks(b"x" * len(data), 8192, {"x-amz-checksum-crc32": _crc32_b64(data)})
    response = requests.put(url, data=body, headers=_chunked_headers(
        data, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-checksum-crc32"))
    assert response.status_code == 400 and "<Code>BadDigest</Code>" in response.text
    assert s3_client.get_object(Bucket=bucket, Key="chunked/object")["Body"].read() == data

    # A decoded length that does not match the chunks is refused.
    response = requests.put(url + "2", data=_signed_chunks(data[:100], 50), headers=_chunked_headers(
        data, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"))
    assert response.status_code == 400 and "<Code>IncompleteBody</Code>" in response.text
    # The connection stays usable after errors.
    assert requests.get(url).content == data


def test_stock_boto3_over_https_sends_aws_chunked(s3_tls_server: S3Server, tmp_path: Path) -> None:
    client = boto3.client("s3", endpoint_url=s3_tls_server.endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test", verify=False,
                          config=Config(s3={"addressing_style": "path"}))
    sent: list[dict[str, str]] = []
    client.meta.events.register("before-send.s3.*", lambda request, **_: sent.append(dict(request.headers)))
    data = os.urandom(300_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureRequestWarning)
        client.create_bucket(Bucket="tls-bucket")
        put = client.put_object(Bucket="tls-bucket", Key="k", Body=io.BytesIO(data))
        assert put["ChecksumCRC32"] == _crc32_b64(data)
        source = tmp_path / "multi.bin"
        source.write_bytes(os.urandom(11 * 1024 * 1024))
        client.upload_file(str(source), "tls-bucket", "multi.bin",
                           Config=TransferConfig(multipart_threshold=5 * 1024 * 1024,
                                                 multipart_chunksize=5 * 1024 * 1024))
        assert client.get_object(Bucket="tls-bucket", Key="k")["Body"].read() == data
        assert client.get_object(Bucket="tls-bucket", Key="multi.bin")["Body"].read() == source.read_bytes()
    chunked = [h for h in sent if b"aws-chunked" in _as_bytes(h.get("Content-Encoding", b""))]
    assert len(chunked) >= 4  # the PutObject and each UploadPart
    assert any(b"x-amz-checksum-" in _as_bytes(h.get("X-Amz-Trailer", b"")) for h in chunked)


def _as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def test_error_document_and_head_errors(s3_server: S3Server, bucket: str) -> None:
    response = requests.get(f"{s3_server.endpoint}/{bucket}/missing/key")
    assert response.status_code == 404 and response.headers["Content-Type"] == "application/xml"
    request_id = response.headers["x-amz-request-id"]
    assert re.search(r"<Error><Code>NoSuchKey</Code><Message>[^<]+</Message><Key>missing/key</Key>"
                     rf"<RequestId>{request_id}</RequestId>", response.text), response.text
    response = requests.get(f"{s3_server.endpoint}/no-such-bucket-wire/key")
    assert "<Code>NoSuchBucket</Code>" in response.text
    assert "<BucketName>no-such-bucket-wire</BucketName>" in response.text
    head = requests.head(f"{s3_server.endpoint}/{bucket}/missing/key")
    assert head.status_code == 404 and head.content == b""
    head = requests.head(f"{s3_server.endpoint}/no-such-bucket-wire")
    assert head.status_code == 404 and head.content == b""
    response = requests.post(f"{s3_server.endpoint}/{bucket}?delete", data=b"<Delete><Oops/></Delete>")
    assert response.status_code == 400 and "<Code>MalformedXML</Code>" in response.text


def test_object_headers(s3_server: S3Server, s3_client, bucket: str) -> None:
    s3_client.put_object(Bucket=bucket, Key="h", Body=b"12345", ContentType="text/csv", Metadata={"a": "1"})
    response = requests.get(f"{s3_server.endpoint}/{bucket}/h")
    headers = response.headers
    assert headers["Content-Length"] == "5" and headers["Content-Type"] == "text/csv"
    assert headers["x-amz-meta-a"] == "1" and headers["ETag"] == f'"{hashlib.md5(b"12345").hexdigest()}"'
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT", headers["Last-Modified"])
    ranged = requests.get(f"{s3_server.endpoint}/{bucket}/h", headers={"Range": "bytes=1-2"})
    assert ranged.status_code == 206 and ranged.content == b"23"
    assert ranged.headers["Content-Range"] == "bytes 1-2/5"
    overridden = requests.get(f"{s3_server.endpoint}/{bucket}/h?response-content-type=text/plain")
    assert overridden.headers["Content-Type"] == "text/plain"


def test_virtual_hosted_style(s3_server: S3Server, s3_client, bucket: str) -> None:
    s3_client.put_object(Bucket=bucket, Key="v/k", Body=b"vhost")
    port = s3_server.endpoint.rsplit(":", 1)[1]
    response = requests.get(f"{s3_server.endpoint}/v/k", headers={"Host": f"{bucket}.s3.localhost:{port}"})
    assert response.status_code == 200 and response.content == b"vhost"
    listing = requests.get(f"{s3_server.endpoint}/?list-type=2", headers={"Host": f"{bucket}.s3.localhost:{port}"})
    assert "<Key>v/k</Key>" in listing.text
    # A plain *.localhost host is not mistaken for a bucket.
    plain = requests.get(f"{s3_server.endpoint}/{bucket}/v/k", headers={"Host": f"openrek.localhost:{port}"})
    assert plain.content == b"vhost"


def test_interrupted_upload_leaves_nothing(s3_server: S3Server, s3_client, bucket: str) -> None:
    s3_client.put_object(Bucket=bucket, Key="victim", Body=b"intact")
    host, port = s3_server.endpoint.removeprefix("http://").split(":")
    for key in ("victim", "newcomer"):
        with socket.create_connection((host, int(port))) as conn:
            conn.sendall(f"PUT /{bucket}/{key} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                         f"Content-Length: {4 * 1024 * 1024}\r\n\r\n".encode() + b"z" * 300_000)
            time.sleep(0.2)
    deadline = time.monotonic() + 5
    while any((s3_server.root / ".tmp").iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any((s3_server.root / ".tmp").iterdir())
    assert s3_client.get_object(Bucket=bucket, Key="victim")["Body"].read() == b"intact"
    assert [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]] == ["victim"]
