"""Hostile Rekognition JSON input: each defect is a request a client could send (stock boto3, or a raw
signed request where boto3 would not send it), and every answer is AWS's 4xx with its `__type`, never a
500. The server is the session's real one on loopback."""

from __future__ import annotations

import base64
import functools
import io
import json
import struct
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from PIL import Image

from tests.support.clients import client, signed
from tests.support.datasets import all_entries, wait_dataset
from tests.support.images import upload_classification_set
from tests.support.server import ROOT_KEY, ROOT_SECRET

JSON = "application/x-amz-json-1.1"
MiB = 1024 * 1024


def _raw(endpoint: str, operation: str, body: bytes, service: str = "RekognitionService") -> requests.Response:
    return signed("POST", endpoint + "/", data=body, service="kms" if service == "TrentService" else "rekognition",
                  headers={"X-Amz-Target": f"{service}.{operation}", "Content-Type": JSON})


def _error(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["__type"], body["Message"]


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = exc.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# 1. Nesting --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("operation", "body"), [
    ("DescribeProjects", "[" * 100_000),  # the parser's own recursion limit
    ("DescribeProjects", '{"ProjectNames": ' + _nested(5000) + "}"),
    ("CreateProject", '{"ProjectName": "deep", "Tags": {"k": ' + _nested(900) + "}}"),  # parses; echoing broke
    ("CreateProject", '{"ProjectName": "deep", "Tags": {"k": ' + _nested(150) + "}}"),
    ("CreateProject", '{"ProjectName": "deep", "Unknown": ' + '{"a": ' * 300 + "1" + "}" * 300 + "}"),
])
def test_deeply_nested_json_is_a_serialization_exception(openrek_server: str, operation: str, body: str) -> None:
    status, code, message = _error(_raw(openrek_server, operation, body.encode()))
    assert (status, code) == (400, "SerializationException")
    assert "nested more than 100 levels deep" in message and len(message) < 300


def test_deeply_nested_policy_documents_are_malformed_not_a_crash(openrek_server: str, rekognition, unique: str) -> None:  # type: ignore[no-untyped-def]
    project = rekognition.create_project(ProjectName=f"deep-policy-{unique}")["ProjectArn"]
    with pytest.raises(rekognition.exceptions.MalformedPolicyDocumentException) as exc:
        rekognition.put_project_policy(ProjectArn=project, PolicyName="deep", PolicyDocument="[" * 2000)
    assert "nested more than 100 levels deep" in _code(exc)[2]
    nested_statement = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]})
    deep = nested_statement.replace('"Allow"', '"Allow", "Condition": ' + '{"a":' * 150 + "1" + "}" * 150)
    with pytest.raises(rekognition.exceptions.MalformedPolicyDocumentException):
        rekognition.put_project_policy(ProjectArn=project, PolicyName="deep", PolicyDocument=deep)
    # KMS key policies go through the same parser.
    status, code, _ = _error(_raw(openrek_server, "CreateKey", json.dumps({"Policy": "[" * 50_000}).encode(),
                                  service="TrentService"))
    assert (status, code) == (400, "MalformedPolicyDocumentException")


# 5. NaN, Infinity and numbers out of range -------------------------------------------------------------------

