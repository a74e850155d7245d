"""IAM and STS on openrek's one endpoint (query protocol), with authentication on: stock boto3 and the stock
aws CLI create users, keys and policies in the caller's account; the new keys authenticate (inactive ones
do not); errors carry IAM's codes and statuses; users may do only what their own policies allow."""

from __future__ import annotations

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

from tests.support.server import ServerProcess

ROOT_KEY, ROOT_SECRET = "AKIAROOTIAMTEST00001", "root-secret-for-iam-tests/0123456789abcdef"
AWS = str(Path(sys.executable).with_name("aws"))
ALLOW_LIST_USERS = {"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}]}


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = ServerProcess(tmp_path_factory.mktemp("iam") / "data",
                           env={"OPENREK_ROOT_ACCESS_KEY_ID": ROOT_KEY, "OPENREK_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET})
    with server:
        yield server.endpoint


def _client(service: str, endpoint: str, key: str = ROOT_KEY, secret: str = ROOT_SECRET) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))


def _error(call: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as err:
        call()
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def _aws(endpoint: str, home: Path, *args: str, key: str = ROOT_KEY, secret: str = ROOT_SECRET,
         ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"HOME": str(home), "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(home / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "none")}
    return subprocess.run([AWS, "--endpoint-url", endpoint, *args], capture_output=True, text=True, env=env,
                          timeout=60, cwd=home)


def test_sts_get_caller_identity_for_the_root_and_a_user(endpoint: str) -> None:
    root = _client("sts", endpoint).get_caller_identity()
    assert (root["Account"], root["Arn"], root["UserId"]) == (
        "000000000000", "arn:aws:iam::000000000000:root", "000000000000")
    iam = _client("iam", endpoint)
    user = iam.create_user(UserName="sts-user")["User"]
    key = iam.create_access_key(UserName="sts-user")["AccessKey"]
    me = _client("sts", endpoint, key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    assert me["Arn"] == "arn:aws:iam::000000000000:user/sts-user" == user["Arn"]
    assert me["UserId"] == user["UserId"] and me["UserId"].startswith("AIDA") and me["Account"] == "000000000000"


def test_users_and_access_keys(endpoint: str) -> None:
    iam = _client("iam", endpoint)
    made = iam.create_user(UserName="alice", Path="/team/")["User"]
    assert made["Arn"] == "arn:aws:iam::000000000000:user/team/alice" and made["Path"] == "/team/"
    assert iam.get_user(UserName="alice")["User"] == made
    assert iam.get_user()["User"]["Arn"] == "arn:aws:iam::000000000000:root"
    assert _error(lambda: iam.create_user(UserName="alice"))[:2] == ("EntityAlreadyExists", 409)
    assert _error(lambda: iam.get_user(UserName="nobody")) == (
        "NoSuchEntity", 404, "The user with name nobody cannot be found.")
    code, status, message = _error(lambda: iam.create_user(UserName="bad name!"))
    assert (code, status) == ("ValidationError", 400) and "at 'userName' failed to satisfy constraint" in message
    names = [u["UserName"] for u in iam.list_users(PathPrefix="/team/")["Users"]]
    assert names == ["alice"]
    for name in ("pg-1", "pg-2", "pg-3"):
        iam.create_user(UserName=name, Path="/paged/")
    first = iam.list_users(PathPrefix="/paged/", MaxItems=2)
    assert [u["UserName"] for u in first["Users"]] == ["pg-1", "pg-2"] and first["IsTruncated"]
    rest = iam.list_users(PathPrefix="/paged/", Marker=first["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == ["pg-3"] and not rest["IsTruncated"]
    everyone = [u["UserName"] for page in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2})
                for u in page["Users"]]
    assert {"alice", "pg-1", "pg-2", "pg-3"} <= set(everyone) and len(everyone) == len(set(everyone))

    first_key = iam.create_access_key(UserName="alice")["AccessKey"]
    second_key = iam.create_access_key(UserName="alice")["AccessKey"]
    assert first_key["Status"] == "Active" and len(first_key["SecretAccessKey"]) == 40
    assert _error(lambda: iam.create_access_key(UserName="alice"))[:2] == ("LimitExceeded", 409)
    listed = iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]
    assert {k["AccessKeyId"] for k in listed} == {first_key["AccessKeyId"], second_key["AccessKeyId"]}
    assert all("SecretAccessKey" not in k and k["UserName"] == "alice" for k in listed)
    assert ROOT_KEY in {k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]}  # the root's own
    as_alice = _client("sts", endpoint, first_key["AccessKeyId"], first_key["SecretAccessKey"])
    assert as_alice.get_caller_identity()["Arn"].endswith(":user/team/alice")
    iam.update_access_key(UserName="alice", AccessKeyId=first_key["AccessKeyId"], Status="Inactive")
    assert _error(as_alice.get_caller_identity)[:2] == ("InvalidClientTokenId", 403)
    rek = _client("rekognition", endpoint, first_key["AccessKeyId"], first_key["SecretAccessKey"])
    assert _error(rek.describe_projects)[:2] == ("UnrecognizedClientException", 400)
    iam.update_access_key(UserName="alice", AccessKeyId=first_key["AccessKeyId"], Status="Active")
    assert as_alice.get_caller_identity()["Account"] == "000000000000"
    assert _error(lambda: iam.update_access_key(UserName="alice", AccessKeyId=ROOT_KEY, Status="Inactive"))[:2] \
        == ("NoSuchEntity", 404)  # the root's key is not alice's
    assert _error(lambda: iam.delete_user(UserName="alice"))[:2] == ("DeleteConflict", 409)
    for key in (first_key, second_key):
        iam.delete_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"])
    assert _error(as_alice.get_caller_identity)[:2] == ("InvalidClientTokenId", 403)
    iam.delete_user(UserName="alice")
    assert _error(lambda: iam.get_user(UserName="alice"))[:2] == ("NoSuchEntity", 404)


def test_inline_and_managed_policies(endpoint: str) -> None:
    iam = _client("iam", endpoint)
    iam.create_user(UserName="bob")
    iam.put_user_policy(UserName="bob", PolicyName="list", PolicyDocument=json.dumps(ALLOW_LIST_USERS))
    got = iam.get_user_policy(UserName="bob", PolicyName="list")
    assert got["PolicyDocument"] == ALLOW_LIST_USERS  # URL-encoded on the wire, decoded by botocore
    assert iam.list_user_policies(UserName="bob")["PolicyNames"] == ["list"]
    code, status, message = _error(lambda: iam.put_user_policy(UserName="bob", PolicyName="bad",
                                                               PolicyDocument='{"Statement": "nope"}'))
    assert (code, status) == ("MalformedPolicyDocument", 400) and message
    assert _error(lambda: iam.put_user_policy(UserName="bob", PolicyName="p", PolicyDocument="{not json"))[0] == (
        "MalformedPolicyDocument")
    assert _error(lambda: iam.get_user_policy(UserName="bob", PolicyName="none"))[:2] == ("NoSuchEntity", 404)

    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]}
    policy = iam.create_policy(PolicyName="read-users", PolicyDocument=json.dumps(doc), Description="reads")["Policy"]
    assert policy["Arn"] == "arn:aws:iam::000000000000:policy/read-users" and policy["DefaultVersionId"] == "v1"
    assert policy["PolicyId"].startswith("ANPA") and policy["AttachmentCount"] == 0
    assert _error(lambda: iam.create_policy(PolicyName="read-users", PolicyDocument=json.dumps(doc)))[:2] == (
        "EntityAlreadyExists", 409)
    assert _error(lambda: iam.create_policy(PolicyName="broken", PolicyDocument="[]"))[0] == "MalformedPolicyDocument"
    iam.attach_user_policy(UserName="bob", PolicyArn=policy["Arn"])
    attached = iam.list_attached_user_policies(UserName="bob")["AttachedPolicies"]
    assert attached == [{"PolicyName": "read-users", "PolicyArn": policy["Arn"]}]
    assert iam.get_policy(PolicyArn=policy["Arn"])["Policy"]["AttachmentCount"] == 1
    assert [p["PolicyName"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]] == [
        "read-users"]
    missing = "arn:aws:iam::000000000000:policy/missing"
    assert _error(lambda: iam.attach_user_policy(UserName="bob", PolicyArn=missing))[:2] == ("NoSuchEntity", 404)
    assert _error(lambda: iam.delete_policy(PolicyArn=policy["Arn"]))[:2] == ("DeleteConflict", 409)
    assert _error(lambda: iam.delete_user(UserName="bob"))[:2] == ("DeleteConflict", 409)

    # bob may do what his policies allow (ListUsers inline, GetUser attached) and nothing else.
    key = iam.create_access_key(UserName="bob")["AccessKey"]
    as_bob = _client("iam", endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    assert "bob" in [u["UserName"] for u in as_bob.list_users()["Users"]]
    assert as_bob.get_user(UserName="bob")["User"]["UserName"] == "bob"
    code, status, message = _error(lambda: as_bob.create_user(UserName="mallory"))
    assert (code, status) == ("AccessDenied", 403)
    assert message.startswith("User: arn:aws:iam::000000000000:user/bob is not authorized to perform: iam:CreateUser")
    iam.detach_user_policy(UserName="bob", PolicyArn=policy["Arn"])
    assert _error(lambda: as_bob.get_user(UserName="bob"))[0] == "AccessDenied"
    assert iam.list_attached_user_policies(UserName="bob")["AttachedPolicies"] == []
    iam.delete_policy(PolicyArn=policy["Arn"])
    assert _error(lambda: iam.get_policy(PolicyArn=policy["Arn"]))[:2] == ("NoSuchEntity", 404)
    iam.delete_user_policy(UserName="bob", PolicyName="list")
    assert _error(as_bob.list_users)[0] == "AccessDenied"
    iam.delete_access_key(UserName="bob", AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName="bob")


def test_iam_is_scoped_to_the_callers_account(endpoint: str) -> None:
    iam = _client("iam", endpoint)
    iam.create_user(UserName="shared-name")
    other = json.loads(_openrek_account(endpoint, "iam-team-b"))
    theirs = _client("iam", endpoint, other["AccessKeyId"], other["SecretAccessKey"])
    assert "shared-name" not in [u["UserName"] for u in theirs.list_users()["Users"]]
    made = theirs.create_user(UserName="shared-name")["User"]  # the same name in another account
    assert made["Arn"] == f"arn:aws:iam::{other['AccountId']}:user/shared-name"
    ours = iam.create_policy(PolicyName="ours", PolicyDocument=json.dumps(ALLOW_LIST_USERS))["Policy"]
    assert _error(lambda: theirs.attach_user_policy(UserName="shared-name", PolicyArn=ours["Arn"]))[0] == (
        "NoSuchEntity")
    assert _client("sts", endpoint, other["AccessKeyId"], other["SecretAccessKey"]).get_caller_identity()[
        "Account"] == other["AccountId"]


def _openrek_account(endpoint: str, name: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_ACCESS_KEY_ID": ROOT_KEY, "AWS_SECRET_ACCESS_KEY": ROOT_SECRET, "AWS_DEFAULT_REGION": "us-east-1"}
    made = subprocess.run([sys.executable, "-m", "openrek.cli.main", "--endpoint-url", endpoint, "accounts",
                           "create", "--name", name], capture_output=True, text=True, env=env, timeout=60)
    assert made.returncode == 0, made.stderr
    return made.stdout


def test_query_protocol_edges(endpoint: str) -> None:
    def post(body: str, key: str = ROOT_KEY, secret: str = ROOT_SECRET, service: str = "iam") -> requests.Response:
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        signed = AWSRequest(method="POST", url=endpoint + "/", data=body.encode(), headers=headers)
        SigV4Auth(Credentials(key, secret), service, "us-east-1").add_auth(signed)
        return requests.post(endpoint + "/", data=body.encode(), headers=dict(signed.headers), timeout=10)

    unknown = post("Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=%7B%7D")
    assert unknown.status_code == 400 and "<Code>NotImplemented</Code>" in unknown.text
    assert "<Type>Sender</Type>" in unknown.text and "<RequestId>" in unknown.text
    bogus = post("Action=Frobnicate&Version=2010-05-08")
    assert bogus.status_code == 400 and "<Code>InvalidAction</Code>" in bogus.text
    not_int = post("Action=ListUsers&Version=2010-05-08&MaxItems=lots")
    assert not_int.status_code == 400 and "<Code>ValidationError</Code>" in not_int.text
    forged = post("Action=ListUsers&Version=2010-05-08", secret="wrong")
    assert forged.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in forged.text
    stranger = post("Action=GetCallerIdentity&Version=2011-06-15", key="AKIAUNKNOWN000000000", service="sts")
    assert stranger.status_code == 403 and "<Code>InvalidClientTokenId</Code>" in stranger.text
    ok = post("Action=GetCallerIdentity&Version=2011-06-15", service="sts")
    assert ok.status_code == 200 and ok.text.count("<GetCallerIdentityResult>") == 1
    assert 'xmlns="https://sts.amazonaws.com/doc/2011-06-15/"' in ok.text


def test_the_stock_aws_cli(endpoint: str, tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(json.dumps(ALLOW_LIST_USERS))
    made = _aws(endpoint, tmp_path, "iam", "create-user", "--user-name", "u")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["User"]["Arn"] == "arn:aws:iam::000000000000:user/u"
    keyed = _aws(endpoint, tmp_path, "iam", "create-access-key", "--user-name", "u")
    assert keyed.returncode == 0, keyed.stderr
    key = json.loads(keyed.stdout)["AccessKey"]
    put = _aws(endpoint, tmp_path, "iam", "put-user-policy", "--user-name", "u", "--policy-name", "p",
               "--policy-document", "file://p.json")
    assert put.returncode == 0 and put.stdout == "", put.stderr
    got = _aws(endpoint, tmp_path, "iam", "get-user-policy", "--user-name", "u", "--policy-name", "p")
    assert json.loads(got.stdout)["PolicyDocument"] == ALLOW_LIST_USERS
    me = _aws(endpoint, tmp_path, "sts", "get-caller-identity", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert me.returncode == 0, me.stderr
    assert json.loads(me.stdout)["Arn"] == "arn:aws:iam::000000000000:user/u"
    listed = _aws(endpoint, tmp_path, "iam", "list-users", "--query", "Users[].UserName", "--output", "text",
                  key=key["AccessKeyId"], secret=key["SecretAccessKey"])  # allowed by p
    assert listed.returncode == 0 and "u" in listed.stdout.split(), listed.stderr

    off = _aws(endpoint, tmp_path, "iam", "update-access-key", "--user-name", "u", "--access-key-id",
               key["AccessKeyId"], "--status", "Inactive")
    assert off.returncode == 0, off.stderr
    refused = _aws(endpoint, tmp_path, "sts", "get-caller-identity", key=key["AccessKeyId"],
                   secret=key["SecretAccessKey"])
    assert refused.returncode == 255 and "(InvalidClientTokenId)" in refused.stderr, refused.stderr
    refused = _aws(endpoint, tmp_path, "rekognition", "describe-projects", key=key["AccessKeyId"],
                   secret=key["SecretAccessKey"])
    assert refused.returncode == 255 and "(UnrecognizedClientException)" in refused.stderr, refused.stderr

    again = _aws(endpoint, tmp_path, "iam", "create-user", "--user-name", "u")
    assert again.returncode == 255
    assert "An error occurred (EntityAlreadyExists) when calling the CreateUser operation: User with name u " \
           "already exists." in again.stderr
    (tmp_path / "bad.json").write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Maybe"}]}')
    bad = _aws(endpoint, tmp_path, "iam", "put-user-policy", "--user-name", "u", "--policy-name", "bad",
               "--policy-document", "file://bad.json")
    assert bad.returncode == 255
    assert "An error occurred (MalformedPolicyDocument) when calling the PutUserPolicy operation:" in bad.stderr
