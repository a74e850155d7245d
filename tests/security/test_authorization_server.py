"""IAM users do only what their policies allow, on both Custom Labels and the S3 it reads and writes for them:
AWS's documented example — DescribeProjects alone cannot create a version; add rekognition:CreateProjectVersion
and it is still refused without s3:PutObject on the output bucket; with both (and s3:GetObject on the
manifest) it trains — and an explicit Deny beats any Allow."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.accounts import keyed_client, secured_server
from tests.support.datasets import wait_version
from tests.support.images import upload_classification_set

ROOT_KEY, ROOT_SECRET = "AKIAROOTAUTHZ0000001", "root-secret-for-authorization-tests"


def _client(service: str, endpoint: str, key: str = ROOT_KEY, secret: str = ROOT_SECRET) -> Any:
    return keyed_client(service, endpoint, key, secret)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with secured_server(tmp_path_factory.mktemp("authz") / "data", ROOT_KEY, ROOT_SECRET) as endpoint:
        yield endpoint


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _denied(call: Any) -> str:
    with pytest.raises(ClientError) as err:
        call()
    assert err.value.response["Error"]["Code"] == "AccessDeniedException", err.value.response
    return err.value.response["Error"]["Message"]


def test_a_user_does_only_what_its_policies_allow(secured: str) -> None:
    iam, s3 = _client("iam", secured), _client("s3", secured)
    s3.create_bucket(Bucket="authz-data")
    manifest = upload_classification_set(s3, "authz-data", "", ["red", "blue"], per_label=6, size=64)
    project = _client("rekognition", secured).create_project(ProjectName="authz")["ProjectArn"]
    iam.create_user(UserName="trainer")
    keys = iam.create_access_key(UserName="trainer")["AccessKey"]
    rek = _client("rekognition", secured, keys["AccessKeyId"], keys["SecretAccessKey"])
    describe = {"Effect": "Allow", "Action": "rekognition:DescribeProjects", "Resource": "*"}
    iam.put_user_policy(UserName="trainer", PolicyName="p", PolicyDocument=_policy(describe))
    assert rek.describe_projects()["ProjectDescriptions"]

    def create(name: str) -> Any:
        return rek.create_project_version(
            ProjectArn=project, VersionName=name, OutputConfig={"S3Bucket": "authz-data", "S3KeyPrefix": "out/"},
            TrainingData={"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "authz-data",
                                                                           "Name": manifest}}}]},
            TestingData={"AutoCreate": True})

    message = _denied(lambda: create("v1"))
    assert "is not authorized to perform: rekognition:CreateProjectVersion" in message
    assert "user/trainer" in message
    train = {"Effect": "Allow", "Action": "rekognition:CreateProjectVersion", "Resource": project}
    iam.put_user_policy(UserName="trainer", PolicyName="p", PolicyDocument=_policy(describe, train))
    assert "s3:GetObject" in _denied(lambda: create("v1"))
    read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::authz-data/*"}
    iam.put_user_policy(UserName="trainer", PolicyName="p", PolicyDocument=_policy(describe, train, read))
    assert "s3:PutObject on resource: arn:aws:s3:::authz-data/out/*" in _denied(lambda: create("v1"))
    write = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::authz-data/out/*"}
    iam.put_user_policy(UserName="trainer", PolicyName="p", PolicyDocument=_policy(describe, train, read, write))
    create("v1")
    versions = {"Effect": "Allow", "Action": "rekognition:DescribeProjectVersions", "Resource": project}
    iam.put_user_policy(UserName="trainer", PolicyName="more", PolicyDocument=_policy(versions))
    assert wait_version(rek, project, "v1", {"TRAINING_COMPLETED", "TRAINING_FAILED"})["Status"] == (
        "TRAINING_COMPLETED")

    # An explicit Deny beats every Allow, inline or managed.
    arn = iam.create_policy(PolicyName="no-training", PolicyDocument=_policy(
        {"Effect": "Deny", "Action": "rekognition:Create*", "Resource": "*"}))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="trainer", PolicyArn=arn)
    assert "explicit deny" in _denied(lambda: create("v2"))
    iam.detach_user_policy(UserName="trainer", PolicyArn=arn)
    # The root is never limited by its users' policies; the user cannot touch what it was not given.
    assert "rekognition:DeleteProject" in _denied(lambda: rek.delete_project(ProjectArn=project))
    assert "rekognition:CreateProject" in _denied(lambda: rek.create_project(ProjectName="mine"))


def test_s3_checks_each_operations_action_for_users(secured: str) -> None:
    iam, s3 = _client("iam", secured), _client("s3", secured)
    s3.create_bucket(Bucket="authz-s3")
    s3.put_object(Bucket="authz-s3", Key="public/a.txt", Body=b"readable")
    iam.create_user(UserName="reader")
    keys = iam.create_access_key(UserName="reader")["AccessKey"]
    user = _client("s3", secured, keys["AccessKeyId"], keys["SecretAccessKey"])
    iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=_policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::authz-s3/public/*"}))
    assert user.get_object(Bucket="authz-s3", Key="public/a.txt")["Body"].read() == b"readable"

    def denied(call: Any) -> str:
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "AccessDenied", err.value.response
        return err.value.response["Error"]["Message"]

    assert "s3:PutObject" in denied(lambda: user.put_object(Bucket="authz-s3", Key="public/b.txt", Body=b"x"))
    assert "s3:ListBucket" in denied(lambda: user.list_objects_v2(Bucket="authz-s3"))
    assert "s3:ListAllMyBuckets" in denied(lambda: user.list_buckets())
    assert "s3:GetObject" in denied(lambda: user.get_object(Bucket="authz-s3", Key="private.txt"))
    assert "s3:DeleteObject" in denied(lambda: user.delete_object(Bucket="authz-s3", Key="public/a.txt"))
    # Copying needs s3:GetObject on the source as well as s3:PutObject on the target.
    iam.put_user_policy(UserName="reader", PolicyName="write", PolicyDocument=_policy(
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::authz-s3/copies/*"}))
    user.copy_object(Bucket="authz-s3", Key="copies/a.txt", CopySource={"Bucket": "authz-s3", "Key": "public/a.txt"})
    s3.put_object(Bucket="authz-s3", Key="secret.txt", Body=b"no")
    assert "s3:GetObject" in denied(lambda: user.copy_object(
        Bucket="authz-s3", Key="copies/s.txt", CopySource={"Bucket": "authz-s3", "Key": "secret.txt"}))
    # Conditions see the request: a Deny on plain HTTP (aws:SecureTransport false) stops everything.
    iam.put_user_policy(UserName="reader", PolicyName="tls-only", PolicyDocument=_policy(
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}))
    assert "explicit deny" in denied(lambda: user.get_object(Bucket="authz-s3", Key="public/a.txt"))


def test_kms_keys_obey_their_key_policy_and_iam(secured: str) -> None:
    iam, kms = _client("iam", secured), _client("kms", secured)
    iam.create_user(UserName="keyuser")
    keys = iam.create_access_key(UserName="keyuser")["AccessKey"]
    user_arn = iam.get_user(UserName="keyuser")["User"]["Arn"]
    user = _client("kms", secured, keys["AccessKeyId"], keys["SecretAccessKey"])
    default = kms.create_key(Description="default key policy")["KeyMetadata"]
    own = kms.create_key(Description="only keyuser", Policy=_policy(
        {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "kms:*", "Resource": "*"}))["KeyMetadata"]

    message = _denied(lambda: user.encrypt(KeyId=default["KeyId"], Plaintext=b"x"))
    assert "kms:Encrypt" in message and default["Arn"] in message
    assert "kms:ListKeys" in _denied(lambda: user.list_keys())
    # A key policy that names the user lets it in without any IAM policy ...
    blob = user.encrypt(KeyId=own["KeyId"], Plaintext=b"mine")["CiphertextBlob"]
    assert user.decrypt(CiphertextBlob=blob)["Plaintext"] == b"mine"
    # ... and, naming neither the account nor the root, locks the root out.
    assert "kms:DescribeKey" in _denied(lambda: kms.describe_key(KeyId=own["KeyId"]))
    assert "kms:Decrypt" in _denied(lambda: kms.decrypt(CiphertextBlob=blob))
    # The default key policy hands the decision to IAM.
    iam.put_user_policy(UserName="keyuser", PolicyName="kms", PolicyDocument=_policy(
        {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": default["Arn"]}))
    blob = user.encrypt(KeyId=default["KeyId"], Plaintext=b"shared")["CiphertextBlob"]
    assert user.decrypt(CiphertextBlob=blob)["Plaintext"] == b"shared"
    assert "kms:GenerateDataKey" in _denied(lambda: user.generate_data_key(KeyId=default["KeyId"],
                                                                            KeySpec="AES_256"))