def test_nan_and_infinity_are_refused_in_every_float_member(openrek_server: str, rekognition, s3,  # type: ignore[no-untyped-def]
                                                            unique: str) -> None:
    version_arn = (f"arn:aws:rekognition:us-east-1:000000000000:project/nan-{unique}/version/v1/"
                   "1700000000000")
    for value in (float("nan"), float("inf")):  # stock boto3 sends them as NaN and Infinity
        with pytest.raises(ClientError) as exc:
            rekognition.detect_custom_labels(ProjectVersionArn=version_arn, MinConfidence=value,
                                             Image={"Bytes": b"\xff\xd8"})
        assert _code(exc)[:2] == (400, "SerializationException"), value
    bucket = f"nan-{unique}"
    s3.create_bucket(Bucket=bucket)
    project = rekognition.create_project(ProjectName=f"nan-{unique}", Feature="CONTENT_MODERATION")["ProjectArn"]
    assets = {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": "m.manifest"}}}]}
    with pytest.raises(ClientError) as exc:
        rekognition.create_project_version(
            ProjectArn=project, VersionName="nan", OutputConfig={"S3Bucket": bucket}, TrainingData=assets,
            TestingData={"AutoCreate": True},
            FeatureConfig={"ContentModeration": {"ConfidenceThreshold": float("nan")}})
    assert _code(exc)[:2] == (400, "SerializationException")
    assert rekognition.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"] == []
    # 1e999 is valid JSON text that parses as infinity: refused where it lands in a float member.
    status, code, message = _error(_raw(openrek_server, "DetectCustomLabels", json.dumps(
        {"ProjectVersionArn": version_arn, "Image": {"Bytes": "/9g="}}).replace("}}", '}, "MinConfidence": 1e999}')
        .encode()))
    assert (status, code) == (400, "SerializationException") and "minConfidence" in message


@pytest.mark.parametrize("value", ["1e30", "100000000000000000000000", "-9223372036854775809", "2147483648"])
def test_integers_out_of_range_are_a_serialization_exception(openrek_server: str, value: str) -> None:
    """MaxResults is an `integer` (32 bits): a number beyond it must not reach SQLite's LIMIT."""
    status, code, message = _error(_raw(openrek_server, "DescribeProjects", f'{{"MaxResults": {value}}}'.encode()))
    assert (status, code) == (400, "SerializationException") and "maxResults" in message


# 6. Request size and echoed values ---------------------------------------------------------------------------

def test_a_huge_body_is_a_413_with_a_json_error(rekognition) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    with pytest.raises(ClientError) as exc:
        rekognition.create_project(ProjectName="a" * 50_000_000)
    status, code, message = _code(exc)
    assert (status, code) == (413, "ValidationException")
    assert "at most 8388608 bytes" in message and len(message) < 400
    assert time.monotonic() - started < 30


def test_a_huge_chunked_body_is_refused_without_reading_it_all(openrek_server: str) -> None:
    """No Content-Length: the server counts as the chunks arrive and answers once past the cap."""
    body = json.dumps({"ProjectName": "a" * 40_000_000}).encode()
    request = AWSRequest(method="POST", url=openrek_server + "/", data=body,
                         headers={"X-Amz-Target": "RekognitionService.CreateProject", "Content-Type": JSON})
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "rekognition", "us-east-1").add_auth(request)
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))
    response = requests.post(openrek_server + "/", data=chunks, headers=headers, timeout=60)
    status, code, message = _error(response)
    assert (status, code) == (413, "ValidationException") and "at most 8388608 bytes" in message
    follow_up = _raw(openrek_server, "DescribeProjects", b"{}")
    assert follow_up.status_code == 200


