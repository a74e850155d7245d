"""`KmsKeyId` on CreateProjectVersion, CopyProjectVersion and StartProjectVersion, through stock boto3 and a
real server: a key in any of its four forms is accepted and shown back as given; an unknown, disabled or
pending-deletion key is refused with InvalidParameterException saying how to fix it; a version whose key is
disabled later does not start until the key is enabled; and an IAM user needs the KMS actions on the key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.accounts import keyed_client, secured_server
from tests.support.clients import client
from tests.support.datasets import wait_version
from tests.support.images import upload_classification_set

ACCOUNT = "000000000000"
ROOT_KEY, ROOT_SECRET = "AKIAKEYIDROOT0000001", "root-secret-for-kms-key-id-tests"


def _assets(bucket: str, key: str) -> dict:
    return {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": key}}}]}


def _invalid(call: Any) -> str:
    with pytest.raises(ClientError) as err:
        call()
    error = err.value.response["Error"]
    assert error["Code"] == "InvalidParameterException", err.value.response
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return error["Message"]


@pytest.fixture
def kms(openrek_server: str) -> Any:
    return client("kms", openrek_server)


@pytest.fixture
def setup(rekognition: Any, s3: Any, unique: str) -> dict[str, str]:
    """A bucket with a tiny classification manifest and a project without datasets."""
    bucket = f"keyid-{unique}"
    s3.create_bucket(Bucket=bucket)
    manifest = upload_classification_set(s3, bucket, "set/", ["red", "blue"], per_label=6, size=64)
    project = rekognition.create_project(ProjectName=f"keyid-{unique}")["ProjectArn"]
    return {"bucket": bucket, "manifest": manifest, "project": project}


def _create(rekognition: Any, setup: dict[str, str], name: str, key_id: str | None) -> str:
    extra = {"KmsKeyId": key_id} if key_id is not None else {}
    return rekognition.create_project_version(
        ProjectArn=setup["project"], VersionName=name, OutputConfig={"S3Bucket": setup["bucket"],
                                                                     "S3KeyPrefix": f"out-{name}/"},
        TrainingData=_assets(setup["bucket"], setup["manifest"]), TestingData={"AutoCreate": True},
        **extra)["ProjectVersionArn"]


def test_every_key_form_is_accepted_and_shown_as_given(rekognition: Any, kms: Any, setup: dict[str, str],
                                                       unique: str) -> None:
    meta = kms.create_key(Description=f"models {unique}")["KeyMetadata"]
    alias = f"alias/models-{unique}"
    kms.create_alias(AliasName=alias, TargetKeyId=meta["KeyId"])
    forms = [meta["KeyId"], meta["Arn"], alias, f"arn:aws:kms:us-east-1:{ACCOUNT}:{alias}"]
    for i, form in enumerate(forms):
        _create(rekognition, setup, f"form{i}", form)
        version = rekognition.describe_project_versions(
            ProjectArn=setup["project"], VersionNames=[f"form{i}"])["ProjectVersionDescriptions"][0]
        assert version["KmsKeyId"] == form
    _create(rekognition, setup, "nokey", None)
    version = rekognition.describe_project_versions(
        ProjectArn=setup["project"], VersionNames=["nokey"])["ProjectVersionDescriptions"][0]
    assert "KmsKeyId" not in version


def test_unknown_disabled_and_pending_deletion_keys_are_refused(rekognition: Any, kms: Any,
                                                                setup: dict[str, str], unique: str) -> None:
    missing = "0123abcd-0000-4000-8000-000000000000"
    for key_id in (missing, f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{missing}", f"alias/none-{unique}",
                   f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/none-{unique}",
                   f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{missing}", "arn:aws:s3:::not-a-key"):
        message = _invalid(lambda k=key_id: _create(rekognition, setup, "bad", k))
        assert key_id in message and "does not exist" in message
        assert "aws kms list-keys" in message
    disabled = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=disabled["KeyId"])
    message = _invalid(lambda: _create(rekognition, setup, "bad", disabled["Arn"]))
    assert "is disabled" in message and "EnableKey" in message and disabled["KeyId"] in message
    doomed = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName=f"alias/doomed-{unique}", TargetKeyId=doomed["KeyId"])
    kms.schedule_key_deletion(KeyId=doomed["KeyId"], PendingWindowInDays=7)
    message = _invalid(lambda: _create(rekognition, setup, "bad", f"alias/doomed-{unique}"))
    assert "pending deletion" in message and "CancelKeyDeletion" in message and "EnableKey" in message
    assert f"alias/doomed-{unique}" in message and doomed["Arn"] in message
    # Nothing was created by the refused calls.
    assert rekognition.describe_project_versions(ProjectArn=setup["project"])["ProjectVersionDescriptions"] == []


def test_a_disabled_key_stops_new_starts_and_copies(rekognition: Any, kms: Any, setup: dict[str, str],
                                                    unique: str) -> None:
    key = kms.create_key()["KeyMetadata"]
    arn = _create(rekognition, setup, "v1", key["KeyId"])
    trained = wait_version(rekognition, setup["project"], "v1", {"TRAINING_COMPLETED", "TRAINING_FAILED"})
    assert trained["Status"] == "TRAINING_COMPLETED", trained["StatusMessage"]
    kms.disable_key(KeyId=key["KeyId"])
    message = _invalid(lambda: rekognition.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1))
    assert "v1" in message and "disabled" in message and "EnableKey" in message
    assert wait_version(rekognition, setup["project"], "v1", {"TRAINING_COMPLETED"})["Status"] == (
        "TRAINING_COMPLETED")

    # CopyProjectVersion checks its own KmsKeyId the same way.
    target = rekognition.create_project(ProjectName=f"keyid-copy-{unique}")["ProjectArn"]

    def copy(name: str, key_id: str) -> str:
        return rekognition.copy_project_version(
            SourceProjectArn=setup["project"], SourceProjectVersionArn=arn, DestinationProjectArn=target,
            VersionName=name, OutputConfig={"S3Bucket": setup["bucket"], "S3KeyPrefix": "copies/"},
            KmsKeyId=key_id)["ProjectVersionArn"]

    assert "is disabled" in _invalid(lambda: copy("c1", key["Arn"]))
    assert "does not exist" in _invalid(lambda: copy("c1", f"alias/none-{unique}"))
    other = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName=f"alias/copies-{unique}", TargetKeyId=other["KeyId"])
    # The source model is sealed under the disabled key: it cannot be read to be copied.
    message = _invalid(lambda: copy("c1", f"alias/copies-{unique}"))
    assert "disabled" in message and key["Arn"] in message and "copied" in message

    kms.enable_key(KeyId=key["KeyId"])
    copy("c1", f"alias/copies-{unique}")
    copied = wait_version(rekognition, target, "c1", {"COPYING_COMPLETED", "COPYING_FAILED"})
    assert (copied["Status"], copied["KmsKeyId"]) == ("COPYING_COMPLETED", f"alias/copies-{unique}")
    assert rekognition.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)["Status"] == "STARTING"
    assert wait_version(rekognition, setup["project"], "v1", {"RUNNING", "FAILED"})["Status"] == "RUNNING"
    rekognition.stop_project_version(ProjectVersionArn=arn)
    wait_version(rekognition, setup["project"], "v1", {"STOPPED"})
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    message = _invalid(lambda: rekognition.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1))
    assert "pending deletion" in message and "CancelKeyDeletion" in message


def _secure_client(service: str, endpoint: str, key: str = ROOT_KEY, secret: str = ROOT_SECRET) -> Any:
    return keyed_client(service, endpoint, key, secret)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with secured_server(tmp_path_factory.mktemp("keyid-auth") / "data", ROOT_KEY, ROOT_SECRET) as endpoint:
        yield endpoint


def test_an_iam_user_needs_the_kms_actions_on_the_key(secured: str) -> None:
    iam, s3, kms = (_secure_client(s, secured) for s in ("iam", "s3", "kms"))
    s3.create_bucket(Bucket="keyid-authz")
    manifest = upload_classification_set(s3, "keyid-authz", "", ["red", "blue"], per_label=6, size=64)
    project = _secure_client("rekognition", secured).create_project(ProjectName="keyid-authz")["ProjectArn"]
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/keyid-authz", TargetKeyId=key["KeyId"])
    iam.create_user(UserName="trainer")
    keys = iam.create_access_key(UserName="trainer")["AccessKey"]
    rek = _secure_client("rekognition", secured, keys["AccessKeyId"], keys["SecretAccessKey"])
    base = [{"Effect": "Allow", "Action": "rekognition:CreateProjectVersion", "Resource": project},
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::keyid-authz/*"}]

    def allow(*kms_actions: str) -> None:
        statements = base + ([{"Effect": "Allow", "Action": list(kms_actions), "Resource": key["Arn"]}]
                             if kms_actions else [])
        iam.put_user_policy(UserName="trainer", PolicyName="p",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))

    def create(name: str) -> Any:
        return rek.create_project_version(
            ProjectArn=project, VersionName=name, OutputConfig={"S3Bucket": "keyid-authz", "S3KeyPrefix": "out/"},
            TrainingData=_assets("keyid-authz", manifest), TestingData={"AutoCreate": True},
            KmsKeyId="alias/keyid-authz")

    def denied(name: str) -> str:
        with pytest.raises(ClientError) as err:
            create(name)
        assert err.value.response["Error"]["Code"] == "AccessDeniedException", err.value.response
        return err.value.response["Error"]["Message"]

    allow()
    message = denied("v1")
    assert "user/trainer" in message and "kms:CreateGrant" in message and key["Arn"] in message
    allow("kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt")
    message = denied("v1")
    assert "is not authorized to perform: kms:GenerateDataKey" in message and key["Arn"] in message
    allow("kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey")
    assert create("v1")["ProjectVersionArn"]
