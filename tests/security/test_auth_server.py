"""A server as started by default (`--auth on`): every request on both protocols must carry a valid SigV4
signature of a known key. Forged requests get each AWS service's own code; properly signed ones — headers
or presigned URLs, stock boto3 and the aws CLI — work; root credentials come from the environment or from
the credentials file the server writes. `--auth off` (OPENREK_AUTH=off) is the open mode, and says so."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
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

from tests.support.accounts import create_account, keyed_client, secured_server
from tests.support.server import ServerProcess

ROOT_KEY, ROOT_SECRET = "AKIAROOTTESTKEY00001", "root-secret-for-tests/0123456789abcdefghij"
AWS = str(Path(sys.executable).with_name("aws"))


def _client(service: str, endpoint: str, key: str = ROOT_KEY, secret: str = ROOT_SECRET) -> Any:
    return keyed_client(service, endpoint, key, secret)


def _code(call: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with secured_server(tmp_path_factory.mktemp("auth") / "data", ROOT_KEY, ROOT_SECRET) as endpoint:
        yield endpoint


def _json_headers(target: str) -> dict[str, str]:
    return {"X-Amz-Target": f"RekognitionService.{target}", "Content-Type": "application/x-amz-json-1.1"}


def test_rekognition_refuses_forged_requests(secured: str) -> None:
    assert _client("rekognition", secured).describe_projects()["ProjectDescriptions"] == []
    assert _code(lambda: _client("rekognition", secured, secret="wrong").describe_projects()) == (
        "InvalidSignatureException", 403)
    assert _code(lambda: _client("rekognition", secured, key="AKIAUNKNOWN000000000").describe_projects()) == (
        "UnrecognizedClientException", 400)
    for auth, code in ((None, "MissingAuthenticationTokenException"), ("garbage", "IncompleteSignatureException"),
                       ("Bearer abc", "IncompleteSignatureException"),
                       (f"AWS {ROOT_KEY}:c2lnbmF0dXJl", "IncompleteSignatureException"),
                       (f"AWS4-HMAC-SHA256 Credential={ROOT_KEY}/20260101/us-east-1/rekognition/aws4_request",
                        "IncompleteSignatureException")):
        headers = _json_headers("DescribeProjects") | ({"Authorization": auth} if auth else {})
        answer = requests.post(secured, data=b"{}", headers=headers, timeout=10)
        assert (answer.status_code, answer.json()["__type"]) in ((403, code), (400, code)), (auth, answer.text)
    # A body changed after signing, and a signature replayed on another operation.
    signed = AWSRequest(method="POST", url=secured + "/", data=b"{}", headers=_json_headers("DescribeProjects"))
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "rekognition", "us-east-1").add_auth(signed)
    good = requests.post(secured, data=b"{}", headers=dict(signed.headers), timeout=10)
    assert good.status_code == 200, good.text
    tampered = requests.post(secured, data=b'{"MaxResults": 1}', headers=dict(signed.headers), timeout=10)
    assert tampered.json()["__type"] == "InvalidSignatureException"
    replayed = dict(signed.headers) | {"X-Amz-Target": "RekognitionService.CreateProject"}
    assert requests.post(secured, data=b"{}", headers=replayed, timeout=10).json()["__type"] == (
        "InvalidSignatureException")
    # openrek's own routes are guarded too.
    export = requests.get(secured + "/_openrek/model-export?ProjectVersionArn=x", timeout=10)
    assert export.json()["__type"] == "MissingAuthenticationTokenException"


def test_s3_refuses_forged_requests_and_honours_presigned_urls(secured: str) -> None:
    s3 = _client("s3", secured)
    legacy = s3.generate_presigned_url("get_object", Params={"Bucket": "secured-bucket", "Key": "k"})
    refused = requests.get(legacy, timeout=10)  # boto3 presigns S3 with SigV2 unless told s3v4
    assert refused.status_code == 400 and "signature_version='s3v4'" in refused.text
    s3 = boto3.client("s3", endpoint_url=secured, region_name="us-east-1", aws_access_key_id=ROOT_KEY,
                      aws_secret_access_key=ROOT_SECRET,
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket="secured-bucket")
    s3.put_object(Bucket="secured-bucket", Key="a b/ü.txt", Body=b"secret bytes")
    assert s3.get_object(Bucket="secured-bucket", Key="a b/ü.txt")["Body"].read() == b"secret bytes"
    assert _code(lambda: _client("s3", secured, secret="wrong").list_buckets()) == ("SignatureDoesNotMatch", 403)
    assert _code(lambda: _client("s3", secured, key="AKIAUNKNOWN000000000").list_buckets()) == (
        "InvalidAccessKeyId", 403)
    unsigned = requests.get(f"{secured}/secured-bucket/a%20b/%C3%BC.txt", timeout=10)
    assert unsigned.status_code == 403 and "<Code>AccessDenied</Code>" in unsigned.text
    garbage = requests.get(f"{secured}/secured-bucket", headers={"Authorization": "garbage"}, timeout=10)
    assert garbage.status_code == 400 and "<Code>AuthorizationHeaderMalformed</Code>" in garbage.text
    v2 = requests.get(f"{secured}/secured-bucket/x?AWSAccessKeyId={ROOT_KEY}&Expires=9999999999&Signature=abc",
                      timeout=10)
    assert v2.status_code == 400 and "<Code>InvalidRequest</Code>" in v2.text

    url = s3.generate_presigned_url("get_object", Params={"Bucket": "secured-bucket", "Key": "a b/ü.txt"},
                                    ExpiresIn=60)
    assert requests.get(url, timeout=10).content == b"secret bytes"
    other_key = url.replace("%C3%BC.txt", "x.txt")
    assert "<Code>SignatureDoesNotMatch</Code>" in requests.get(other_key, timeout=10).text
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "secured-bucket", "Key": "up.bin"},
                                        ExpiresIn=60)
    assert requests.put(put_url, data=b"uploaded", timeout=10).status_code == 200
    assert s3.get_object(Bucket="secured-bucket", Key="up.bin")["Body"].read() == b"uploaded"
    short = s3.generate_presigned_url("get_object", Params={"Bucket": "secured-bucket", "Key": "up.bin"},
                                      ExpiresIn=1)
    time.sleep(2.1)
    expired = requests.get(short, timeout=10)
    assert expired.status_code == 403 and "<Code>AccessDenied</Code>" in expired.text and "expired" in expired.text


def test_generated_root_credentials_serve_the_openrek_and_aws_clis(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OPENREK_"))}
    server = ServerProcess(data)  # no root keys given: it generates them
    server.env = {k: v for k, v in server.env.items() if not k.startswith(("AWS_", "OPENREK_ROOT_"))}
    endpoint = server.start()
    try:
        credentials = data / "credentials"
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        text = credentials.read_text()
        assert text.startswith("[openrek]\naws_access_key_id = AKIA")
        home = tmp_path / "home"
        home.mkdir()
        clean = {**env, "HOME": str(home), "OPENREK_DATA_DIR": str(data)}
        ours = subprocess.run([sys.executable, "-m", "openrek.cli.main", "--endpoint-url", endpoint, "rekognition",
                               "create-project", "--project-name", "from-cli"], capture_output=True, text=True,
                              env=clean, timeout=60)
        assert ours.returncode == 0, ours.stderr
        named = subprocess.run([sys.executable, "-m", "openrek.cli.main", "--endpoint-url", endpoint, "--profile",
                                "openrek", "rekognition", "describe-projects"], capture_output=True, text=True,
                               env=clean, timeout=60)
        assert named.returncode == 0 and "project/from-cli/" in named.stdout, named.stderr
        theirs = subprocess.run([AWS, "--endpoint-url", endpoint, "--profile", "openrek", "--region", "us-east-1",
                                 "rekognition", "describe-projects", "--query", "ProjectDescriptions[].ProjectArn",
                                 "--output", "text"], capture_output=True, text=True, timeout=60,
                                env={**clean, "AWS_SHARED_CREDENTIALS_FILE": str(credentials)})
        assert theirs.returncode == 0 and "project/from-cli/" in theirs.stdout, theirs.stderr
        anonymous = subprocess.run([AWS, "--endpoint-url", endpoint, "--region", "us-east-1", "rekognition",
                                    "describe-projects"], capture_output=True, text=True, timeout=60,
                                   env={**clean, "AWS_ACCESS_KEY_ID": "AKIAWHOEVER000000000",
                                        "AWS_SECRET_ACCESS_KEY": "x"})
        assert anonymous.returncode == 255 and "(UnrecognizedClientException)" in anonymous.stderr
        # An account made straight in the data dir (no request to the server) works at once.
        offline = subprocess.run([sys.executable, "-m", "openrek.cli.main", "accounts", "create", "--name", "offline",
                                  "--data-dir", str(data)], capture_output=True, text=True, env=clean, timeout=60)
        assert offline.returncode == 0, offline.stderr
        made = json.loads(offline.stdout)
        assert set(made) == {"AccountId", "Name", "AccessKeyId", "SecretAccessKey"} and made["Name"] == "offline"
        who = keyed_client("sts", endpoint, made["AccessKeyId"], made["SecretAccessKey"]).get_caller_identity()
        assert who["Account"] == made["AccountId"] != "000000000000"
        again = subprocess.run([sys.executable, "-m", "openrek.cli.main", "accounts", "create", "--name", "offline",
                                "--data-dir", str(data)], capture_output=True, text=True, env=clean, timeout=60)
        assert again.returncode == 255 and "(ResourceAlreadyExistsException)" in again.stderr
        assert server.stop() == 0
        server.start()  # a restart keeps the same root key
        assert credentials.read_text() == text
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.stop()


def test_open_mode_only_when_asked_for_and_loudly(tmp_path: Path) -> None:
    """`--auth off` or OPENREK_AUTH=off|0|false: nothing is verified, everyone is the first account, and the
    server warns on stdout and stderr; --auth on beats OPENREK_AUTH=off."""
    from tests.support.server import ROOT_KEY as DEFAULT_KEY
    from tests.support.server import ROOT_SECRET as DEFAULT_SECRET

    ways = ((["--auth", "off"], {}), ([], {"OPENREK_AUTH": "off"}), ([], {"OPENREK_AUTH": "False"}),
            ([], {"OPENREK_AUTH": "0"}))
    for i, (flags, env) in enumerate(ways):
        server = ServerProcess(tmp_path / "data", env=env, args=flags)
        logged = server.log_path.stat().st_size if server.log_path.exists() else 0
        with server:
            said = "".join(server.output)
            assert "WARNING: openrek is OPEN (--auth off): requests are NOT authenticated" in said, (flags, env)
            assert "verifies SigV4" not in said
            anyone = _client("rekognition", server.endpoint, key="AKIAWHOEVER000000000", secret="x")
            arn = anyone.create_project(ProjectName=f"open-{i}")["ProjectArn"]
            assert f":000000000000:project/open-{i}/" in arn
            unsigned = requests.post(server.endpoint, data=b"{}", headers=_json_headers("DescribeProjects"),
                                     timeout=10)
            assert unsigned.status_code == 200 and arn in unsigned.text
            _client("s3", server.endpoint, key="other", secret="credentials").create_bucket(Bucket=f"open-{i}")
            no_accounts = requests.post(f"{server.endpoint}/_openrek/accounts", data=b'{"Name": "b"}', timeout=10)
            assert no_accounts.json()["__type"] == "ValidationException" and "is open" in no_accounts.text
            assert server.stop() == 0
        assert "WARNING: openrek is OPEN" in server.log_path.read_text()[logged:]  # on stderr too
    server = ServerProcess(tmp_path / "data", env={"OPENREK_AUTH": "off"}, args=["--auth", "on"])
    logged = server.log_path.stat().st_size
    with server:
        assert f"openrek verifies SigV4 signatures; root access key {DEFAULT_KEY}" in "".join(server.output)
        assert _code(lambda: _client("rekognition", server.endpoint, key="AKIAWHOEVER000000000",
                                     secret="x").describe_projects()) == ("UnrecognizedClientException", 400)
        root = _client("rekognition", server.endpoint, key=DEFAULT_KEY, secret=DEFAULT_SECRET)
        assert len(root.describe_projects()["ProjectDescriptions"]) == len(ways)  # the open ones were the root's
        assert server.stop() == 0
    assert "OPEN" not in server.log_path.read_text()[logged:]


def test_accounts_are_namespaces_of_their_own(secured: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    root_env = {**env, "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": ROOT_KEY, "AWS_SECRET_ACCESS_KEY": ROOT_SECRET,
                "AWS_DEFAULT_REGION": "us-east-1"}

    def openrek(*args: str, environ: dict[str, str] = root_env) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "openrek.cli.main", "--endpoint-url", secured, *args],
                              capture_output=True, text=True, env=environ, timeout=60)

    made = openrek("accounts", "create", "--name", "team-b")
    assert made.returncode == 0, made.stderr
    b = json.loads(made.stdout)
    assert set(b) == {"AccountId", "Name", "AccessKeyId", "SecretAccessKey"} and len(b["AccountId"]) == 12
    again = openrek("accounts", "create", "--name", "team-b")
    assert again.returncode == 255 and "(ResourceAlreadyExistsException)" in again.stderr

    root = _client("rekognition", secured)
    mine = root.create_project(ProjectName="shared-name")["ProjectArn"]
    theirs_client = _client("rekognition", secured, key=b["AccessKeyId"], secret=b["SecretAccessKey"])
    assert theirs_client.describe_projects()["ProjectDescriptions"] == []
    theirs = theirs_client.create_project(ProjectName="shared-name")["ProjectArn"]
    assert f":{b['AccountId']}:project/shared-name/" in theirs and theirs != mine
    assert [p["ProjectArn"] for p in theirs_client.describe_projects()["ProjectDescriptions"]] == [theirs]
    assert mine in [p["ProjectArn"] for p in root.describe_projects()["ProjectDescriptions"]]
    assert theirs not in [p["ProjectArn"] for p in root.describe_projects()["ProjectDescriptions"]]
    for call in (lambda: theirs_client.describe_project_versions(ProjectArn=mine),
                 lambda: theirs_client.delete_project(ProjectArn=mine),
                 lambda: theirs_client.create_dataset(ProjectArn=mine, DatasetType="TRAIN"),
                 lambda: theirs_client.list_tags_for_resource(ResourceArn=mine)):
        code, status = _code(call)
        assert (code, status) == ("AccessDeniedException", 400), code
    with pytest.raises(ClientError) as err:
        theirs_client.put_project_policy(ProjectArn=mine, PolicyName="p", PolicyDocument="{}")
    assert "is not authorized to perform: rekognition:PutProjectPolicy" in err.value.response["Error"]["Message"]
    b_env = {**root_env, "AWS_ACCESS_KEY_ID": b["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": b["SecretAccessKey"]}
    refused = openrek("accounts", "create", "--name", "team-c", environ=b_env)
    assert refused.returncode == 255 and "(AccessDeniedException)" in refused.stderr
    version_arn = mine.rsplit("/", 1)[0] + "/version/v1/1"
    export = openrek("models", "export", "--project-version-arn", version_arn, "--output",
                     str(tmp_path / "m.onnx"), environ=b_env)
    assert export.returncode == 255 and "(AccessDeniedException)" in export.stderr
    root.delete_project(ProjectArn=mine)
    theirs_client.delete_project(ProjectArn=theirs)


def test_buckets_belong_to_the_account_that_made_them(secured: str) -> None:
    root_s3 = _client("s3", secured)
    made = requests.post(f"{secured}/_openrek/accounts", timeout=10)  # unsigned: refused before anything
    assert made.json()["__type"] == "MissingAuthenticationTokenException"
    other = create_account(secured, ROOT_KEY, ROOT_SECRET, "bucket-team")
    theirs = _client("s3", secured, key=other["AccessKeyId"], secret=other["SecretAccessKey"])
    root_s3.create_bucket(Bucket="root-owned")
    root_s3.put_object(Bucket="root-owned", Key="k", Body=b"root data")
    theirs.create_bucket(Bucket="their-own")
    assert "root-owned" not in [b["Name"] for b in theirs.list_buckets()["Buckets"]]
    assert "their-own" in [b["Name"] for b in theirs.list_buckets()["Buckets"]]
    assert "their-own" not in [b["Name"] for b in root_s3.list_buckets()["Buckets"]]
    for call in (lambda: theirs.get_object(Bucket="root-owned", Key="k"),
                 lambda: theirs.put_object(Bucket="root-owned", Key="k", Body=b"overwritten"),
                 lambda: theirs.delete_object(Bucket="root-owned", Key="k"),
                 lambda: theirs.list_objects_v2(Bucket="root-owned"),
                 lambda: theirs.delete_bucket(Bucket="root-owned"),
                 lambda: theirs.copy_object(Bucket="their-own", Key="stolen",
                                            CopySource={"Bucket": "root-owned", "Key": "k"})):
        assert _code(call) == ("AccessDenied", 403)
    assert _code(lambda: theirs.create_bucket(Bucket="root-owned")) == ("BucketAlreadyExists", 409)
    assert _code(lambda: root_s3.create_bucket(Bucket="root-owned")) == ("BucketAlreadyOwnedByYou", 409)
    assert root_s3.get_object(Bucket="root-owned", Key="k")["Body"].read() == b"root data"


def test_custom_labels_reads_and_writes_only_the_callers_buckets(secured: str) -> None:
    root_s3 = _client("s3", secured)
    root_s3.create_bucket(Bucket="root-data")
    root_s3.put_object(Bucket="root-data", Key="train.manifest", Body=b"{}")
    other = create_account(secured, ROOT_KEY, ROOT_SECRET, "reader-team")
    rek = _client("rekognition", secured, key=other["AccessKeyId"], secret=other["SecretAccessKey"])
    s3 = _client("s3", secured, key=other["AccessKeyId"], secret=other["SecretAccessKey"])
    s3.create_bucket(Bucket="reader-own")
    project = rek.create_project(ProjectName="reader")["ProjectArn"]
    manifest = {"GroundTruthManifest": {"S3Object": {"Bucket": "root-data", "Name": "train.manifest"}}}
    s3.put_object(Bucket="reader-own", Key="train.manifest", Body=b"{}")
    own = {"GroundTruthManifest": {"S3Object": {"Bucket": "reader-own", "Name": "train.manifest"}}}
    with pytest.raises(ClientError) as err:
        rek.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": "root-data"},
                                   TrainingData={"Assets": [own]}, TestingData={"AutoCreate": True})
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "s3:PutObject on resource: arn:aws:s3:::root-data/*" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        rek.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": "reader-own"},
                                   TrainingData={"Assets": [manifest]}, TestingData={"AutoCreate": True})
    assert "s3:GetObject on resource: arn:aws:s3:::root-data/train.manifest" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        rek.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=manifest)
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    rek.delete_project(ProjectArn=project)


def test_cross_account_copy_needs_a_project_policy(secured: str) -> None:
    from tests.support.datasets import wait_version
    from tests.support.images import shape_image, upload_classification_set

    root_rek, root_s3 = _client("rekognition", secured), _client("s3", secured)
    root_s3.create_bucket(Bucket="copy-source")
    manifest = upload_classification_set(root_s3, "copy-source", "", ["red", "blue"], per_label=6, size=64)
    source = root_rek.create_project(ProjectName="copy-source")["ProjectArn"]
    version = root_rek.create_project_version(
        ProjectArn=source, VersionName="v1", OutputConfig={"S3Bucket": "copy-source"},
        TrainingData={"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "copy-source", "Name": manifest}}}]},
        TestingData={"AutoCreate": True})["ProjectVersionArn"]
    signed = AWSRequest(method="POST", url=f"{secured}/_openrek/accounts", data=b'{"Name": "copier"}',
                        headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "rekognition", "us-east-1").add_auth(signed)
    b = requests.post(f"{secured}/_openrek/accounts", data=b'{"Name": "copier"}', headers=dict(signed.headers),
                      timeout=10).json()
    rek = _client("rekognition", secured, key=b["AccessKeyId"], secret=b["SecretAccessKey"])
    s3 = _client("s3", secured, key=b["AccessKeyId"], secret=b["SecretAccessKey"])
    s3.create_bucket(Bucket="copy-target")
    target = rek.create_project(ProjectName="copy-target")["ProjectArn"]
    assert wait_version(root_rek, source, "v1", {"TRAINING_COMPLETED", "TRAINING_FAILED"})["Status"] == (
        "TRAINING_COMPLETED")

    def copy(name: str) -> str:
        return rek.copy_project_version(SourceProjectArn=source, SourceProjectVersionArn=version,
                                        DestinationProjectArn=target, VersionName=name,
                                        OutputConfig={"S3Bucket": "copy-target"})["ProjectVersionArn"]

    with pytest.raises(ClientError) as err:
        copy("before")
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "rekognition:CopyProjectVersion" in err.value.response["Error"]["Message"]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{b['AccountId']}:root"},
        "Action": "rekognition:CopyProjectVersion", "Resource": version}]})
    root_rek.put_project_policy(ProjectArn=source, PolicyName="let-b-copy", PolicyDocument=policy)
    copied = copy("after")
    assert f":{b['AccountId']}:project/copy-target/version/after/" in copied
    done = wait_version(rek, target, "after", {"COPYING_COMPLETED", "COPYING_FAILED"})
    assert done["Status"] == "COPYING_COMPLETED" and done["SourceProjectVersionArn"] == version
    rek.start_project_version(ProjectVersionArn=copied, MinInferenceUnits=1)
    wait_version(rek, target, "after", {"RUNNING"})
    found = rek.detect_custom_labels(ProjectVersionArn=copied, MinConfidence=0,
                                     Image={"Bytes": shape_image("red", 99, size=64)})["CustomLabels"]
    assert found
    rek.stop_project_version(ProjectVersionArn=copied)


def test_a_bucket_policy_opens_a_bucket_to_another_account(secured: str) -> None:
    owner = _client("s3", secured)
    owner.create_bucket(Bucket="policy-bucket")
    owner.put_object(Bucket="policy-bucket", Key="shared/x.txt", Body=b"shared")
    owner.put_object(Bucket="policy-bucket", Key="private/y.txt", Body=b"private")
    b = create_account(secured, ROOT_KEY, ROOT_SECRET, "policy-reader")
    other = _client("s3", secured, key=b["AccessKeyId"], secret=b["SecretAccessKey"])
    assert _code(lambda: other.get_object(Bucket="policy-bucket", Key="shared/x.txt")) == ("AccessDenied", 403)
    assert _code(lambda: owner.get_bucket_policy(Bucket="policy-bucket")) == ("NoSuchBucketPolicy", 404)
    assert _code(lambda: owner.put_bucket_policy(Bucket="policy-bucket", Policy="{nope")) == ("MalformedPolicy", 400)
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{b['AccountId']}:root"},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::policy-bucket/shared/*"}]})
    owner.put_bucket_policy(Bucket="policy-bucket", Policy=policy)
    assert json.loads(owner.get_bucket_policy(Bucket="policy-bucket")["Policy"]) == json.loads(policy)
    assert other.get_object(Bucket="policy-bucket", Key="shared/x.txt")["Body"].read() == b"shared"
    assert _code(lambda: other.get_object(Bucket="policy-bucket", Key="private/y.txt")) == ("AccessDenied", 403)
    assert _code(lambda: other.put_object(Bucket="policy-bucket", Key="shared/z", Body=b"z")) == ("AccessDenied", 403)
    assert _code(lambda: other.get_bucket_policy(Bucket="policy-bucket")) == ("AccessDenied", 403)
    owner.delete_bucket_policy(Bucket="policy-bucket")
    assert _code(lambda: other.get_object(Bucket="policy-bucket", Key="shared/x.txt")) == ("AccessDenied", 403)