def test_iam_and_sts_bodies_have_the_same_cap(openrek_server: str) -> None:
    for service, action in (("iam", "CreateUser"), ("sts", "GetCallerIdentity")):
        body = f"Action={action}&Version=2010-05-08&UserName={'u' * (9 * MiB)}".encode()
        response = signed("POST", openrek_server + "/", service=service, data=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        assert response.status_code == 413, service
        assert "<Code>ValidationError</Code>" in response.text and "at most 8388608 bytes" in response.text


def test_a_body_under_the_cap_is_still_read(rekognition) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(rekognition.exceptions.ClientError) as exc:
        rekognition.create_project(ProjectName="b" * (7 * MiB))
    status, code, message = _code(exc)
    assert (status, code) == (400, "ValidationException")
    assert "Member must have length less than or equal to 255" in message


def test_error_messages_cut_echoed_values(rekognition) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(rekognition.exceptions.ClientError) as exc:
        rekognition.create_project(ProjectName="n" * 100_000)
    message = _code(exc)[2]
    assert f"Value '{'n' * 100}…' at 'projectName'" in message and len(message) < 400
    with pytest.raises(rekognition.exceptions.ClientError) as exc:
        rekognition.create_project(ProjectName="ok", Tags={f"k{i}": "v" * 300 for i in range(60)})
    assert len(_code(exc)[2]) < 2000


def test_blobs_are_never_echoed(openrek_server: str, rekognition) -> None:  # type: ignore[no-untyped-def]
    """A blob over its length is reported as AWS does (the buffer, not its bytes), never as a `b'…'` repr."""
    version_arn = "arn:aws:rekognition:us-east-1:000000000000:project/blob/version/v1/1700000000000"
    with pytest.raises(ClientError) as exc:
        rekognition.detect_custom_labels(ProjectVersionArn=version_arn, Image={"Bytes": b"\xff" * (5 * MiB + 1)})
    status, code, message = _code(exc)
    assert (status, code) == (400, "ValidationException")
    assert "Value 'java.nio.HeapByteBuffer[pos=0 lim=5242881 cap=5242881]' at 'image.bytes'" in message
    assert "b'" not in message and "\\xff" not in message and len(message) < 400
    empty = _raw(openrek_server, "UpdateDatasetEntries", json.dumps({
        "DatasetArn": "arn:aws:rekognition:us-east-1:000000000000:project/p/dataset/train/1700000000000",
        "Changes": {"GroundTruth": base64.b64encode(b"").decode()}}).encode())
    status, code, message = _error(empty)
    assert (status, code) == (400, "ValidationException") and "b''" not in message


# 3. Optional members the service needs -----------------------------------------------------------------------

@pytest.mark.parametrize(("s3_object", "missing"), [
    ({"Name": "train.manifest"}, "Bucket"), ({"Bucket": "some-bucket"}, "Name"), ({}, "S3Object"),
    ({"Version": "v1"}, "Bucket"),
])
def test_manifest_s3_object_without_bucket_or_name(rekognition, s3, unique: str,  # type: ignore[no-untyped-def]
                                                   s3_object: dict, missing: str) -> None:
    """Both members are optional in the model, so stock boto3 sends the request; it used to be a KeyError."""
    bucket = f"refs-{unique}"
    s3.create_bucket(Bucket=bucket)
    project = rekognition.create_project(ProjectName=f"refs-{unique}")["ProjectArn"]
    good = {"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": "train.manifest"}}}
    hollow = {"GroundTruthManifest": {"S3Object": s3_object}}
    for training, testing, where in (
        ({"Assets": [hollow]}, {"AutoCreate": True}, "TrainingData.Assets.1"),
        ({"Assets": [good]}, {"Assets": [hollow]}, "TestingData.Assets.1"),
        ({"Assets": [good, hollow]}, {"AutoCreate": True}, "TrainingData.Assets.2"),
    ):
        with pytest.raises(rekognition.exceptions.InvalidParameterException) as exc:
            rekognition.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": bucket},
                                               TrainingData=training, TestingData=testing)
        message = _code(exc)[2]
        assert f"{where}.GroundTruthManifest.S3Object" in message and missing in message
    with pytest.raises(rekognition.exceptions.InvalidParameterException) as exc:
        rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN",
                                   DatasetSource={"GroundTruthManifest": {"S3Object": s3_object}})
    assert "DatasetSource.GroundTruthManifest" in _code(exc)[2]
    assert rekognition.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"] == []
    assert rekognition.describe_projects(ProjectNames=[f"refs-{unique}"])["ProjectDescriptions"][0]["Datasets"] == []


# 4. NextToken -------------------------------------------------------------------------------------------------

