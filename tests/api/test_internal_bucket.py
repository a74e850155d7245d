"""The models bucket (`.openrek-models`) cannot be reached from outside: not through any S3 operation,
not as a copy source, not as a manifest, a manifest's source-ref or an output bucket.

Objects are planted in the bucket through the server's own object store on disk (the way training writes
models there), then every door is tried through stock boto3 against the real server. Each answer must be
the one a bucket that does not exist gets, so nothing tells `.openrek-models` apart from `.no-such-bucket`.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openrek.manifests import rules
from openrek.store.objects import DirectoryObjectStore
from tests.support.clients import signed
from tests.support.images import classification_line, shape_image
from tests.support.server import ServerProcess
from tests.support.stores import server_objects

MODELS = ".openrek-models"
ABSENT = ".no-such-bucket"
SECRET = "planted/secret.jpg"
FAST = {"Delay": 1, "MaxAttempts": 120}


@pytest.fixture(scope="module")
def planted(server_process: ServerProcess) -> DirectoryObjectStore:
    """The server's object store, with an image and a valid manifest planted in the models bucket."""
    store = server_objects(server_process.data_dir)
    assert store.bucket_exists(MODELS)  # the server made it at start-up
    store.put_object(MODELS, SECRET, shape_image("red", 1), content_type="image/jpeg")
    lines = []
    for i, label in enumerate(["red", "blue"] * 10):
        key = f"planted/{label}-{i}.jpg"
        store.put_object(MODELS, key, shape_image(label, i, size=64), content_type="image/jpeg")
        lines.append(classification_line(MODELS, key, label))
    store.put_object(MODELS, "planted/train.manifest", "\n".join(lines).encode())
    return store


def _error(call: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as err:
        call()
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], \
        response["Error"].get("Message", "")


def _calls(s3: Any, bucket: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "GetObject": lambda: s3.get_object(Bucket=bucket, Key=SECRET),
        "GetObject range": lambda: s3.get_object(Bucket=bucket, Key=SECRET, Range="bytes=0-9"),
        "HeadObject": lambda: s3.head_object(Bucket=bucket, Key=SECRET),
        "PutObject": lambda: s3.put_object(Bucket=bucket, Key=SECRET, Body=b"overwritten"),
        "DeleteObject": lambda: s3.delete_object(Bucket=bucket, Key=SECRET),
        "DeleteObjects": lambda: s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": SECRET}]}),
        "ListObjects": lambda: s3.list_objects(Bucket=bucket),
        "ListObjectsV2": lambda: s3.list_objects_v2(Bucket=bucket, Prefix="planted/"),
        "HeadBucket": lambda: s3.head_bucket(Bucket=bucket),
        "GetBucketLocation": lambda: s3.get_bucket_location(Bucket=bucket),
        "DeleteBucket": lambda: s3.delete_bucket(Bucket=bucket),
        "CreateMultipartUpload": lambda: s3.create_multipart_upload(Bucket=bucket, Key="planted/new"),
        "ListMultipartUploads": lambda: s3.list_multipart_uploads(Bucket=bucket),
        "CreateBucket": lambda: s3.create_bucket(Bucket=bucket),
    }


def test_every_s3_operation_answers_as_for_an_absent_bucket(s3, planted: DirectoryObjectStore) -> None:  # type: ignore[no-untyped-def]
    hidden = {name: _error(call) for name, call in _calls(s3, MODELS).items()}
    absent = {name: _error(call) for name, call in _calls(s3, ABSENT).items()}
    for name, (code, status, message) in hidden.items():
        assert (code, status, message.replace(MODELS, ABSENT)) == absent[name], name
    assert hidden["GetObject"][:2] == ("NoSuchBucket", 404)
    assert hidden["HeadObject"][:2] == ("404", 404) and hidden["HeadBucket"][:2] == ("404", 404)
    assert hidden["CreateBucket"][:2] == ("InvalidBucketName", 400)
    assert MODELS not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    # Nothing was changed by the attempts.
    assert planted.get_bytes(MODELS, SECRET) == shape_image("red", 1)
    assert not planted.object_exists(MODELS, "planted/new")


def test_raw_requests_and_virtual_host_style_find_nothing(openrek_server: str, planted: DirectoryObjectStore) -> None:
    for url, headers in ((f"{openrek_server}/{MODELS}/{SECRET}", {}),
                         (f"{openrek_server}/%2Eopenrek-models/{SECRET}", {}),
                         (f"{openrek_server}/{SECRET}", {"Host": f"{MODELS}.s3.localhost"})):
        response = signed("GET", url, service="s3", headers=headers, timeout=10)
        assert response.status_code == 404, url
        assert b"<Code>NoSuchBucket</Code>" in response.content and b"planted" not in response.content


def test_copy_source_in_the_models_bucket_is_an_absent_bucket(s3, bucket_name: str,  # type: ignore[no-untyped-def]
                                                              planted: DirectoryObjectStore) -> None:
    for source in (f"{MODELS}/{SECRET}", f"/{MODELS}/{SECRET}", {"Bucket": MODELS, "Key": SECRET}):
        code, status, message = _error(lambda src=source: s3.copy_object(Bucket=bucket_name, Key="stolen.jpg",
                                                                        CopySource=src))
        assert (code, status) == ("NoSuchBucket", 404)
        assert message == f"The bucket {MODELS!r} does not exist."
    absent = _error(lambda: s3.copy_object(Bucket=bucket_name, Key="stolen.jpg", CopySource=f"{ABSENT}/{SECRET}"))
    assert absent == ("NoSuchBucket", 404, f"The bucket {ABSENT!r} does not exist.")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket_name)


