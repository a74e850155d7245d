"""The SigV4 verifier against the real thing: requests that stock boto3 sends over the wire (captured by a
loopback recorder) verify; forged, tampered, expired, skewed and foreign-scheme ones are refused with the
kind each protocol turns into its own error code."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from openrek.security.sigv4 import SignedRequest, SigV4Error, SigV4ErrorKind, verify

KEY, SECRET = "AKIDVERIFYTEST", "verify/secret+key"
SECRETS = {KEY: SECRET}


class _Recorder(BaseHTTPRequestHandler):
    captured: list[SignedRequest] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        self.captured.append(SignedRequest(self.command, path, query, list(self.headers.items()),
                                           hashlib.sha256(body).hexdigest()))
        json_api = "x-amz-target" in {k.lower() for k in self.headers}
        payload = b"{}" if json_api else b""
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1" if json_api else "application/xml")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer  # noqa: N815

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def recorder() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _client(service: str, endpoint: str, **config: Any) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id=KEY,
                        aws_secret_access_key=SECRET, config=Config(retries={"max_attempts": 1}, **config))


def _last() -> SignedRequest:
    return _Recorder.captured[-1]


def _when(request: SignedRequest) -> datetime:
    return datetime.strptime(request.header("x-amz-date") or "", "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _kind(request: SignedRequest, secrets: dict[str, str] = SECRETS, now: datetime | None = None) -> SigV4ErrorKind:
    with pytest.raises(SigV4Error) as err:
        verify(request, secrets.get, now or datetime.now(UTC))
    return err.value.kind


def _with(request: SignedRequest, **changes: Any) -> SignedRequest:
    fields = {"method": request.method, "raw_path": request.raw_path, "raw_query": request.raw_query,
              "headers": request.headers, "payload_sha256": request.payload_sha256, **changes}
    return SignedRequest(**fields)


def _headers(request: SignedRequest, name: str, value: str | None) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in request.headers if k.lower() != name.lower()]
    return kept + ([(name, value)] if value is not None else [])


def test_json_requests_from_boto3_verify_and_forgeries_do_not(recorder: str) -> None:
    rek = _client("rekognition", recorder)
    rek.describe_projects(ProjectNames=["a b", "é"])
    signed = _last()
    verified = verify(signed, SECRETS.get)
    assert (verified.access_key, verified.region, verified.service) == (KEY, "eu-west-1", "rekognition")
    assert not verified.presigned
    assert _kind(_with(signed, payload_sha256=hashlib.sha256(b'{"ProjectNames":["x"]}').hexdigest())) == "mismatch"
    assert _kind(signed, {KEY: "wrong"}) == SigV4ErrorKind.MISMATCH
    assert _kind(signed, {}) == SigV4ErrorKind.UNKNOWN_KEY
    assert _kind(_with(signed, headers=_headers(signed, "Authorization", None))) == SigV4ErrorKind.MISSING
    assert _kind(_with(signed, headers=_headers(signed, "Authorization", "garbage"))) == SigV4ErrorKind.MALFORMED
    assert _kind(_with(signed, headers=_headers(signed, "Authorization", f"AWS {KEY}:c2lnbmF0dXJl"))) == "unsupported"
    half = (signed.header("authorization") or "").split(", Signature=")[0]
    assert _kind(_with(signed, headers=_headers(signed, "Authorization", half))) == SigV4ErrorKind.MALFORMED
    target = _headers(signed, "X-Amz-Target", "RekognitionService.DeleteProject")
    assert _kind(_with(signed, headers=target)) == SigV4ErrorKind.MISMATCH  # a signed header changed
    when = _when(signed)
    assert verify(signed, SECRETS.get, when + timedelta(minutes=14))
    assert _kind(signed, now=when + timedelta(minutes=16)) == SigV4ErrorKind.SKEWED
    assert _kind(signed, now=when - timedelta(minutes=16)) == SigV4ErrorKind.SKEWED


def test_s3_requests_from_boto3_verify(recorder: str) -> None:
    s3 = _client("s3", recorder, s3={"addressing_style": "path"})
    for key in ("plain.txt", "a b/ü+~*!'()&=.txt", "dir//x/../y.bin"):
        s3.put_object(Bucket="bkt", Key=key, Body=b"hello " * 100)
        put = _last()
        assert verify(put, SECRETS.get).service == "s3", key
        tampered = _with(put, raw_path=put.raw_path.replace("bkt", "bkz"))
        assert _kind(tampered) == SigV4ErrorKind.MISMATCH
    s3.list_objects_v2(Bucket="bkt", Prefix="a b/", Delimiter="/", StartAfter="ü")
    listing = _last()
    assert verify(listing, SECRETS.get).service == "s3"
    assert _kind(_with(listing, raw_query=listing.raw_query.replace("delimiter=%2F", "delimiter=x"))) == "mismatch"
    s3.get_object(Bucket="bkt", Key="plain.txt", Range="bytes=0-3")
    assert verify(_last(), SECRETS.get)


def test_presigned_urls_verify_until_they_expire(recorder: str) -> None:
    s3 = _client("s3", recorder, s3={"addressing_style": "path"}, signature_version="s3v4")
    signed_at = datetime.now(UTC)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "a b/c.txt"}, ExpiresIn=60)
    assert requests.get(url, timeout=10).status_code == 200
    got = _last()
    verified = verify(got, SECRETS.get)
    assert verified.presigned and verified.payload == "UNSIGNED-PAYLOAD"
    assert verify(got, SECRETS.get, signed_at + timedelta(seconds=55))
    assert _kind(got, now=signed_at + timedelta(seconds=62)) == SigV4ErrorKind.EXPIRED
    longer = _with(got, raw_query=got.raw_query.replace("X-Amz-Expires=60", "X-Amz-Expires=6000"))
    assert _kind(longer, now=signed_at) == SigV4ErrorKind.MISMATCH  # the expiry itself is signed
    forever = _with(got, raw_query=got.raw_query.replace("X-Amz-Expires=60", "X-Amz-Expires=999999"))
    assert _kind(forever, now=signed_at) == SigV4ErrorKind.MALFORMED
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "bkt", "Key": "up.bin"}, ExpiresIn=300)
    assert requests.put(put_url, data=b"payload", timeout=10).status_code == 200
    assert verify(_last(), SECRETS.get).presigned
    v2 = _with(got, raw_query=f"AWSAccessKeyId={KEY}&Expires=1&Signature=abc")
    assert _kind(v2) == SigV4ErrorKind.UNSUPPORTED


def test_unsigned_payload_and_missing_date(recorder: str) -> None:
    s3 = _client("s3", recorder, s3={"addressing_style": "path", "payload_signing_enabled": False})
    s3.put_object(Bucket="bkt", Key="k", Body=b"data")
    put = _last()
    verified = verify(put, SECRETS.get)
    assert verified.payload in ("UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER") or len(verified.payload) == 64
    assert _kind(_with(put, headers=_headers(put, "X-Amz-Date", None))) == SigV4ErrorKind.MALFORMED
    wrong_day = _headers(put, "X-Amz-Date", "20200101T000000Z")
    assert _kind(_with(put, headers=wrong_day)) == SigV4ErrorKind.MALFORMED  # not the scope's date


def test_every_failure_kind_has_an_aws_code_on_both_protocols() -> None:
    from openrek.security.auth_errors import json_error, s3_error

    for kind in SigV4ErrorKind:
        code, status = json_error(kind)
        assert code.endswith("Exception") and status in (400, 403), kind
        code, status = s3_error(kind)
        assert code and status in (400, 403), kind
    assert s3_error(SigV4ErrorKind.MISMATCH) == ("SignatureDoesNotMatch", 403)
    assert json_error(SigV4ErrorKind.UNKNOWN_KEY) == ("UnrecognizedClientException", 400)
