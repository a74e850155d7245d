"""KMS on the server's one endpoint (`X-Amz-Target: TrentService.<Op>`), through stock boto3 and the
stock `aws kms` CLI: keys in all four key-id forms, aliases, encryption with contexts, data keys, key
states, grants, AWS's error codes and lines; and, with authentication on, accounts that cannot see each
other's keys."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.support.clients import client, signed
from tests.support.server import ServerProcess

AWS = str(Path(sys.executable).with_name("aws"))
ROOT_KEY, ROOT_SECRET = "AKIAKMSROOTKEY000001", "kms-root-secret-for-tests/0123456789abcdefgh"
ACCOUNT = "000000000000"


@pytest.fixture
def kms(openrek_server: str) -> Any:
    return client("kms", openrek_server)


def _error(call: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as err:
        call()
    response = err.value.response
    error, status = response["Error"], response["ResponseMetadata"]["HTTPStatusCode"]
    return error["Code"], error["Message"], status


def _code(call: Any) -> str:
    return _error(call)[0]


def _raw(endpoint: str, target: str, body: bytes) -> requests.Response:
    headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"}
    return signed("POST", endpoint + "/", service="kms", data=body, headers=headers, timeout=10)


def test_create_key_and_describe_it_by_id_arn_alias_and_alias_arn(kms: Any, unique: str) -> None:
    created = kms.create_key(Description=f"wire {unique}", Tags=[{"TagKey": "team", "TagValue": "vision"}])
    meta = created["KeyMetadata"]
    key_id, arn = meta["KeyId"], meta["Arn"]
    assert arn == f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key_id}"
    assert (meta["KeyState"], meta["Enabled"], meta["KeySpec"], meta["KeyUsage"], meta["Description"]) == (
        "Enabled", True, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", f"wire {unique}")
    assert meta["AWSAccountId"] == ACCOUNT and meta["CreationDate"].tzinfo is not None
    alias = f"alias/wire-{unique}"
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    for form in (key_id, arn, alias, f"arn:aws:kms:us-east-1:{ACCOUNT}:{alias}"):
        assert kms.describe_key(KeyId=form)["KeyMetadata"]["Arn"] == arn, form
    listed = [k for page in kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 2})
              for k in page["Keys"]]
    assert {"KeyId": key_id, "KeyArn": arn} in listed
    policy = kms.get_key_policy(KeyId=alias, PolicyName="default")
    assert policy["PolicyName"] == "default"
    statement = json.loads(policy["Policy"])["Statement"][0]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert statement["Action"] == "kms:*"
    own = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
         "Resource": "*"}]})
    with_policy = kms.create_key(Policy=own)["KeyMetadata"]["KeyId"]
    assert kms.get_key_policy(KeyId=with_policy)["Policy"] == own

    # Not found, in each form; another region's client does not see the key either.
    missing = "00000000-0000-4000-8000-000000000000"
    assert _error(lambda: kms.describe_key(KeyId=missing)) == (
        "NotFoundException", f"Key 'arn:aws:kms:us-east-1:{ACCOUNT}:key/{missing}' does not exist", 400)
    assert _code(lambda: kms.describe_key(KeyId="alias/none-such")) == "NotFoundException"
    assert _code(lambda: kms.describe_key(KeyId="arn:aws:s3:::bucket")) == "InvalidArnException"
    west = client("kms", kms.meta.endpoint_url, region="us-west-2")
    assert _code(lambda: west.describe_key(KeyId=key_id)) == "NotFoundException"
    assert _code(lambda: west.describe_key(KeyId=alias)) == "NotFoundException"


def test_aliases_list_delete_and_refuse_duplicates(kms: Any, unique: str) -> None:
    first = kms.create_key()["KeyMetadata"]["KeyId"]
    second = kms.create_key()["KeyMetadata"]["KeyId"]
    names = [f"alias/a-{unique}", f"alias/b-{unique}"]
    kms.create_alias(AliasName=names[0], TargetKeyId=first)
    kms.create_alias(AliasName=names[1], TargetKeyId=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{first}")
    mine = kms.list_aliases(KeyId=first)["Aliases"]
    assert sorted(a["AliasName"] for a in mine) == names
    assert {a["TargetKeyId"] for a in mine} == {first}
    assert mine[0]["AliasArn"] == f"arn:aws:kms:us-east-1:{ACCOUNT}:{mine[0]['AliasName']}"
    assert kms.list_aliases(KeyId=second)["Aliases"] == []
    pages = kms.get_paginator("list_aliases").paginate()
    everything = [a["AliasName"] for page in pages for a in page["Aliases"]]
    assert set(names) <= set(everything)
    assert _code(lambda: kms.create_alias(AliasName=names[0], TargetKeyId=second)) == "AlreadyExistsException"
    assert _code(lambda: kms.create_alias(AliasName=f"alias/c-{unique}", TargetKeyId=names[0])) == (
        "ValidationException")
    assert _code(lambda: kms.create_alias(AliasName=f"alias/aws/{unique}", TargetKeyId=first)) == (
        "NotAuthorizedException")
    # The model's pattern is enforced on the wire with AWS's message.
    code, message, status = _error(lambda: kms.create_alias(AliasName="alias/bad name", TargetKeyId=first))
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("1 validation error detected: Value 'alias/bad name' at 'aliasName' failed to "
                              "satisfy constraint: Member must satisfy regular expression pattern:")
    kms.delete_alias(AliasName=names[0])
    assert _code(lambda: kms.describe_key(KeyId=names[0])) == "NotFoundException"
    assert _code(lambda: kms.delete_alias(AliasName=names[0])) == "NotFoundException"
    assert kms.describe_key(KeyId=names[1])["KeyMetadata"]["KeyId"] == first


def test_encrypt_decrypt_round_trip_binds_the_encryption_context(kms: Any) -> None:
    key = kms.create_key()["KeyMetadata"]
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    secret = os.urandom(300) + b"\x00\xff"
    context = {"purpose": "wire-test", "tenant": "ü-42"}
    sealed = kms.encrypt(KeyId=key["KeyId"], Plaintext=secret, EncryptionContext=context)
    assert sealed["KeyId"] == key["Arn"] and sealed["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = sealed["CiphertextBlob"]
    assert isinstance(blob, bytes) and secret not in blob
    opened = kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)
    assert (opened["Plaintext"], opened["KeyId"]) == (secret, key["Arn"])
    named = kms.decrypt(CiphertextBlob=blob, EncryptionContext=context, KeyId=key["Arn"])
    assert named["Plaintext"] == secret
    for wrong in ({"purpose": "other", "tenant": "ü-42"}, {"purpose": "wire-test"}, {}):
        assert _code(lambda wrong=wrong: kms.decrypt(CiphertextBlob=blob, EncryptionContext=wrong)) == (
            "InvalidCiphertextException"), wrong
    assert _code(lambda: kms.decrypt(CiphertextBlob=blob)) == "InvalidCiphertextException"
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    assert _code(lambda: kms.decrypt(CiphertextBlob=tampered, EncryptionContext=context)) == (
        "InvalidCiphertextException")
    assert _code(lambda: kms.decrypt(CiphertextBlob=blob, EncryptionContext=context, KeyId=other)) == (
        "IncorrectKeyException")
    # Blobs travel base64 in the JSON body, as botocore sends them.
    raw = _raw(kms.meta.endpoint_url, "TrentService.Encrypt", json.dumps(
        {"KeyId": key["KeyId"], "Plaintext": base64.b64encode(b"raw bytes").decode()}).encode())
    assert raw.status_code == 200 and raw.headers["Content-Type"] == "application/x-amz-json-1.1"
    raw_blob = base64.b64decode(raw.json()["CiphertextBlob"])
    assert kms.decrypt(CiphertextBlob=raw_blob)["Plaintext"] == b"raw bytes"
    not_base64 = _raw(kms.meta.endpoint_url, "TrentService.Decrypt", b'{"CiphertextBlob": "***"}')
    assert (not_base64.status_code, not_base64.json()["__type"]) == (400, "SerializationException")
    too_big = kms.meta.endpoint_url
    answer = _raw(too_big, "TrentService.Encrypt", json.dumps(
        {"KeyId": key["KeyId"], "Plaintext": base64.b64encode(b"x" * 4097).decode()}).encode())
    assert answer.json()["__type"] == "ValidationException" and "'plaintext'" in answer.json()["Message"]


def test_generate_data_keys(kms: Any) -> None:
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext={"file": "a.bin"})
    assert len(data_key["Plaintext"]) == 32
    assert kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"],
                       EncryptionContext={"file": "a.bin"})["Plaintext"] == data_key["Plaintext"]
    assert len(kms.generate_data_key(KeyId=key_id, NumberOfBytes=64)["Plaintext"]) == 64
    assert len(kms.generate_data_key(KeyId=key_id, KeySpec="AES_128")["Plaintext"]) == 16
    blind = kms.generate_data_key_without_plaintext(KeyId=key_id, KeySpec="AES_256")
    assert "Plaintext" not in blind and blind["KeyId"].endswith(key_id)
    assert len(kms.decrypt(CiphertextBlob=blind["CiphertextBlob"])["Plaintext"]) == 32
    assert _code(lambda: kms.generate_data_key(KeyId=key_id)) == "ValidationException"
    assert _code(lambda: kms.generate_data_key(KeyId=key_id, NumberOfBytes=2000)) == "ValidationException"


def test_disable_enable_and_scheduled_deletion(kms: Any) -> None:
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"before")["CiphertextBlob"]
    kms.disable_key(KeyId=key_id)
    described = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert (described["KeyState"], described["Enabled"]) == ("Disabled", False)
    code, message, _ = _error(lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x"))
    assert code == "DisabledException" and key_id in message
    assert _code(lambda: kms.decrypt(CiphertextBlob=blob)) == "DisabledException"
    assert _code(lambda: kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")) == "DisabledException"
    kms.enable_key(KeyId=key_id)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before"

    scheduled = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert (scheduled["KeyState"], scheduled["PendingWindowInDays"]) == ("PendingDeletion", 7)
    assert scheduled["KeyId"].endswith(key_id) and scheduled["DeletionDate"].tzinfo is not None
    pending = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert pending["KeyState"] == "PendingDeletion" and pending["PendingDeletionWindowInDays"] == 7
    assert _code(lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x")) == "KMSInvalidStateException"
    assert _code(lambda: kms.enable_key(KeyId=key_id)) == "KMSInvalidStateException"
    assert _code(lambda: kms.schedule_key_deletion(KeyId=key_id)) == "KMSInvalidStateException"
    assert kms.cancel_key_deletion(KeyId=key_id)["KeyId"].endswith(key_id)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"  # as AWS: enable it again
    assert _code(lambda: kms.cancel_key_deletion(KeyId=key_id)) == "KMSInvalidStateException"
    kms.enable_key(KeyId=key_id)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before"
    too_short = kms.schedule_key_deletion
    assert _code(lambda: too_short(KeyId=key_id, PendingWindowInDays=3)) == "ValidationException"
    code, message, _ = _error(lambda: kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=400))
    assert (code, message) == ("ValidationException", "1 validation error detected: Value '400' at "
                               "'pendingWindowInDays' failed to satisfy constraint: Member must have value "
                               "less than or equal to 365")


def test_grants_create_list_use_retire_and_revoke(kms: Any) -> None:
    key = kms.create_key()["KeyMetadata"]
    grantee = f"arn:aws:iam::{ACCOUNT}:role/reader"
    made = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee, Operations=["Decrypt", "Encrypt"],
                            RetiringPrincipal=f"arn:aws:iam::{ACCOUNT}:root", Name="reader-grant",
                            Constraints={"EncryptionContextSubset": {"app": "wire"}})
    grant_id, token = made["GrantId"], made["GrantToken"]
    again = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee, Operations=["Encrypt", "Decrypt"],
                             RetiringPrincipal=f"arn:aws:iam::{ACCOUNT}:root", Name="reader-grant",
                             Constraints={"EncryptionContextSubset": {"app": "wire"}})
    assert again["GrantId"] == grant_id  # a named grant retried with the same parameters is the same grant
    listed = kms.list_grants(KeyId=key["Arn"])["Grants"]
    assert len(listed) == 1
    entry = listed[0]
    assert (entry["GrantId"], entry["GranteePrincipal"], entry["Operations"], entry["Name"]) == (
        grant_id, grantee, ["Decrypt", "Encrypt"], "reader-grant")
    assert entry["Constraints"] == {"EncryptionContextSubset": {"app": "wire"}}
    assert entry["IssuingAccount"] == f"arn:aws:iam::{ACCOUNT}:root" and entry["KeyId"] == key["Arn"]
    # A fresh grant's token may be passed at once.
    assert kms.encrypt(KeyId=key["KeyId"], Plaintext=b"g", GrantTokens=[token])["KeyId"] == key["Arn"]
    assert _code(lambda: kms.encrypt(KeyId=key["KeyId"], Plaintext=b"g", GrantTokens=["forged"])) == (
        "InvalidGrantTokenException")
    second = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee, Operations=["GenerateDataKey"])
    assert kms.list_grants(KeyId=key["KeyId"], GrantId=second["GrantId"])["Grants"][0]["Operations"] == [
        "GenerateDataKey"]
    kms.retire_grant(GrantToken=token)
    kms.revoke_grant(KeyId=key["KeyId"], GrantId=second["GrantId"])
    assert kms.list_grants(KeyId=key["KeyId"])["Grants"] == []
    gone = second["GrantId"]
    assert _code(lambda: kms.revoke_grant(KeyId=key["KeyId"], GrantId=gone)) == "NotFoundException"
    assert _code(lambda: kms.revoke_grant(KeyId=key["KeyId"], GrantId="nope")) == "InvalidGrantIdException"
    assert _code(lambda: kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee,
                                          Operations=["Sign"])) == "ValidationException"


def test_unknown_unimplemented_and_unsupported(kms: Any, openrek_server: str) -> None:
    unknown = _raw(openrek_server, "TrentService.MakeCoffee", b"{}")
    assert (unknown.status_code, unknown.json()["__type"]) == (400, "UnknownOperationException")
    assert "KMS has no operation named 'MakeCoffee'" in unknown.json()["Message"]
    code, message, status = _error(lambda: kms.list_resource_tags(KeyId="alias/x"))
    assert (code, status) == ("NotImplementedException", 400)
    assert "ListResourceTags" in message and "Encrypt" in message
    code, message, _ = _error(lambda: kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY"))
    assert code == "UnsupportedOperationException" and "RSA_2048" in message
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    code, message, _ = _error(lambda: kms.decrypt(CiphertextBlob=blob, Recipient={
        "KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": b"doc"}))
    assert code == "UnsupportedOperationException" and "Recipient" in message
    wrong_type = _raw(openrek_server, "TrentService.DescribeKey", b'{"KeyId": 5}')
    assert wrong_type.json()["__type"] == "SerializationException"
    missing = _raw(openrek_server, "TrentService.DescribeKey", b"{}")
    assert missing.json() | {"Logref": None} == {
        "__type": "ValidationException", "Code": "ValidationException", "Logref": None,
        "Message": "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: "
                   "Member must not be null"}
    assert missing.headers["x-amzn-RequestId"] == missing.json()["Logref"]


def _aws(endpoint: str, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
           "AWS_SECRET_ACCESS_KEY": "secret", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": str(home / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(home / "none")}
    return subprocess.run([AWS, "--endpoint-url", endpoint, "kms", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_stock_aws_cli_creates_aliases_and_encrypts(openrek_server: str, tmp_path: Path, unique: str) -> None:
    created = _aws(openrek_server, "create-key", "--description", "from the aws cli", home=tmp_path)
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["KeyMetadata"]
    assert key["KeyState"] == "Enabled" and key["Description"] == "from the aws cli"
    alias = f"alias/cli-{unique}"
    aliased = _aws(openrek_server, "create-alias", "--alias-name", alias, "--target-key-id", key["KeyId"],
                   home=tmp_path)
    assert (aliased.returncode, aliased.stdout, aliased.stderr) == (0, "", "")
    plain = tmp_path / "secret.bin"
    plain.write_bytes(b"\x00binary \xff secret\n")
    sealed = _aws(openrek_server, "encrypt", "--plaintext", f"fileb://{plain}", "--key-id", alias,
                  "--encryption-context", "stage=test", home=tmp_path)
    assert sealed.returncode == 0, sealed.stderr
    out = json.loads(sealed.stdout)
    assert out["KeyId"] == key["Arn"] and out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = tmp_path / "secret.enc"
    blob.write_bytes(base64.b64decode(out["CiphertextBlob"]))  # the CLI prints blobs base64
    opened = _aws(openrek_server, "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--encryption-context",
                  "stage=test", "--query", "Plaintext", "--output", "text", home=tmp_path)
    assert opened.returncode == 0, opened.stderr
    assert base64.b64decode(opened.stdout.strip()) == plain.read_bytes()

    # Bad calls: AWS's error line and exit code 255 (a service error), or 2 for a usage error (CLI v1).
    wrong = _aws(openrek_server, "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--encryption-context",
                 "stage=prod", home=tmp_path)
    assert wrong.returncode == 255 and wrong.stdout == ""
    assert wrong.stderr.strip().splitlines()[-1].startswith(
        "An error occurred (InvalidCiphertextException) when calling the Decrypt operation: "
        "The ciphertext is invalid")
    missing = _aws(openrek_server, "describe-key", "--key-id", f"alias/none-{unique}", home=tmp_path)
    assert missing.returncode == 255
    assert missing.stderr.strip() == (
        "An error occurred (NotFoundException) when calling the DescribeKey operation: "
        f"Alias arn:aws:kms:us-east-1:{ACCOUNT}:alias/none-{unique} is not found.")
    duplicate = _aws(openrek_server, "create-alias", "--alias-name", alias, "--target-key-id", key["KeyId"],
                     home=tmp_path)
    assert duplicate.returncode == 255
    assert duplicate.stderr.strip() == (
        "An error occurred (AlreadyExistsException) when calling the CreateAlias operation: "
        f"An alias with the name arn:aws:kms:us-east-1:{ACCOUNT}:{alias} already exists")
    usage = _aws(openrek_server, "encrypt", "--key-id", alias, home=tmp_path)
    assert usage.returncode == 2 and "the following arguments are required: --plaintext" in usage.stderr


# -- with authentication on --------------------------------------------------------------------------
def _signed_client(endpoint: str, key: str, secret: str) -> Any:
    return boto3.client("kms", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = ServerProcess(tmp_path_factory.mktemp("kms-auth") / "data",
                           env={"OPENREK_ROOT_ACCESS_KEY_ID": ROOT_KEY, "OPENREK_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET})
    with server:
        yield server.endpoint


def test_with_auth_on_accounts_never_see_each_others_keys(secured: str) -> None:
    body = b'{"Name": "kms-team"}'
    signed = AWSRequest(method="POST", url=f"{secured}/_openrek/accounts", data=body,
                        headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "kms", "us-east-1").add_auth(signed)
    team = requests.post(f"{secured}/_openrek/accounts", data=body, headers=dict(signed.headers),
                         timeout=10).json()
    root = _signed_client(secured, ROOT_KEY, ROOT_SECRET)
    theirs = _signed_client(secured, team["AccessKeyId"], team["SecretAccessKey"])
    assert team["AccountId"] != ACCOUNT

    mine = root.create_key(Description="root's")["KeyMetadata"]
    assert mine["AWSAccountId"] == ACCOUNT
    root.create_alias(AliasName="alias/shared-name", TargetKeyId=mine["KeyId"])
    their_key = theirs.create_key(Description="team's")["KeyMetadata"]
    assert their_key["AWSAccountId"] == team["AccountId"]
    assert their_key["Arn"] == f"arn:aws:kms:us-east-1:{team['AccountId']}:key/{their_key['KeyId']}"
    # The same alias name in another account: a namespace of its own.
    theirs.create_alias(AliasName="alias/shared-name", TargetKeyId=their_key["KeyId"])

    assert theirs.describe_key(KeyId="alias/shared-name")["KeyMetadata"]["KeyId"] == their_key["KeyId"]
    assert root.describe_key(KeyId="alias/shared-name")["KeyMetadata"]["KeyId"] == mine["KeyId"]
    assert [k["KeyId"] for k in theirs.list_keys()["Keys"]] == [their_key["KeyId"]]
    assert their_key["KeyId"] not in [k["KeyId"] for k in root.list_keys()["Keys"]]
    assert [a["AliasName"] for a in theirs.list_aliases()["Aliases"]] == ["alias/shared-name"]
    for form in (mine["KeyId"], mine["Arn"], f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/shared-name"):
        assert _code(lambda form=form: theirs.describe_key(KeyId=form)) == "NotFoundException", form
        assert _code(lambda form=form: theirs.encrypt(KeyId=form, Plaintext=b"x")) == (
            "NotFoundException"), form
        assert _code(lambda form=form: theirs.disable_key(KeyId=form)) == "NotFoundException", form
        assert _code(lambda form=form: theirs.schedule_key_deletion(KeyId=form)) == "NotFoundException", form
    blob = root.encrypt(KeyId=mine["KeyId"], Plaintext=b"root only")["CiphertextBlob"]
    assert _code(lambda: theirs.decrypt(CiphertextBlob=blob)) == "InvalidCiphertextException"
    assert root.decrypt(CiphertextBlob=blob)["Plaintext"] == b"root only"
    assert _code(lambda: theirs.create_grant(KeyId=mine["Arn"], Operations=["Decrypt"],
                                             GranteePrincipal="arn:aws:iam::111122223333:root")) == (
        "NotFoundException")
    assert root.describe_key(KeyId=mine["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"

    # KMS requests are authenticated like every other: unsigned and forged ones are refused.
    unsigned = requests.post(secured, data=b"{}", timeout=10, headers={
        "X-Amz-Target": "TrentService.ListKeys", "Content-Type": "application/x-amz-json-1.1"})
    assert unsigned.json()["__type"] == "MissingAuthenticationTokenException"
    forged = _signed_client(secured, team["AccessKeyId"], "wrong-secret")
    assert _error(lambda: forged.list_keys())[::2] == ("InvalidSignatureException", 403)


def test_keys_and_ciphertexts_survive_a_restart(fresh_server: ServerProcess) -> None:
    fresh_server.start()
    kms = client("kms", fresh_server.endpoint)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/kept", TargetKeyId=key_id)
    blob = kms.encrypt(KeyId="alias/kept", Plaintext=b"kept", EncryptionContext={"k": "v"})["CiphertextBlob"]
    assert fresh_server.stop() == 0
    master = fresh_server.data_dir / "master.key"
    assert master.stat().st_mode & 0o777 == 0o600
    assert b"kept" not in master.read_bytes()
    fresh_server.start()
    kms = client("kms", fresh_server.endpoint)
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "v"})["Plaintext"] == b"kept"
    assert kms.describe_key(KeyId="alias/kept")["KeyMetadata"]["KeyId"] == key_id


def test_a_malformed_master_key_stops_the_server_with_one_line(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={"OPENREK_MASTER_KEY": "not-base64-of-32-bytes"})
    with pytest.raises(RuntimeError):
        server.start(timeout=30)
    assert server.proc is not None and server.proc.wait(timeout=10) == 2
    log = server.log_path.read_text().strip().splitlines()
    assert log[-1].startswith("openrek server: error: OPENREK_MASTER_KEY must hold 32 random bytes in base64")
    assert "Traceback" not in server.log_path.read_text()