@pytest.fixture
def bucket_name(s3, unique: str) -> str:  # type: ignore[no-untyped-def]
    name = f"internal-{unique}"
    s3.create_bucket(Bucket=name)
    return name


def _assets(bucket: str, key: str) -> dict:
    return {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": key}}}]}


def _train_until_failed(rekognition, project: str, version: str, **params: Any) -> dict:  # type: ignore[no-untyped-def]
    rekognition.create_project_version(ProjectArn=project, VersionName=version, **params)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        row = rekognition.describe_project_versions(ProjectArn=project, VersionNames=[version])[
            "ProjectVersionDescriptions"][0]
        if row["Status"] != "TRAINING_IN_PROGRESS":
            return row
        time.sleep(0.5)
    raise AssertionError(f"{version} was still training after 120 s")


def test_a_training_manifest_in_the_models_bucket_fails_like_a_missing_one(  # type: ignore[no-untyped-def]
        rekognition, bucket_name: str, unique: str, planted: DirectoryObjectStore) -> None:
    project = rekognition.create_project(ProjectName=f"internal-manifest-{unique}")["ProjectArn"]
    output = {"S3Bucket": bucket_name, "S3KeyPrefix": "out/"}
    hidden = _train_until_failed(rekognition, project, "hidden", OutputConfig=output,
                                 TrainingData=_assets(MODELS, "planted/train.manifest"),
                                 TestingData={"AutoCreate": True})
    absent = _train_until_failed(rekognition, project, "absent", OutputConfig=output,
                                 TrainingData=_assets(ABSENT, "planted/train.manifest"),
                                 TestingData={"AutoCreate": True})
    assert hidden["Status"] == absent["Status"] == "TRAINING_FAILED"
    assert rules.ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT in hidden["StatusMessage"]
    assert "NoSuchBucket" in hidden["StatusMessage"]
    assert hidden["StatusMessage"].replace(MODELS, ABSENT) == absent["StatusMessage"]
    assert "EvaluationResult" not in hidden


def test_source_refs_into_the_models_bucket_are_invalid_source_refs(  # type: ignore[no-untyped-def]
        rekognition, s3, bucket_name: str, unique: str, planted: DirectoryObjectStore) -> None:
    lines = [classification_line(MODELS, f"planted/{label}-{i}.jpg", label)
             for i, label in enumerate(["red", "blue"] * 10)]
    s3.put_object(Bucket=bucket_name, Key="train.manifest", Body="\n".join(lines).encode())
    project = rekognition.create_project(ProjectName=f"internal-refs-{unique}")["ProjectArn"]
    row = _train_until_failed(rekognition, project, "v1", OutputConfig={"S3Bucket": bucket_name, "S3KeyPrefix": "out/"},
                              TrainingData=_assets(bucket_name, "train.manifest"), TestingData={"AutoCreate": True})
    assert row["Status"] == "TRAINING_FAILED"
    assert rules.ERROR_TOO_MANY_INVALID_ROWS_IN_MANIFEST in row["StatusMessage"]
    validation = row["TrainingDataResult"]["Validation"]["Assets"][0]["GroundTruthManifest"]["S3Object"]
    body = s3.get_object(Bucket=validation["Bucket"], Key=validation["Name"])["Body"].read().decode()
    checked = [json.loads(line) for line in body.splitlines() if line.strip()]
    assert len(checked) == len(lines)
    for line in checked:
        [error] = line["errors"]
        assert error["code"] == rules.ERROR_INVALID_SOURCE_REF_FORMAT
        assert "bucket names never begin with a period" in error["message"]
        assert "Point source-ref at an image in one of your own buckets" in error["message"]


def test_the_models_bucket_is_no_output_bucket(rekognition, s3, bucket_name: str, unique: str,  # type: ignore[no-untyped-def]
                                               planted: DirectoryObjectStore) -> None:
    # Refused at once (once CreateProjectVersion checks it), or by the training job; never written to.
    manifest = "\n".join(classification_line(bucket_name, f"img/{label}-{i}.jpg", label)
                         for i, label in enumerate(["red", "blue"] * 10))
    for i, label in enumerate(["red", "blue"] * 10):
        s3.put_object(Bucket=bucket_name, Key=f"img/{label}-{i}.jpg", Body=shape_image(label, i, size=64))
    s3.put_object(Bucket=bucket_name, Key="train.manifest", Body=manifest.encode())
    project = rekognition.create_project(ProjectName=f"internal-out-{unique}")["ProjectArn"]
    before = {o.key for o in planted.list_objects(MODELS)}
    try:
        row = _train_until_failed(rekognition, project, "v1", OutputConfig={"S3Bucket": MODELS, "S3KeyPrefix": "out/"},
                                  TrainingData=_assets(bucket_name, "train.manifest"),
                                  TestingData={"AutoCreate": True})
    except rekognition.exceptions.InvalidParameterException as refused:
        assert MODELS in str(refused)
    else:
        assert row["Status"] == "TRAINING_FAILED"
        assert rules.ERROR_CANNOT_WRITE_OUTPUT_S3_BUCKET in row["StatusMessage"]
    assert {o.key for o in planted.list_objects(MODELS)} == before