def _old_style_token(scope: str, offset: int) -> str:
    """A token as the server used to make them: its offset readable and its scope digest guessable."""
    import hashlib

    raw = json.dumps({"o": offset, "s": hashlib.sha256(scope.encode()).hexdigest()[:16]}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def test_forged_and_altered_next_tokens_are_invalid(rekognition, unique: str) -> None:  # type: ignore[no-untyped-def]
    names = [f"tok-{unique}-{i}" for i in range(3)]
    for name in names:
        rekognition.create_project(ProjectName=name)
    forged = [
        _old_style_token("projects|000000000000|us-east-1|None|['CUSTOM_LABELS']", 10**30),  # SQLite overflow
        _old_style_token("projects|000000000000|us-east-1|None|['CUSTOM_LABELS']", 1),
        "garbage", "", "=" * 40, "A" * 255, base64.urlsafe_b64encode(b"\x01" + b"\x00" * 16 + b"9" * 30).decode(),
    ]
    for token in forged:
        if not token:
            continue
        with pytest.raises(rekognition.exceptions.InvalidPaginationTokenException):
            rekognition.describe_projects(NextToken=token, MaxResults=1)
    page = rekognition.describe_projects(ProjectNames=names, MaxResults=1)
    token = page["NextToken"]
    assert isinstance(token, str) and len(token) < 100
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[-1] = ord("7") if raw[-1] != ord("7") else ord("8")  # another offset, the MAC left as it was
    for altered in (base64.urlsafe_b64encode(bytes(raw)).decode(), token[:-2], token + "AA"):
        with pytest.raises(rekognition.exceptions.InvalidPaginationTokenException):
            rekognition.describe_projects(ProjectNames=names, MaxResults=1, NextToken=altered)
    with pytest.raises(rekognition.exceptions.InvalidPaginationTokenException):  # made for another listing
        rekognition.describe_projects(ProjectNames=names[:2], MaxResults=1, NextToken=token)
    assert rekognition.describe_projects(ProjectNames=names, MaxResults=1, NextToken=token)["ProjectDescriptions"]


def test_forged_tokens_of_every_paginated_operation(openrek_server: str, rekognition, unique: str) -> None:  # type: ignore[no-untyped-def]
    """Old-style tokens carrying the listing's real scope digest and an offset past SQLite's integers."""
    project = rekognition.create_project(ProjectName=f"tok-ops-{unique}")["ProjectArn"]
    dataset = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN")["DatasetArn"]
    for operation, params, scope in (
        ("DescribeProjectVersions", {"ProjectArn": project}, f"versions|{project}|None"),
        ("ListProjectPolicies", {"ProjectArn": project}, f"policies|{project}"),
        ("ListDatasetLabels", {"DatasetArn": dataset}, f"labels|{dataset}"),
        ("ListDatasetEntries", {"DatasetArn": dataset}, f"entries|{dataset}"),
        ("DescribeProjects", {}, "projects|000000000000|us-east-1|None|['CUSTOM_LABELS']"),
    ):
        for offset in (10**30, 2**63, -1, 3):
            token = _old_style_token(scope, offset)
            status, code, _ = _error(_raw(openrek_server, operation, json.dumps({**params, "NextToken": token})
                                          .encode()))
            assert (status, code) == (400, "InvalidPaginationTokenException"), (operation, offset)


def test_stock_paginators_follow_signed_tokens(rekognition, unique: str) -> None:  # type: ignore[no-untyped-def]
    names = [f"pages-{unique}-{i}" for i in range(5)]
    for name in names:
        rekognition.create_project(ProjectName=name)
    pages = list(rekognition.get_paginator("describe_projects").paginate(
        ProjectNames=names, PaginationConfig={"PageSize": 2}))
    assert [len(p["ProjectDescriptions"]) for p in pages] == [2, 2, 1]
    assert sorted(d["ProjectArn"].split("/")[1] for p in pages for d in p["ProjectDescriptions"]) == names
    assert all("NextToken" in p for p in pages[:-1]) and "NextToken" not in pages[-1]


# 1 (manifests) and 2 (images): a model trained from a manifest with one deeply nested line ---------------------

FAST = {"Delay": 1, "MaxAttempts": 300}


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header(width: int, height: int, pixels: bytes | None = None) -> bytes:
    """A PNG whose IHDR declares width x height (RGB, 8-bit); `pixels` the raw IDAT payload, None for no IDAT."""
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    if pixels is not None:
        data += _png_chunk(b"IDAT", pixels)
    return data + _png_chunk(b"IEND", b"")


@functools.lru_cache(maxsize=8)
def blank_png(width: int, height: int) -> bytes:
    """A real, complete PNG that compresses to almost nothing (10000x10000 is under 300 KB)."""
    row = b"\x00" + b"\x00" * (3 * width)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return png_header(width, height, idat)


def _encoded(img: Image.Image, fmt: str, **options: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


@pytest.fixture(scope="module")
def served(openrek_server: str) -> Iterator[dict[str, Any]]:
    """A running model trained from a manifest holding one line nested 900 deep, and its bucket."""
    rekognition, s3 = client("rekognition", openrek_server), client("s3", openrek_server)
    unique = uuid.uuid4().hex[:10]
    bucket = f"hostile-{unique}"
    s3.create_bucket(Bucket=bucket)
    key = upload_classification_set(s3, bucket, "set/", ["red", "blue"], per_label=8, size=64)
    lines = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()
    deep = lines[3][:-1] + ', "extra": ' + _nested(900) + "}"
    lines.insert(4, deep)
    s3.put_object(Bucket=bucket, Key=key, Body="\n".join(lines).encode())
    project = rekognition.create_project(ProjectName=f"hostile-{unique}")["ProjectArn"]
    arn = rekognition.create_project_version(
        ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": bucket, "S3KeyPrefix": "out/"},
        TrainingData={"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": key}}}]},
        TestingData={"AutoCreate": True})["ProjectVersionArn"]
    rekognition.get_waiter("project_version_training_completed").wait(
        ProjectArn=project, VersionNames=["v1"], WaiterConfig=FAST)
    rekognition.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)
    rekognition.get_waiter("project_version_running").wait(ProjectArn=project, VersionNames=["v1"],
                                                          WaiterConfig=FAST)
    yield {"arn": arn, "project": project, "bucket": bucket, "deep": deep}
    rekognition.stop_project_version(ProjectVersionArn=arn)


