"""Hostile Rekognition JSON input: each defect is a request a client could send (stock boto3, or a raw
signed request where boto3 would not send it), and every answer is AWS's 4xx with its `__type`, never a
500. The server is the session's real one on loopback."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.support.clients import signed
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
    project = rekognition.create_project(ProjectName=f"tok-ops-{unique}")["ProjectArn"]
    dataset = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN")["DatasetArn"]
    huge = base64.urlsafe_b64encode(json.dumps({"o": 10**30, "s": "0" * 16}).encode()).decode()
    for operation, params in (
        ("DescribeProjectVersions", {"ProjectArn": project}),
        ("ListProjectPolicies", {"ProjectArn": project}),
        ("ListDatasetEntries", {"DatasetArn": dataset}),
        ("ListDatasetLabels", {"DatasetArn": dataset}),
        ("DescribeProjects", {}),
    ):
        status, code, _ = _error(_raw(openrek_server, operation, json.dumps({**params, "NextToken": huge}).encode()))
        assert (status, code) == (400, "InvalidPaginationTokenException"), operation


def test_stock_paginators_follow_signed_tokens(rekognition, unique: str) -> None:  # type: ignore[no-untyped-def]
    names = [f"pages-{unique}-{i}" for i in range(5)]
    for name in names:
        rekognition.create_project(ProjectName=name)
    pages = list(rekognition.get_paginator("describe_projects").paginate(
        ProjectNames=names, PaginationConfig={"PageSize": 2}))
    assert [len(p["ProjectDescriptions"]) for p in pages] == [2, 2, 1]
    assert sorted(d["ProjectArn"].split("/")[1] for p in pages for d in p["ProjectDescriptions"]) == names
    assert all("NextToken" in p for p in pages[:-1]) and "NextToken" not in pages[-1]
