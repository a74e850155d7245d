"""Hostile and racing S3 traffic against a real server: bad input gets S3's 4xx (never a 5xx or a dropped
connection), and no acknowledged write is lost or mixed up with another.

Requests are what clients can send: stock boto3, or requests signed as boto3 signs them (SigV4 is verified),
sent with `requests` or, where a body must be cut short or a header be odd, over a raw socket.
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.support.clients import client, signed
from tests.support.server import ROOT_KEY, ROOT_SECRET, ServerProcess

BIG = "9" * 5000  # more digits than Python converts to an int (4,300)


@pytest.fixture
def bucket(s3: Any, unique: str) -> str:
    name = f"hostile-{unique}"
    s3.create_bucket(Bucket=name)
    return name


def _code(response: Any) -> str | None:
    match = re.search(r"<Code>([^<]*)</Code>", response.text)
    return match.group(1) if match else None


def _sign(method: str, url: str, headers: dict[str, str] | None = None, *, streaming: bool = False,
          service: str = "s3") -> dict[str, str]:
    """Headers signed as boto3 signs them; `streaming`: as for an aws-chunked body (seed signature over
    STREAMING-UNSIGNED-PAYLOAD-TRAILER, what boto3 sends over HTTPS)."""
    request = AWSRequest(method=method, url=url, headers=dict(headers or {}))
    if service != "s3":
        SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), service, "us-east-1").add_auth(request)
        return dict(request.headers)
    if streaming:
        request.context["checksum"] = {"request_algorithm": {"in": "trailer"}}
    else:
        request.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
        request.context["payload_signing_enabled"] = False
    S3SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "s3", "us-east-1").add_auth(request)
    return dict(request.headers)


def _raw(endpoint: str, method: str, path: str, headers: dict[str, str], body: bytes = b"", *,
         sign: bool = True, streaming: bool = False, cut: bool = False, service: str = "s3") -> bytes:
    """Send one request over a fresh socket and return what came back (b"" if nothing did). With `cut`,
    the socket is closed right after `body`, before the body its headers announce is complete."""
    host, port = urlsplit(endpoint).hostname, urlsplit(endpoint).port
    sent = _sign(method, endpoint + path, headers, streaming=streaming, service=service) if sign else dict(headers)
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in sent.items()) + "\r\n"
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(head.encode("latin-1") + body)
        if cut:
            time.sleep(0.3)  # let the server start reading the body
            return b""
        answer = b""
        while b"\r\n\r\n" not in answer:
            more = sock.recv(65536)
            if not more:
                return answer
            answer += more
        length = re.search(rb"(?im)^content-length: *([0-9]+)", answer.split(b"\r\n\r\n", 1)[0])
        want = len(answer.split(b"\r\n\r\n", 1)[0]) + 4 + (int(length.group(1)) if length else 0)
        while len(answer) < want and (more := sock.recv(65536)):
            answer += more
        return answer


def _q(url: str, params: dict[str, str]) -> str:
    """`url` with the query `params`, percent-encoded as boto3 encodes them (a space as %20, not "+")."""
    return url + "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


# ------------------------------------------------------------------------------- 1. long prefix segments


def test_a_prefix_segment_too_long_for_a_file_name_lists_nothing(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="x/y", Body=b"1")
    s3.put_object(Bucket=bucket, Key="a" * 240 + "/b", Body=b"2")
    for prefix in ["a" * 300 + "/", "x/" + "a" * 300 + "/y", "x/" + "%" * 100 + "/", "é" * 150 + "/", "/" * 1100]:
        for kwargs in ({}, {"Delimiter": "/"}):
            assert s3.list_objects_v2(Bucket=bucket, Prefix=prefix, **kwargs)["KeyCount"] == 0
            assert "Contents" not in s3.list_objects(Bucket=bucket, Prefix=prefix, **kwargs)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="a")["Contents"]] == ["a" * 240 + "/b"]


def test_a_key_this_store_cannot_hold_is_refused_and_absent(s3: Any, bucket: str) -> None:
    for key in ["x/" + "a" * 300 + "/y", "/" * 1020 + "z"]:  # a segment, or the whole path, too long
        with pytest.raises(ClientError) as err:
            s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        assert err.value.response["Error"]["Code"] == "KeyTooLongError"
        with pytest.raises(ClientError) as err:
            s3.get_object(Bucket=bucket, Key=key)
        assert err.value.response["Error"]["Code"] == "NoSuchKey"
        with pytest.raises(ClientError) as err:
            s3.head_object(Bucket=bucket, Key=key)
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        s3.delete_object(Bucket=bucket, Key=key)  # nothing to delete: 204, as for any absent key


# -------------------------------------------------------------------------------------- 2. numbers


@pytest.mark.parametrize("value", [BIG, "²", "١", "1_0", "+1", " 1", "0", "10001", "-1", "0x1", ""])
def test_bad_part_numbers_are_invalid_argument(openrek_server: str, s3: Any, bucket: str, value: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    url = _q(f"{openrek_server}/{bucket}/mp", {"uploadId": upload, "partNumber": value})
    response = signed("PUT", url, service="s3", data=b"part")
    assert (response.status_code, _code(response)) == (400, "InvalidArgument"), response.text
    assert "<ArgumentName>partNumber</ArgumentName>" in response.text


@pytest.mark.parametrize("name", ["part-number-marker", "max-parts"])
@pytest.mark.parametrize("value", [BIG, "²", "2147483648", "1.5"])
def test_bad_list_parts_numbers(openrek_server: str, s3: Any, bucket: str, name: str, value: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    response = signed("GET", _q(f"{openrek_server}/{bucket}/mp", {"uploadId": upload, name: value}), service="s3")
    assert (response.status_code, _code(response)) == (400, "InvalidArgument"), response.text
    assert f"Provided {name} not an integer or within integer range" in response.text


@pytest.mark.parametrize("query", [{"list-type": "2"}, {}, {"uploads": ""}])
@pytest.mark.parametrize("value", [BIG, "²", "-1", "2147483648"])
def test_bad_max_keys_and_max_uploads(openrek_server: str, bucket: str, query: dict[str, str], value: str) -> None:
    name = "max-uploads" if "uploads" in query else "max-keys"
    response = signed("GET", _q(f"{openrek_server}/{bucket}", {**query, name: value}), service="s3")
    assert (response.status_code, _code(response)) == (400, "InvalidArgument"), response.text


def test_max_uploads_pages(s3: Any, bucket: str) -> None:
    ids = sorted((key, s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]) for key in "abc")
    first = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
    assert first["IsTruncated"] and [u["Key"] for u in first["Uploads"]] == ["a", "b"]
    rest = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2, KeyMarker=first["NextKeyMarker"],
                                     UploadIdMarker=first["NextUploadIdMarker"])
    assert not rest["IsTruncated"] and [(u["Key"], u["UploadId"]) for u in rest["Uploads"]] == [ids[2]]


@pytest.mark.parametrize(("header", "status", "body"), [
    (f"bytes=0-{BIG}", 206, b"hello world"),  # a last byte past the end: to the end
    (f"bytes=-{BIG}", 206, b"hello world"),  # a suffix longer than the object: all of it
    (f"bytes={BIG}-", 416, None),  # a first byte past the end
    (f"bytes={BIG}-{BIG}", 416, None),
    ("bytes=²-", 200, b"hello world"),  # not a byte range: ignored, as S3 does
    ("bytes=1-\u00b3", 200, b"hello world"),  # "³" (isdigit() says it is one)
    ("bytes=6-", 206, b"world"),
])
def test_ranges_with_huge_or_odd_numbers(openrek_server: str, s3: Any, bucket: str, header: str, status: int,
                                         body: bytes | None) -> None:
    s3.put_object(Bucket=bucket, Key="obj", Body=b"hello world")
    for method in ("GET", "HEAD"):
        response = signed(method, f"{openrek_server}/{bucket}/obj", service="s3", headers={"Range": header})
        assert response.status_code == status, (method, response.text)
        if method == "GET" and body is not None:
            assert response.content == body
        if status == 416 and method == "GET":
            assert _code(response) == "InvalidRange" and response.headers["Content-Range"] == "bytes */11"


@pytest.mark.parametrize("value", [BIG, "-1", "²", "0x10", "1_0"])
def test_bad_decoded_content_length(openrek_server: str, bucket: str, value: str) -> None:
    answer = _raw(openrek_server, "PUT", f"/{bucket}/chunked", {
        "Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": value, "Content-Length": "5"},
        b"0\r\n\r\n", streaming=True)
    assert _status(answer) == 400, answer
    assert b"InvalidArgument" in answer or b"IncompleteBody" in answer


@pytest.mark.parametrize("value", [BIG, "-1", "0x10", "+5", "²"])
def test_bad_content_length_is_a_client_error(openrek_server: str, bucket: str, value: str) -> None:
    answer = _raw(openrek_server, "PUT", f"/{bucket}/cl", {"Content-Length": value}, b"hello")
    assert 400 <= _status(answer) < 500, answer


def test_odd_dates_are_ignored_not_failed(openrek_server: str, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="obj", Body=b"x")
    for value in ["Mon, 01 Jan 99999999999 00:00:00 GMT", "Mon, 01 Jan 2020 00:00:00", BIG,
                  "Mon, 01 Jan 2020 00:00:00 -0000"]:
        for header in ("If-Modified-Since", "If-Unmodified-Since"):
            response = signed("GET", f"{openrek_server}/{bucket}/obj", service="s3", headers={header: value})
            assert response.status_code in (200, 304, 412), (header, value, response.text)
    # A Date header (instead of X-Amz-Date) whose year overflows: a signature error, not a 500.
    answer = _raw(openrek_server, "GET", f"/{bucket}/obj", {
        "Date": "Mon, 01 Jan 99999999999 00:00:00 GMT",
        "Authorization": f"AWS4-HMAC-SHA256 Credential={ROOT_KEY}/20200101/us-east-1/s3/aws4_request, "
                         f"SignedHeaders=date;host, Signature={'0' * 64}"}, sign=False)
    assert 400 <= _status(answer) < 500, answer


# --------------------------------------------------------------------------------- 3. header values


@pytest.mark.parametrize("parameter", ["response-content-type", "response-content-disposition",
                                       "response-cache-control", "response-expires",
                                       "response-content-language", "response-content-encoding"])
@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\x00b", "a\u2028b", "\x7f", "日本"])
def test_response_overrides_that_cannot_be_header_values(openrek_server: str, s3: Any, bucket: str,
                                                         parameter: str, value: str) -> None:
    s3.put_object(Bucket=bucket, Key="obj", Body=b"x")
    response = signed("GET", _q(f"{openrek_server}/{bucket}/obj", {parameter: value}), service="s3")
    assert (response.status_code, _code(response)) == (400, "InvalidArgument"), response.text
    assert f"<ArgumentName>{parameter}</ArgumentName>" in response.text
    assert "X-Injected" not in response.headers


def test_response_overrides_still_work(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="obj", Body=b"x")
    got = s3.get_object(Bucket=bucket, Key="obj", ResponseContentType="image/png",
                        ResponseContentDisposition='attachment; filename="caf\u00e9.png"')
    assert got["ContentType"] == "image/png"
    assert got["ContentDisposition"] == 'attachment; filename="caf\u00e9.png"'


# ------------------------------------------------------------------------------------ 4. aws-chunked


@pytest.mark.parametrize("size", [b"-1", b"0xd", b"0_d", b"+d", b"d d", b"\xd9\xa1", b"1" * 17, b""])
def test_chunk_sizes_are_hex_digits_only(openrek_server: str, s3: Any, bucket: str, size: bytes) -> None:
    body = size + b"\r\nhello world!!\r\n0\r\n\r\n"
    answer = _raw(openrek_server, "PUT", f"/{bucket}/chunked", {
        "Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": "13",
        "Content-Length": str(len(body))}, body, streaming=True)
    assert _status(answer) == 400 and b"<Code>IncompleteBody</Code>" in answer, answer
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="chunked")
    good = b"d\r\nhello world!!\r\n0\r\n\r\n"
    answer = _raw(openrek_server, "PUT", f"/{bucket}/chunked", {
        "Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": "13",
        "Content-Length": str(len(good))}, good, streaming=True)
    assert _status(answer) == 200, answer
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == b"hello world!!"


def test_a_negative_chunk_size_is_refused_at_once(openrek_server: str, bucket: str) -> None:
    """It used to read the whole body into memory in quadratic time (80 MB: 5.8 s, against 0.3 s for a good
    upload) before failing; now it fails at the chunk header, and the body is only drained."""
    data = b"x" * (56 * 1024 * 1024)  # under what the server drains to keep the connection (64 MiB)

    def put(body: bytes) -> tuple[bytes, float]:
        started = time.monotonic()
        answer = _raw(openrek_server, "PUT", f"/{bucket}/chunked", {
            "Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
            "Content-Length": str(len(body))}, body, streaming=True)
        return answer, time.monotonic() - started

    good, good_s = put(f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n")
    assert _status(good) == 200, good
    bad, bad_s = put(b"-1\r\n" + data)
    assert _status(bad) == 400 and b"IncompleteBody" in bad, bad
    assert bad_s < good_s + 1.0, (bad_s, good_s)


# ------------------------------------------------------------------------------ 5. client disconnects


def _log_since(server: ServerProcess, offset: int) -> str:
    with open(server.log_path, encoding="utf-8", errors="replace") as f:
        f.seek(offset)
        return f.read()


def _wait_for(predicate: Any, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_a_client_that_disconnects_mid_body_is_logged_quietly(tmp_path: Path, unique: str) -> None:
    with ServerProcess(tmp_path / "data", args=["--log-level", "info"]) as server:
        s3 = client("s3", server.endpoint)
        bucket = f"cut-{unique}"
        s3.create_bucket(Bucket=bucket)
        upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
        offset = server.log_path.stat().st_size
        announced, sent = 50 * 1024 * 1024, b"x" * (4 * 1024 * 1024)
        cut_short = {"Content-Length": str(announced)}
        small_cut = {"Content-Length": str(1024 * 1024)}  # under the 8 MiB cap of JSON and query bodies
        cases: list[tuple[str, dict[str, str], bytes, dict[str, Any]]] = [
            (f"/{bucket}/put", cut_short, sent, {}),  # PutObject
            (f"/{bucket}/mp?partNumber=1&uploadId={upload}", cut_short, sent, {}),  # UploadPart
            (f"/{bucket}/chunked", {**cut_short, "Content-Encoding": "aws-chunked",  # aws-chunked PutObject
                                    "x-amz-decoded-content-length": str(announced - 100)},
             f"{announced - 100:x}\r\n".encode() + sent, {"streaming": True}),
            (f"/{bucket}?delete", cut_short, b"<Delete><Object><Key>a", {}),  # an XML body
            ("/", {**small_cut, "X-Amz-Target": "RekognitionService.DescribeProjects",  # JSON 1.1
                   "Content-Type": "application/x-amz-json-1.1"}, b'{"MaxResults": ', {"service": "rekognition"}),
            ("/", {**small_cut, "Content-Type": "application/x-www-form-urlencoded"},  # the query protocol
             b"Action=ListUsers&Version=", {"service": "iam"}),
        ]
        method = {f"/{bucket}?delete": "POST", "/": "POST"}
        for path, headers, body, how in cases:
            _raw(server.endpoint, method.get(path, "PUT"), path, headers, body, cut=True, **how)
        assert _wait_for(lambda: _log_since(server, offset).count("client went away") >= len(cases)), \
            _log_since(server, offset)
        log = _log_since(server, offset)
        assert "Traceback" not in log and "ERROR" not in log and "InternalError" not in log, log
        assert _wait_for(lambda: not any((server.data_dir / "s3" / ".tmp").iterdir()))
        assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
        assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload).get("Parts", []) == []
        s3.put_object(Bucket=bucket, Key="after", Body=b"still serving")


# ----------------------------------------------------------------------------- 6. put vs delete bucket


def test_put_object_racing_delete_bucket_never_loses_the_object(openrek_server: str, unique: str) -> None:
    putter, deleter, checker = (client("s3", openrek_server) for _ in range(3))
    outcomes: dict[str, int] = {}
    for round_ in range(100):
        name = f"race-{unique}-{round_}"
        checker.create_bucket(Bucket=name)
        barrier = threading.Barrier(2)
        result: dict[str, str] = {}

        def put(name: str = name, barrier: threading.Barrier = barrier, result: dict[str, str] = result) -> None:
            barrier.wait()
            try:
                putter.put_object(Bucket=name, Key="k", Body=b"acknowledged")
                result["put"] = "ok"
            except ClientError as exc:
                result["put"] = exc.response["Error"]["Code"]

        def delete(name: str = name, barrier: threading.Barrier = barrier, result: dict[str, str] = result) -> None:
            barrier.wait()
            try:
                deleter.delete_bucket(Bucket=name)
                result["delete"] = "ok"
            except ClientError as exc:
                result["delete"] = exc.response["Error"]["Code"]

        threads = [threading.Thread(target=put), threading.Thread(target=delete)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        pair = (result["put"], result["delete"])
        assert pair in {("ok", "BucketNotEmpty"), ("NoSuchBucket", "ok")}, (round_, pair)
        outcomes[f"{pair[0]}/{pair[1]}"] = outcomes.get(f"{pair[0]}/{pair[1]}", 0) + 1
        if pair[0] == "ok":  # acknowledged: it is there, in a bucket that still exists
            assert checker.get_object(Bucket=name, Key="k")["Body"].read() == b"acknowledged"
            checker.delete_object(Bucket=name, Key="k")
            checker.delete_bucket(Bucket=name)
        else:  # deleted: it stays deleted
            with pytest.raises(ClientError) as err:
                checker.head_bucket(Bucket=name)
            assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
            assert name not in [b["Name"] for b in checker.list_buckets()["Buckets"]]


# ------------------------------------------------------------------------ 7. one write's etag and size


def test_head_list_and_get_pair_each_etag_with_its_own_size(openrek_server: str, bucket: str) -> None:
    versions = [bytes([65 + i]) * (1000 + 4099 * i) for i in range(6)]  # a distinct size each
    md5_by_size = {len(v): f'"{hashlib.md5(v).hexdigest()}"' for v in versions}
    stop = threading.Event()
    problems: list[tuple[str, Any, Any]] = []
    answers = [0]
    client("s3", openrek_server).put_object(Bucket=bucket, Key="k", Body=versions[0])

    def write(i: int) -> None:
        s3 = client("s3", openrek_server)
        while not stop.is_set():
            s3.put_object(Bucket=bucket, Key="k", Body=versions[i])

    def read() -> None:
        s3 = client("s3", openrek_server)
        while not stop.is_set():
            head = s3.head_object(Bucket=bucket, Key="k")
            if md5_by_size.get(head["ContentLength"]) != head["ETag"]:
                problems.append(("HEAD", head["ContentLength"], head["ETag"]))
            for entry in s3.list_objects_v2(Bucket=bucket)["Contents"]:
                if md5_by_size.get(entry["Size"]) != entry["ETag"]:
                    problems.append(("LIST", entry["Size"], entry["ETag"]))
            got = s3.get_object(Bucket=bucket, Key="k")
            data = got["Body"].read()
            if (len(data), f'"{hashlib.md5(data).hexdigest()}"') != (got["ContentLength"], got["ETag"]):
                problems.append(("GET", got["ContentLength"], got["ETag"]))
            answers[0] += 3

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(versions))]
    threads += [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(4)
    stop.set()
    for t in threads:
        t.join()
    assert answers[0] > 60
    assert problems == [], problems[:5]


# ------------------------------------------------------------------------ 8. temp files of killed uploads


def _stream_forever(endpoint: str, path: str, announced: int, started: threading.Event) -> None:
    host, port = urlsplit(endpoint).hostname, urlsplit(endpoint).port
    headers = _sign("PUT", endpoint + path, {"Content-Length": str(announced)})
    head = f"PUT {path} HTTP/1.1\r\nHost: {host}:{port}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    chunk = b"z" * (1024 * 1024)
    try:
        with socket.create_connection((host, port), timeout=30) as sock:
            sock.sendall(head.encode())
            started.set()
            for _ in range(announced // len(chunk)):
                sock.sendall(chunk)
    except OSError:
        return  # the server was killed


def _tmp_files(data_dir: Path) -> list[Path]:
    return list((data_dir / "s3" / ".tmp").iterdir())


def test_kill_9_during_uploads_leaves_no_temp_files_after_restart(fresh_server: ServerProcess) -> None:
    endpoint = fresh_server.start()
    s3 = client("s3", endpoint)
    s3.create_bucket(Bucket="spool")
    upload = s3.create_multipart_upload(Bucket="spool", Key="mp")["UploadId"]
    streams = []
    for path in ["/spool/big", f"/spool/mp?partNumber=1&uploadId={quote(upload)}"]:
        started = threading.Event()
        thread = threading.Thread(target=_stream_forever, args=(endpoint, path, 2 * 1024**3, started), daemon=True)
        thread.start()
        streams.append(thread)
        assert started.wait(10)
    # Both uploads are spooling into .tmp (sealed: a few MB each already).
    assert _wait_for(lambda: len(_tmp_files(fresh_server.data_dir)) >= 2
                     and all(p.stat().st_size > 1024 * 1024 for p in _tmp_files(fresh_server.data_dir)), 30), \
        _tmp_files(fresh_server.data_dir)
    fresh_server.kill()
    for thread in streams:
        thread.join(timeout=30)
    assert _tmp_files(fresh_server.data_dir)  # what the killed server was writing

    endpoint = fresh_server.start()
    assert _tmp_files(fresh_server.data_dir) == []
    s3 = client("s3", endpoint)
    assert "Contents" not in s3.list_objects_v2(Bucket="spool")
    assert s3.list_parts(Bucket="spool", Key="mp", UploadId=upload).get("Parts", []) == []