def test_a_deeply_nested_manifest_line_is_that_lines_error(rekognition, s3, served: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    """The version trains (it used to fail as an internal error); the line is ERROR_INVALID_JSON_LINE."""
    version = rekognition.describe_project_versions(ProjectArn=served["project"])["ProjectVersionDescriptions"][0]
    assert version["Status"] in {"RUNNING", "TRAINING_COMPLETED"}
    ref = version["TrainingDataResult"]["Validation"]["Assets"][0]["GroundTruthManifest"]["S3Object"]
    lines = [json.loads(line) for line in
             s3.get_object(Bucket=ref["Bucket"], Key=ref["Name"])["Body"].read().decode().splitlines()]
    invalid = [line for line in lines if "invalid-json-line" in line]
    assert len(invalid) == 1 and invalid[0]["invalid-json-line"] == served["deep"]
    assert [e["code"] for e in invalid[0]["errors"]] == ["ERROR_INVALID_JSON_LINE"]
    assert "nested more than 100 levels deep" in invalid[0]["errors"][0]["message"]
    summary_ref = version["ManifestSummary"]["S3Object"]
    summary = json.loads(s3.get_object(Bucket=summary_ref["Bucket"], Key=summary_ref["Name"])["Body"].read())
    assert summary["statistics"]["training"]["invalid_json_lines"] == 1


def test_a_deeply_nested_dataset_line_is_that_lines_error(rekognition, s3, unique: str) -> None:  # type: ignore[no-untyped-def]
    bucket = f"deep-ds-{unique}"
    s3.create_bucket(Bucket=bucket)
    key = upload_classification_set(s3, bucket, "set/", ["red", "blue"], per_label=5, size=64)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    first = body.splitlines()[0]
    s3.put_object(Bucket=bucket, Key=key, Body=(body + "\n" + first[:-1] + ', "x": ' + _nested(950) + "}").encode())
    project = rekognition.create_project(ProjectName=f"deep-ds-{unique}")["ProjectArn"]
    dataset = rekognition.create_dataset(
        ProjectArn=project, DatasetType="TRAIN",
        DatasetSource={"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": key}}})["DatasetArn"]
    description = wait_dataset(rekognition, dataset)
    assert description["Status"] == "CREATE_COMPLETE", description
    assert description["DatasetStats"]["TotalEntries"] == 10
    assert description["DatasetStats"]["ErrorEntries"] == 0
    # Lines through UpdateDatasetEntries go through the same parser: the deep one is dropped as invalid.
    deep_change = (first[:-1] + ', "x": ' + _nested(5000) + "}").encode()
    rekognition.update_dataset_entries(DatasetArn=dataset, Changes={"GroundTruth": deep_change})
    assert wait_dataset(rekognition, dataset)["Status"] in {"UPDATE_COMPLETE", "UPDATE_FAILED"}
    assert len(all_entries(rekognition, dataset)) == 10


