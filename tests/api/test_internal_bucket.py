"""The models bucket (`.openrek-models`) cannot be reached from outside: not through any S3 operation,
not as a copy source, not as a manifest, a manifest's source-ref or an output bucket.

Objects are planted in the bucket through the server's own object store on disk (the way training writes
models there), then every door is tried through stock boto3 against the real server. Each answer must be
the one a bucket that does not exist gets, so nothing tells `.openrek-models` apart from `.no-such-bucket`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from openrek.store.objects import DirectoryObjectStore
from tests.support.images import classification_line, shape_image
from tests.support.server import ServerProcess

MODELS = ".openrek-models"
ABSENT = ".no-such-bucket"
SECRET = "planted/secret.jpg"


@pytest.fixture(scope="module")
def planted(server_process: ServerProcess) -> DirectoryObjectStore:
    """The server's object store, with an image and a valid manifest planted in the models bucket."""
    store = DirectoryObjectStore(Path(server_process.data_dir) / "s3")
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
        response = requests.get(url, headers=headers, timeout=10)
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
