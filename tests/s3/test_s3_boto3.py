"""The S3 endpoint through a stock boto3 client: every supported operation, and S3's exact error codes."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

import boto3
import pytest
import requests
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from tests.s3.conftest import S3Server


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


def status(excinfo: pytest.ExceptionInfo[ClientError]) -> int:
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_bucket_lifecycle(s3_client) -> None:
    s3_client.create_bucket(Bucket="lifecycle-bucket")
    names = [b["Name"] for b in s3_client.list_buckets()["Buckets"]]
    assert "lifecycle-bucket" in names
    s3_client.head_bucket(Bucket="lifecycle-bucket")
    assert s3_client.get_bucket_location(Bucket="lifecycle-bucket")["LocationConstraint"] is None
    with pytest.raises(ClientError) as exists:
        s3_client.create_bucket(Bucket="lifecycle-bucket")
    assert (error_code(exists), status(exists)) == ("BucketAlreadyOwnedByYou", 409)
    s3_client.put_object(Bucket="lifecycle-bucket", Key="k", Body=b"x")
    with pytest.raises(ClientError) as not_empty:
        s3_client.delete_bucket(Bucket="lifecycle-bucket")
    assert (error_code(not_empty), status(not_empty)) == ("BucketNotEmpty", 409)
    assert not_empty.value.response["Error"]["BucketName"] == "lifecycle-bucket"
    s3_client.delete_object(Bucket="lifecycle-bucket", Key="k")
    s3_client.delete_bucket(Bucket="lifecycle-bucket")
    with pytest.raises(ClientError) as gone:
        s3_client.head_bucket(Bucket="lifecycle-bucket")
    assert error_code(gone) == "404"
    with pytest.raises(ClientError) as gone:
        s3_client.delete_bucket(Bucket="lifecycle-bucket")
    assert (error_code(gone), status(gone)) == ("NoSuchBucket", 404)


def test_create_bucket_with_location_constraint(s3_client) -> None:
    s3_client.create_bucket(Bucket="eu-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3_client.head_bucket(Bucket="eu-bucket")
    s3_client.delete_bucket(Bucket="eu-bucket")


def test_invalid_bucket_name(s3_server: S3Server) -> None:
    # botocore refuses most bad names itself; send one it lets through.
    response = requests.put(f"{s3_server.endpoint}/Bad_Name")
    assert response.status_code == 400 and b"<Code>InvalidBucketName</Code>" in response.content
    # Names starting with "." are openrek's own (the store's .meta, the models bucket): they cannot be
    # created, and otherwise they do not exist.
    response = requests.put(f"{s3_server.endpoint}/.meta")
    assert response.status_code == 400 and b"<Code>InvalidBucketName</Code>" in response.content
    response = requests.get(f"{s3_server.endpoint}/.meta/anything")
    assert response.status_code == 404 and b"<Code>NoSuchBucket</Code>" in response.content


def test_put_get_head_delete(s3_client, bucket: str) -> None:
    body = b"hello, object store"
    put = s3_client.put_object(Bucket=bucket, Key="dir/hello.txt", Body=body, ContentType="text/plain",
                               Metadata={"purpose": "test", "Mixed-Case": "Value"})
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3_client.get_object(Bucket=bucket, Key="dir/hello.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain" and got["ContentLength"] == len(body)
    assert got["Metadata"] == {"purpose": "test", "mixed-case": "Value"}
    assert got["ETag"] == put["ETag"]
    assert abs(got["LastModified"] - datetime.now(UTC)) < timedelta(minutes=1)
    assert got["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    head = s3_client.head_object(Bucket=bucket, Key="dir/hello.txt")
    assert (head["ContentLength"], head["ETag"], head["Metadata"]["purpose"]) == (len(body), put["ETag"], "test")
    s3_client.delete_object(Bucket=bucket, Key="dir/hello.txt")
    s3_client.delete_object(Bucket=bucket, Key="dir/hello.txt")  # deleting again is fine
    with pytest.raises(ClientError) as missing:
        s3_client.get_object(Bucket=bucket, Key="dir/hello.txt")
    assert (error_code(missing), status(missing)) == ("NoSuchKey", 404)
    assert missing.value.response["Error"]["Key"] == "dir/hello.txt"
    with pytest.raises(ClientError) as missing_head:
        s3_client.head_object(Bucket=bucket, Key="dir/hello.txt")
    assert (error_code(missing_head), status(missing_head)) == ("404", 404)
    with pytest.raises(ClientError) as no_bucket:
        s3_client.get_object(Bucket="no-such-bucket-here", Key="k")
    assert (error_code(no_bucket), status(no_bucket)) == ("NoSuchBucket", 404)
    assert no_bucket.value.response["Error"]["BucketName"] == "no-such-bucket-here"


def test_default_content_type_and_empty_object(s3_client, bucket: str) -> None:
    s3_client.put_object(Bucket=bucket, Key="empty", Body=b"")
    got = s3_client.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b"" and got["ContentLength"] == 0
    assert got["ContentType"] == "binary/octet-stream"


def test_checksums_are_verified_and_echoed(s3_client, bucket: str) -> None:
    put = s3_client.put_object(Bucket=bucket, Key="crc", Body=b"payload", ChecksumAlgorithm="SHA256")
    assert put["ChecksumSHA256"]
    put = s3_client.put_object(Bucket=bucket, Key="crc", Body=b"payload")
    assert put["ChecksumCRC32"]  # botocore sends CRC32 by default
    with pytest.raises(ClientError) as bad:
        s3_client.put_object(Bucket=bucket, Key="bad", Body=b"payload", ChecksumCRC32="AAAAAA==")
    assert (error_code(bad), status(bad)) == ("BadDigest", 400)
    with pytest.raises(ClientError) as bad_md5:
        s3_client.put_object(Bucket=bucket, Key="bad", Body=b"payload", ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg==")
    assert error_code(bad_md5) == "BadDigest"
    with pytest.raises(ClientError):
        s3_client.head_object(Bucket=bucket, Key="bad")


def test_ranges(s3_client, bucket: str) -> None:
    data = bytes(range(256)) * 4
    s3_client.put_object(Bucket=bucket, Key="r", Body=data)
    cases = {"bytes=0-9": (0, 9), "bytes=100-": (100, 1023), "bytes=-10": (1014, 1023),
             "bytes=1000-5000": (1000, 1023)}
    for header, (first, last) in cases.items():
        got = s3_client.get_object(Bucket=bucket, Key="r", Range=header)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["ContentRange"] == f"bytes {first}-{last}/1024"
        assert got["Body"].read() == data[first: last + 1]
        assert got["ContentLength"] == last - first + 1
    with pytest.raises(ClientError) as unsatisfiable:
        s3_client.get_object(Bucket=bucket, Key="r", Range="bytes=5000-")
    assert (error_code(unsatisfiable), status(unsatisfiable)) == ("InvalidRange", 416)


def test_large_object_streams(s3_client, bucket: str) -> None:
    data = os.urandom(3 * 1024 * 1024 + 5)
    s3_client.put_object(Bucket=bucket, Key="large", Body=data)
    assert s3_client.get_object(Bucket=bucket, Key="large")["Body"].read() == data
    part = s3_client.get_object(Bucket=bucket, Key="large", Range="bytes=1000000-2999999")["Body"].read()
    assert part == data[1000000:3000000]


def test_conditional_get(s3_client, bucket: str) -> None:
    etag = s3_client.put_object(Bucket=bucket, Key="c", Body=b"v")["ETag"]
    assert s3_client.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"v"
    with pytest.raises(ClientError) as failed:
        s3_client.get_object(Bucket=bucket, Key="c", IfMatch='"0000"')
    assert (error_code(failed), status(failed)) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as not_modified:
        s3_client.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert status(not_modified) == 304


WEIRD_KEYS = ["a b/c+d", "ünïcödé/日本.jpg", "x/./y", "pct%2Fslash", "q?s#h&a=b", "dots...", "tilde~",
              "folder/", "a//double", "emoji-\U0001f600", "a", "a/b"]


def test_weird_keys(s3_client, bucket: str) -> None:
    for key in WEIRD_KEYS:
        s3_client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    for key in WEIRD_KEYS:
        assert s3_client.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode(), key
    listed = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(WEIRD_KEYS, key=lambda k: k.encode())
    listed_v1 = [o["Key"] for o in s3_client.list_objects(Bucket=bucket)["Contents"]]
    assert listed_v1 == listed
    # Asked for explicitly, url encoding is left to the caller to undo.
    encoded = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket, EncodingType="url")["Contents"]]
    assert [unquote(k) for k in encoded] == listed and "a%20b/c%2Bd" in encoded


def _populate(s3_client, bucket: str) -> list[str]:
    keys = ["top.txt", "photos/2024/a.jpg", "photos/2024/b.jpg", "photos/2025/c.jpg", "photos/readme",
            "videos/v.mp4", "z-last"]
    for key in keys:
        s3_client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return keys


def test_list_objects_v2_delimiter_and_prefix(s3_client, bucket: str) -> None:
    keys = _populate(s3_client, bucket)
    top = s3_client.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["photos/", "videos/"]
    assert [o["Key"] for o in top["Contents"]] == ["top.txt", "z-last"]
    assert top["KeyCount"] == 4 and top["IsTruncated"] is False
    photos = s3_client.list_objects_v2(Bucket=bucket, Prefix="photos/", Delimiter="/")
    assert [p["Prefix"] for p in photos["CommonPrefixes"]] == ["photos/2024/", "photos/2025/"]
    assert [o["Key"] for o in photos["Contents"]] == ["photos/readme"]
    content = s3_client.list_objects_v2(Bucket=bucket, Prefix="photos/2024/")["Contents"]
    assert [(o["Key"], o["Size"], o["StorageClass"]) for o in content] == [
        ("photos/2024/a.jpg", 17, "STANDARD"), ("photos/2024/b.jpg", 17, "STANDARD")]
    assert content[0]["ETag"] == f'"{hashlib.md5(b"photos/2024/a.jpg").hexdigest()}"'
    after = s3_client.list_objects_v2(Bucket=bucket, StartAfter="photos/2025/c.jpg")
    assert [o["Key"] for o in after["Contents"]] == ["photos/readme", "top.txt", "videos/v.mp4", "z-last"]
    everything = s3_client.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in everything["Contents"]] == sorted(keys)
    none = s3_client.list_objects_v2(Bucket=bucket, Prefix="nothing/")
    assert none["KeyCount"] == 0 and "Contents" not in none
    with pytest.raises(ClientError) as no_bucket:
        s3_client.list_objects_v2(Bucket="no-such-bucket-here")
    assert error_code(no_bucket) == "NoSuchBucket"


def test_pagination(s3_client, bucket: str) -> None:
    keys = _populate(s3_client, bucket)
    paginator = s3_client.get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": 2}))
    assert [len(p.get("Contents", [])) for p in pages] == [2, 2, 2, 1]
    assert [o["Key"] for p in pages for o in p["Contents"]] == sorted(keys)
    assert all(p["IsTruncated"] for p in pages[:-1]) and not pages[-1]["IsTruncated"]
    # With a delimiter, common prefixes count toward MaxKeys and are never repeated.
    pages = list(paginator.paginate(Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 1}))
    entries = [e.get("Key") or e.get("Prefix") for p in pages
               for e in p.get("Contents", []) + p.get("CommonPrefixes", [])]
    assert entries == ["photos/", "top.txt", "videos/", "z-last"]
    v1 = s3_client.get_paginator("list_objects")
    pages = list(v1.paginate(Bucket=bucket, PaginationConfig={"PageSize": 3}))
    assert [o["Key"] for p in pages for o in p["Contents"]] == sorted(keys)
    pages = list(v1.paginate(Bucket=bucket, Prefix="photos/", Delimiter="/", PaginationConfig={"PageSize": 1}))
    entries = [e.get("Key") or e.get("Prefix") for p in pages
               for e in p.get("Contents", []) + p.get("CommonPrefixes", [])]
    assert entries == ["photos/2024/", "photos/2025/", "photos/readme"]
    small = s3_client.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert small["KeyCount"] == 0


def test_delete_objects(s3_client, bucket: str) -> None:
    keys = _populate(s3_client, bucket)
    result = s3_client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[:3]]
                                                             + [{"Key": "never-existed"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == sorted(keys[:3] + ["never-existed"])
    quiet = s3_client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": keys[3]}], "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet
    remaining = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert remaining == sorted(keys[4:])


def test_copy_object(s3_client, bucket: str) -> None:
    s3_client.put_object(Bucket=bucket, Key="src/file", Body=b"copy me", ContentType="text/plain",
                         Metadata={"k": "v"})
    result = s3_client.copy_object(Bucket=bucket, Key="dst/file", CopySource={"Bucket": bucket, "Key": "src/file"})
    assert result["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"copy me").hexdigest()}"'
    got = s3_client.get_object(Bucket=bucket, Key="dst/file")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (b"copy me", "text/plain", {"k": "v"})
    s3_client.copy_object(Bucket=bucket, Key="dst/file", CopySource=f"{bucket}/src/file",
                          MetadataDirective="REPLACE", ContentType="text/other", Metadata={"n": "w"})
    head = s3_client.head_object(Bucket=bucket, Key="dst/file")
    assert (head["ContentType"], head["Metadata"]) == ("text/other", {"n": "w"})
    with pytest.raises(ClientError) as missing:
        s3_client.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "nope"})
    assert error_code(missing) == "NoSuchKey"


def test_multipart_upload_file_and_download(s3_client, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    data = os.urandom(20 * 1024 * 1024 + 123)
    source.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024,
                            max_concurrency=4)
    s3_client.upload_file(str(source), bucket, "uploads/big.bin", Config=config)
    head = s3_client.head_object(Bucket=bucket, Key="uploads/big.bin")
    assert head["ContentLength"] == len(data)
    md5s = [hashlib.md5(data[i: i + 5 * 1024 * 1024]).digest() for i in range(0, len(data), 5 * 1024 * 1024)]
    assert head["ETag"] == f'"{hashlib.md5(b"".join(md5s)).hexdigest()}-{len(md5s)}"'
    target = tmp_path / "back.bin"
    s3_client.download_file(bucket, "uploads/big.bin", str(target), Config=config)
    assert target.read_bytes() == data


def test_multipart_low_level(s3_client, bucket: str) -> None:
    upload = s3_client.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="application/x-test",
                                               Metadata={"m": "1"})
    upload_id = upload["UploadId"]
    listed = s3_client.list_multipart_uploads(Bucket=bucket)
    assert [u["UploadId"] for u in listed["Uploads"]] == [upload_id]
    part1 = os.urandom(5 * 1024 * 1024)
    e1 = s3_client.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=part1)["ETag"]
    e2 = s3_client.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=2, Body=b"tail")["ETag"]
    parts = s3_client.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, e1, len(part1)), (2, e2, 4)]
    with pytest.raises(ClientError) as bad_part:
        s3_client.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": e2}, {"PartNumber": 2, "ETag": e2}]})
    assert (error_code(bad_part), status(bad_part)) == ("InvalidPart", 400)
    with pytest.raises(ClientError) as bad_order:
        s3_client.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={
            "Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]})
    assert error_code(bad_order) == "InvalidPartOrder"
    done = s3_client.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert done["ETag"].endswith('-2"') and done["Key"] == "mp"
    got = s3_client.get_object(Bucket=bucket, Key="mp")
    assert got["Body"].read() == part1 + b"tail"
    assert (got["ContentType"], got["Metadata"]) == ("application/x-test", {"m": "1"})
    with pytest.raises(ClientError) as no_upload:
        s3_client.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=3, Body=b"x")
    assert (error_code(no_upload), status(no_upload)) == ("NoSuchUpload", 404)


def test_multipart_abort_and_too_small(s3_client, bucket: str) -> None:
    upload_id = s3_client.create_multipart_upload(Bucket=bucket, Key="ab")["UploadId"]
    e1 = s3_client.upload_part(Bucket=bucket, Key="ab", UploadId=upload_id, PartNumber=1, Body=b"a")["ETag"]
    e2 = s3_client.upload_part(Bucket=bucket, Key="ab", UploadId=upload_id, PartNumber=2, Body=b"b")["ETag"]
    with pytest.raises(ClientError) as too_small:
        s3_client.complete_multipart_upload(Bucket=bucket, Key="ab", UploadId=upload_id, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert error_code(too_small) == "EntityTooSmall"
    s3_client.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=upload_id)
    with pytest.raises(ClientError) as gone:
        s3_client.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=upload_id)
    assert (error_code(gone), status(gone)) == ("NoSuchUpload", 404)
    assert "Contents" not in s3_client.list_objects_v2(Bucket=bucket)


def test_default_addressing_style(s3_server: S3Server) -> None:
    client = boto3.client("s3", endpoint_url=s3_server.endpoint, region_name="us-east-1",
                          aws_access_key_id="other", aws_secret_access_key="credentials")
    client.create_bucket(Bucket="default-addressing")
    client.put_object(Bucket="default-addressing", Key="k", Body=b"v")
    assert client.get_object(Bucket="default-addressing", Key="k")["Body"].read() == b"v"
    assert (s3_server.root / "default-addressing" / "k").is_file()  # path-style: the bucket is a directory
    client.delete_object(Bucket="default-addressing", Key="k")
    client.delete_bucket(Bucket="default-addressing")


def test_unsupported_operation_is_not_implemented(s3_client, bucket: str) -> None:
    with pytest.raises(ClientError) as err:
        s3_client.get_bucket_tagging(Bucket=bucket)
    assert (error_code(err), status(err)) == ("NotImplemented", 501)
