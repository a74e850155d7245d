"""Server-side encryption through stock boto3 and `aws s3` against the real server: every object is
encrypted (AES256 by default), SSE-KMS with a key id, ARN or alias (none: alias/aws/s3), answers carry the
encryption headers, bad headers get S3's errors, a disabled key reads and writes as KMS.DisabledException,
and an IAM user needs kms:GenerateDataKey to write and kms:Decrypt to read."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.accounts import keyed_client
from tests.support.clients import ROOT_KEY, ROOT_SECRET, client, signed

AWS = Path(sys.executable).with_name("aws")


def _error(call: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as err:
        call()
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"].get(
        "Message", "")


@pytest.fixture
def bucket(s3: Any, unique: str) -> str:
    name = f"sse-{unique}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def key(openrek_server: str, unique: str) -> dict[str, str]:
    kms = client("kms", openrek_server)
    meta = kms.create_key(Description=f"sse {unique}")["KeyMetadata"]
    kms.create_alias(AliasName=f"alias/sse-{unique}", TargetKeyId=meta["KeyId"])
    return {"id": meta["KeyId"], "arn": meta["Arn"], "alias": f"alias/sse-{unique}"}


def test_every_object_is_encrypted_and_kms_keys_are_named_every_way(s3: Any, bucket: str,
                                                                      key: dict[str, str]) -> None:
    put = s3.put_object(Bucket=bucket, Key="plain", Body=b"default")
    assert put["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in put
    assert s3.head_object(Bucket=bucket, Key="plain")["ServerSideEncryption"] == "AES256"
    got = s3.get_object(Bucket=bucket, Key="plain")
    assert got["ServerSideEncryption"] == "AES256" and got["Body"].read() == b"default"
    assert s3.put_object(Bucket=bucket, Key="s3", Body=b"x", ServerSideEncryption="AES256")[
        "ServerSideEncryption"] == "AES256"
    for i, form in enumerate([key["id"], key["arn"], key["alias"]]):
        put = s3.put_object(Bucket=bucket, Key=f"kms{i}", Body=b"secret %d" % i, ServerSideEncryption="aws:kms",
                            SSEKMSKeyId=form)
        assert (put["ServerSideEncryption"], put["SSEKMSKeyId"]) == ("aws:kms", key["arn"])
        got = s3.get_object(Bucket=bucket, Key=f"kms{i}")
        assert (got["ServerSideEncryption"], got["SSEKMSKeyId"], got["Body"].read()) == (
            "aws:kms", key["arn"], b"secret %d" % i)
    context = base64.b64encode(json.dumps({"purpose": "test"}).encode()).decode()
    put = s3.put_object(Bucket=bucket, Key="ctx", Body=b"c", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["id"],
                        SSEKMSEncryptionContext=context)
    assert s3.get_object(Bucket=bucket, Key="ctx")["Body"].read() == b"c"
    ranged = s3.put_object(Bucket=bucket, Key="big", Body=os.urandom(1) * 300_000, ServerSideEncryption="aws:kms",
                           SSEKMSKeyId=key["alias"])
    assert ranged["SSEKMSKeyId"] == key["arn"]
    part = s3.get_object(Bucket=bucket, Key="big", Range="bytes=70000-70009")
    assert part["ContentRange"] == "bytes 70000-70009/300000" and len(part["Body"].read()) == 10


def test_aws_kms_without_a_key_uses_the_accounts_aws_s3_key(s3: Any, bucket: str, openrek_server: str) -> None:
    first = s3.put_object(Bucket=bucket, Key="a", Body=b"a", ServerSideEncryption="aws:kms")["SSEKMSKeyId"]
    second = s3.put_object(Bucket=bucket, Key="b", Body=b"b", ServerSideEncryption="aws:kms")["SSEKMSKeyId"]
    assert first == second and ":key/" in first
    aliases = client("kms", openrek_server).list_aliases()["Aliases"]
    assert [a["TargetKeyId"] for a in aliases if a["AliasName"] == "alias/aws/s3"] == [first.rsplit("/", 1)[1]]


def test_bad_encryption_headers_get_s3s_errors(s3: Any, bucket: str, key: dict[str, str], unique: str,
                                               openrek_server: str) -> None:
    assert _error(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms",
                                        SSEKMSKeyId=f"alias/none-{unique}"))[:2] == ("KMS.NotFoundException", 400)
    code, status, message = _error(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x",
                                                         ServerSideEncryption="AES256", SSEKMSKeyId=key["id"]))
    assert (code, status) == ("InvalidArgument", 400) and "aws:kms" in message
    code, status, _ = _error(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms",
                                                   SSEKMSKeyId=key["id"], SSEKMSEncryptionContext="not base64!"))
    assert (code, status) == ("InvalidArgument", 400)
    raw = signed("PUT", f"{openrek_server}/{bucket}/k", service="s3", data=b"x",
                 headers={"x-amz-server-side-encryption": "rot13", "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    assert raw.status_code == 400 and b"<Code>InvalidArgument</Code>" in raw.content
    code, status, message = _error(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x",
                                                         SSECustomerAlgorithm="AES256", SSECustomerKey="k" * 32))
    assert (code, status) == ("NotImplemented", 501) and "SSE-C" in message
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    raw = signed("GET", f"{openrek_server}/{bucket}/k", service="s3",
                 headers={"x-amz-server-side-encryption": "AES256"})
    assert raw.status_code == 400 and b"<Code>InvalidArgument</Code>" in raw.content
    assert not s3.list_objects_v2(Bucket=bucket, Prefix="k2").get("Contents")


def test_a_disabled_key_stops_reads_and_writes(s3: Any, bucket: str, key: dict[str, str],
                                               openrek_server: str) -> None:
    kms = client("kms", openrek_server)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["id"])
    kms.disable_key(KeyId=key["id"])
    assert _error(lambda: s3.get_object(Bucket=bucket, Key="k"))[:2] == ("KMS.DisabledException", 400)
    assert _error(lambda: s3.put_object(Bucket=bucket, Key="k2", Body=b"x", ServerSideEncryption="aws:kms",
                                        SSEKMSKeyId=key["id"]))[:2] == ("KMS.DisabledException", 400)
    assert s3.head_object(Bucket=bucket, Key="k")["SSEKMSKeyId"] == key["arn"]  # metadata needs no key
    kms.enable_key(KeyId=key["id"])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_multipart_and_copy_keep_their_encryption(s3: Any, bucket: str, key: dict[str, str]) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mpu", ServerSideEncryption="aws:kms",
                                        SSEKMSKeyId=key["alias"])
    assert (upload["ServerSideEncryption"], upload["SSEKMSKeyId"]) == ("aws:kms", key["arn"])
    parts = []
    for number, body in ((1, b"a" * (5 * 1024 * 1024)), (2, b"b" * 10)):
        answer = s3.upload_part(Bucket=bucket, Key="mpu", UploadId=upload["UploadId"], PartNumber=number, Body=body)
        assert answer["SSEKMSKeyId"] == key["arn"]
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mpu", UploadId=upload["UploadId"],
                                        MultipartUpload={"Parts": parts})
    assert done["SSEKMSKeyId"] == key["arn"]
    assert s3.get_object(Bucket=bucket, Key="mpu", Range="bytes=5242878-5242881")["Body"].read() == b"aabb"
    copied = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "mpu"})
    assert copied["ServerSideEncryption"] == "AES256"  # a copy is encrypted as the copy request says
    copied = s3.copy_object(Bucket=bucket, Key="copy-kms", CopySource={"Bucket": bucket, "Key": "copy"},
                            ServerSideEncryption="aws:kms", SSEKMSKeyId=key["id"])
    assert copied["SSEKMSKeyId"] == key["arn"]
    assert s3.head_object(Bucket=bucket, Key="copy-kms")["ContentLength"] == 5 * 1024 * 1024 + 10


def test_a_user_needs_the_kms_permissions(openrek_server: str, s3: Any, bucket: str, key: dict[str, str],
                                          unique: str) -> None:
    iam = client("iam", openrek_server)
    name = f"sse-user-{unique}"
    iam.create_user(UserName=name)
    access = iam.create_access_key(UserName=name)["AccessKey"]
    iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    user = keyed_client("s3", openrek_server, access["AccessKeyId"], access["SecretAccessKey"])
    code, status, message = _error(lambda: user.put_object(Bucket=bucket, Key="u", Body=b"x",
                                                           ServerSideEncryption="aws:kms", SSEKMSKeyId=key["arn"]))
    assert (code, status) == ("AccessDenied", 403) and "kms:GenerateDataKey" in message
    s3.put_object(Bucket=bucket, Key="sealed", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["arn"])
    code, status, message = _error(lambda: user.get_object(Bucket=bucket, Key="sealed"))
    assert (code, status) == ("AccessDenied", 403) and "kms:Decrypt" in message
    iam.put_user_policy(UserName=name, PolicyName="kms", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                                                "Resource": key["arn"]}]}))
    user.put_object(Bucket=bucket, Key="u", Body=b"mine", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["arn"])
    assert user.get_object(Bucket=bucket, Key="u")["Body"].read() == b"mine"


def test_aws_s3_cp_with_sse_kms(openrek_server: str, s3: Any, bucket: str, key: dict[str, str],
                                tmp_path: Path) -> None:
    source = tmp_path / "photo.jpg"
    source.write_bytes(os.urandom(20_000))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_ACCESS_KEY_ID": ROOT_KEY, "AWS_SECRET_ACCESS_KEY": ROOT_SECRET, "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}

    def aws(*args: str) -> str:
        done = subprocess.run([str(AWS), "--endpoint-url", openrek_server, *args], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    aws("s3", "cp", str(source), f"s3://{bucket}/photo.jpg", "--sse", "aws:kms", "--sse-kms-key-id", key["alias"])
    head = json.loads(aws("s3api", "head-object", "--bucket", bucket, "--key", "photo.jpg"))
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key["arn"])
    aws("s3", "cp", f"s3://{bucket}/photo.jpg", str(tmp_path / "back.jpg"))
    assert (tmp_path / "back.jpg").read_bytes() == source.read_bytes()