def _detect(rekognition, served: dict[str, Any], image: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return rekognition.detect_custom_labels(ProjectVersionArn=served["arn"], MinConfidence=0, Image=image)


@pytest.mark.parametrize(("name", "make", "code"), [  # made when the test runs, not at collection
    ("bomb", lambda: png_header(30_000, 30_000, zlib.compress(b"\x00" * 1000)), "ImageTooLargeException"),
    ("huge-blank", lambda: blank_png(10_000, 10_000), "ImageTooLargeException"),
    ("just-over", lambda: png_header(4097, 64, zlib.compress(b"")), "ImageTooLargeException"),
    ("no-pixel-data", lambda: png_header(200, 200), "InvalidImageFormatException"),
    ("empty-pixel-data", lambda: png_header(200, 200, zlib.compress(b"")), "InvalidImageFormatException"),
    ("truncated", lambda: blank_png(300, 300)[:-40], "InvalidImageFormatException"),
    ("gif", lambda: _encoded(Image.new("RGB", (80, 80)), "GIF"), "InvalidImageFormatException"),
    ("header-only", lambda: b"\x89PNG\r\n\x1a\n", "InvalidImageFormatException"),
])
def test_unusable_images_get_awss_image_errors(rekognition, s3, served: dict[str, Any],  # type: ignore[no-untyped-def]
                                               name: str, make: Callable[[], bytes], code: str) -> None:
    data = make()
    modelled = {e.name for e in rekognition.meta.service_model.operation_model("DetectCustomLabels").error_shapes}
    assert code in modelled
    key = f"hostile/{name}.png"
    s3.put_object(Bucket=served["bucket"], Key=key, Body=data)
    for image in ({"Bytes": data}, {"S3Object": {"Bucket": served["bucket"], "Name": key}}):
        with pytest.raises(ClientError) as exc:
            _detect(rekognition, served, image)
        status, got, message = _code(exc)
        assert (status, got) == (400, code), (name, list(image), message)


def test_a_small_file_declaring_a_huge_image_is_refused_from_its_header(rekognition, served: dict[str, Any],  # type: ignore[no-untyped-def]
                                                                        server_process) -> None:
    """Under 300 KB of PNG that would decode to 300 MB of pixels: refused before a pixel is decoded."""
    data = blank_png(10_000, 10_000)
    assert len(data) < 300_000
    before = _peak_rss(server_process.proc.pid)
    started = time.monotonic()
    for _ in range(3):
        with pytest.raises(rekognition.exceptions.ImageTooLargeException) as exc:
            _detect(rekognition, served, {"Bytes": data})
        assert "10000x10000" in _code(exc)[2] and "4096" in _code(exc)[2]
    assert time.monotonic() - started < 10
    assert _peak_rss(server_process.proc.pid) - before < 100 * MiB


def _peak_rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_usable_images_of_every_accepted_kind_are_served(rekognition, s3, served: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    red = Image.new("RGB", (120, 90), (220, 40, 40))
    blue = Image.new("RGB", (120, 90), (40, 70, 220))
    images = {
        # A camera JPEG with a second frame (Pillow's MPO): accepted for training, so served too.
        "mpo": _encoded(red, "MPO", save_all=True, append_images=[blue]),
        "big-jpeg": _encoded(Image.new("RGB", (4000, 3000), (40, 70, 220)), "JPEG", quality=70),
        "edge-png": blank_png(4096, 64),
        "palette-png": _encoded(Image.new("P", (80, 80)), "PNG", transparency=0),
    }
    for name, data in images.items():
        assert _detect(rekognition, served, {"Bytes": data})["CustomLabels"], name
        s3.put_object(Bucket=served["bucket"], Key=f"ok/{name}", Body=data)
        assert _detect(rekognition, served, {"S3Object": {"Bucket": served["bucket"], "Name": f"ok/{name}"}})[
            "CustomLabels"], name


def test_concurrent_large_decodes_all_answer(openrek_server: str, served: dict[str, Any]) -> None:
    data = _encoded(Image.new("RGB", (4096, 4096), (220, 40, 40)), "PNG")
    body = json.dumps({"ProjectVersionArn": served["arn"], "MinConfidence": 0,
                       "Image": {"Bytes": base64.b64encode(data).decode()}}).encode()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: _raw(openrek_server, "DetectCustomLabels", body), range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert all(a.json()["CustomLabels"] for a in answers)


# 3, for every operation: optional members left out, or given empty, never reach a KeyError ------------------

_FAKE_VERSION = "arn:aws:rekognition:us-east-1:000000000000:project/fz/version/v1/1700000000000"
_DESTRUCTIVE = {"DeleteProject", "DeleteProjectVersion", "DeleteDataset", "StopProjectVersion",
                "StartProjectVersion", "DeleteProjectPolicy"}


def _sample(shape: Any, real: dict[str, Any], name: str, text: str) -> Any:
    """A value for `shape` with every member present: real ARNs by member name, else something plausible."""
    if name in real:
        return real[name]
    kind = shape.type_name
    if kind == "structure":
        return {m: _sample(s, real, m, text) for m, s in shape.members.items()}
    if kind == "list":
        return [_sample(shape.member, real, name, text)]
    if kind == "map":
        return {"k": _sample(shape.value, real, "", text)}
    if kind == "string":
        return shape.enum[0] if shape.enum else text[: shape.metadata.get("max", len(text))]
    if kind in ("integer", "long"):
        return max(1, shape.metadata.get("min", 1))
    if kind in ("float", "double"):
        return 50.0
    if kind == "boolean":
        return False
    if kind == "blob":
        return base64.b64encode(b"{}").decode()
    return 0


def _variants(shape: Any, value: Any, path: tuple = ()) -> Iterator[tuple[str, tuple]]:
    """Each optional member left out, and each structure given as {}, one at a time, at any depth."""
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            here = (*path, name)
            if name not in shape.required_members:
                yield "drop", here
            if member.type_name == "structure":
                yield "empty", here
            yield from _variants(member, value[name], here)
    elif shape.type_name == "list":
        yield from _variants(shape.member, value[0], (*path, 0))
    elif shape.type_name == "map":
        yield from _variants(shape.value, value["k"], (*path, "k"))


def _applied(value: Any, change: tuple[str, tuple]) -> Any:
    kind, path = change
    out = json.loads(json.dumps(value))
    parent = out
    for step in path[:-1]:
        parent = parent[step]
    if kind == "drop":
        del parent[path[-1]]
    else:
        parent[path[-1]] = {}
    return out


def test_every_operation_survives_hollow_optional_members(openrek_server: str, rekognition, served: dict[str, Any],  # type: ignore[no-untyped-def]
                                                         unique: str) -> None:
    model = rekognition.meta.service_model
    implemented = [op for op in model.operation_names if op not in _not_implemented(openrek_server)]
    assert "CreateProjectVersion" in implemented and "DetectCustomLabels" in implemented
    failures = []
    for n, operation in enumerate(sorted(implemented)):
        project = rekognition.create_project(ProjectName=f"fz-{unique}-{n}")["ProjectArn"]
        other = rekognition.create_project(ProjectName=f"fz-{unique}-{n}-ds")["ProjectArn"]
        dataset = rekognition.create_dataset(ProjectArn=other, DatasetType="TRAIN")["DatasetArn"]
        version = _FAKE_VERSION if operation in _DESTRUCTIVE else served["arn"]
        real = {"ProjectArn": project, "DestinationProjectArn": project, "SourceProjectArn": served["project"],
                "ProjectVersionArn": version, "SourceProjectVersionArn": version, "DatasetArn": dataset,
                "Arn": dataset, "ResourceArn": project, "NextToken": None}
        real = {k: v for k, v in real.items() if v is not None}
        shape = model.operation_model(operation).input_shape
        full = _sample(shape, real, "", f"fz{unique}") if shape is not None else {}
        for change in [("none", ()), *(_variants(shape, full) if shape is not None else [])]:
            body = full if change[0] == "none" else _applied(full, change)
            response = _raw(openrek_server, operation, json.dumps(body).encode())
            if response.status_code >= 500 or (response.status_code >= 400 and "__type" not in response.json()):
                failures.append((operation, change, response.status_code, response.text[:200]))
    assert not failures, failures


def _not_implemented(endpoint: str) -> set[str]:
    """Operations the server answers NotImplementedException for (faces, video, …)."""
    response = _raw(endpoint, "ListCollections", b"{}")
    message = response.json()["Message"]
    implemented = set(message.split("Implemented: ", 1)[1].rstrip(".").split(", "))
    model = client("rekognition", endpoint).meta.service_model
    return set(model.operation_names) - implemented
