"""Encryption at rest, end to end with the stock aws CLI and boto3 against a server with signatures verified.

An IAM user made with `aws iam`, a KMS key and alias made with `aws kms`, then `aws rekognition
create-project-version --kms-key-id alias/…` under the user's keys. After training, no image, manifest,
model or output file lies in the clear anywhere under the data dir; the outputs carry SSE-KMS, are readable
through S3 with kms:Decrypt and refused without it; a disabled key refuses new starts and reads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openrek.store.sealed_files import MAGIC
from tests.support.accounts import keyed_client
from tests.support.clients import signed
from tests.support.datasets import wait_version
from tests.support.images import shape_image
from tests.support.server import ServerProcess

ROOT_KEY, ROOT_SECRET = "AKIAENCRYPTIONROOT01", "root-secret-for-encryption-at-rest"
AWS = Path(sys.executable).with_name("aws")
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["rekognition:*", "s3:*", "kms:*"], "Resource": "*"}]}
READ_ONLY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("encryption") / "data"
    with ServerProcess(data_dir, env={"OPENREK_AUTH": "on", "OPENREK_ROOT_ACCESS_KEY_ID": ROOT_KEY,
                                      "OPENREK_ROOT_SECRET_ACCESS_KEY": ROOT_SECRET}) as process:
        yield process


def _aws(endpoint: str, home: Path, *args: str, key: str = ROOT_KEY, secret: str = ROOT_SECRET) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"HOME": str(home), "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(home / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "none")}
    done = subprocess.run([str(AWS), "--endpoint-url", endpoint, "--output", "json", *args], capture_output=True,
                          text=True, env=env, timeout=120, cwd=home)
    assert done.returncode == 0, f"aws {' '.join(args)}: {done.stderr}"
    return json.loads(done.stdout) if done.stdout.strip() else {}


def _user(endpoint: str, home: Path, name: str, policy: dict[str, Any]) -> tuple[str, str]:
    _aws(endpoint, home, "iam", "create-user", "--user-name", name)
    access = _aws(endpoint, home, "iam", "create-access-key", "--user-name", name)["AccessKey"]
    _aws(endpoint, home, "iam", "put-user-policy", "--user-name", name, "--policy-name", "main",
         "--policy-document", json.dumps(policy))
    return access["AccessKeyId"], access["SecretAccessKey"]


def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def test_a_user_trains_under_a_kms_alias_and_nothing_lies_in_the_clear(server: ServerProcess,
                                                                       tmp_path: Path) -> None:
    endpoint, home = server.endpoint, tmp_path
    trainer = _user(endpoint, home, "trainer", ALLOW_ALL)
    reader = _user(endpoint, home, "reader", READ_ONLY)
    me = _aws(endpoint, home, "sts", "get-caller-identity", key=trainer[0], secret=trainer[1])
    assert me["Arn"].endswith(":user/trainer")
    key = _aws(endpoint, home, "kms", "create-key", "--description", "models", key=trainer[0],
               secret=trainer[1])["KeyMetadata"]
    _aws(endpoint, home, "kms", "create-alias", "--alias-name", "alias/models", "--target-key-id", key["KeyId"],
         key=trainer[0], secret=trainer[1])

    # The user's data: images and a manifest holding a string found nowhere else.
    s3 = keyed_client("s3", endpoint, *trainer)
    bucket, marker = "encrypted-training", f"labeling-job/marker-{uuid.uuid4().hex}"
    s3.create_bucket(Bucket=bucket)
    images: list[bytes] = []
    lines = []
    for label in ("red", "blue"):
        for i in range(8):
            image = shape_image(label, seed=1000 + i + (50 if label == "red" else 0), size=64)
            images.append(image)
            s3.put_object(Bucket=bucket, Key=f"images/{label}-{i}.jpg", Body=image)
            lines.append(json.dumps({"source-ref": f"s3://{bucket}/images/{label}-{i}.jpg", "label": 1,
                                     "label-metadata": {"class-name": label, "confidence": 1, "job-name": marker,
                                                        "type": "groundtruth/image-classification",
                                                        "human-annotated": "yes",
                                                        "creation-date": "2026-12-01T00:00:00.000"}}))
    s3.put_object(Bucket=bucket, Key="train.manifest", Body="\n".join(lines).encode())
    head = s3.head_object(Bucket=bucket, Key="train.manifest")
    assert head["ServerSideEncryption"] == "AES256"  # the default for every object, as in S3

    project = _aws(endpoint, home, "rekognition", "create-project", "--project-name", "sealed",
                   key=trainer[0], secret=trainer[1])["ProjectArn"]
    _aws(endpoint, home, "rekognition", "create-project-version", "--project-arn", project, "--version-name", "v1",
         "--kms-key-id", "alias/models", "--output-config", f"S3Bucket={bucket},S3KeyPrefix=out/",
         "--training-data", json.dumps({"Assets": [{"GroundTruthManifest": {"S3Object": {
             "Bucket": bucket, "Name": "train.manifest"}}}]}),
         "--testing-data", "AutoCreate=true", key=trainer[0], secret=trainer[1])
    rekognition = keyed_client("rekognition", endpoint, *trainer)
    version = wait_version(rekognition, project, "v1", {"TRAINING_COMPLETED", "TRAINING_FAILED"}, timeout=600)
    assert version["Status"] == "TRAINING_COMPLETED", version["StatusMessage"]
    assert version["KmsKeyId"] == "alias/models"

    # Nothing in the clear: scan every file under the data dir.
    scanned = 0
    for path in server.data_dir.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        scanned += 1
        assert marker.encode() not in data, f"the manifest's text lies in the clear in {path}"
        for image in images:
            middle = image[len(image) // 2:len(image) // 2 + 32]
            assert middle not in data, f"an image's bytes lie in the clear in {path}"
    objects = server.data_dir / "s3"
    stored = [p for p in objects.rglob("*") if p.is_file() and not p.relative_to(objects).parts[0].startswith(
        (".meta", ".tmp", ".uploads"))]
    models = [p for p in stored if p.relative_to(objects).parts[0] == ".openrek-models"]
    assert any(p.name == "model.onnx" for p in models) and any("images" in str(p) for p in models)
    assert all(p.read_bytes().startswith(MAGIC) for p in stored), [p for p in stored if not
                                                                   p.read_bytes().startswith(MAGIC)]
    assert scanned > len(stored)
    # ... while through S3 the output files hold that text (so the scan looked for something real).
    outputs = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="out/")["Contents"]]
    assert any(marker in s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode() for k in outputs)

    # The outputs carry SSE-KMS under the version's key; reading them needs kms:Decrypt.
    summary = version["EvaluationResult"]["Summary"]["S3Object"]
    output = s3.head_object(Bucket=summary["Bucket"], Key=summary["Name"])
    assert (output["ServerSideEncryption"], output["SSEKMSKeyId"]) == ("aws:kms", key["Arn"])
    assert json.loads(s3.get_object(Bucket=summary["Bucket"], Key=summary["Name"])["Body"].read())
    reading = keyed_client("s3", endpoint, *reader)
    assert reading.head_object(Bucket=summary["Bucket"], Key=summary["Name"])["SSEKMSKeyId"] == key["Arn"]
    code, message = _error(lambda: reading.get_object(Bucket=summary["Bucket"], Key=summary["Name"]))
    assert code == "AccessDenied" and "kms:Decrypt" in message and key["Arn"] in message
    _aws(endpoint, home, "iam", "put-user-policy", "--user-name", "reader", "--policy-name", "decrypt",
         "--policy-document", json.dumps({"Version": "2012-10-17", "Statement": [
             {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key["Arn"]}]}))
    body = reading.get_object(Bucket=summary["Bucket"], Key=summary["Name"])["Body"].read()
    assert "AggregatedEvaluationResults" in json.loads(body)

    # The model downloads (openrek's export) for a user with rekognition:ExportModel and kms:Decrypt only.
    export = {"ProjectVersionArn": version["ProjectVersionArn"], "File": "model.json"}
    denied = signed("GET", f"{endpoint}/_openrek/model-export", params=export, key=reader[0], secret=reader[1])
    assert denied.status_code == 403 and "rekognition:ExportModel" in denied.json()["Message"]
    onnx = signed("GET", f"{endpoint}/_openrek/model-export", params={**export, "File": "model.onnx"},
                  key=trainer[0], secret=trainer[1])
    assert onnx.status_code == 200 and not onnx.content.startswith(MAGIC) and len(onnx.content) > 10_000

    # A disabled key: no new start, no read, no download.
    _aws(endpoint, home, "kms", "disable-key", "--key-id", key["KeyId"], key=trainer[0], secret=trainer[1])
    code, message = _error(lambda: rekognition.start_project_version(
        ProjectVersionArn=version["ProjectVersionArn"], MinInferenceUnits=1))
    assert code == "InvalidParameterException" and "disabled" in message
    code, _ = _error(lambda: s3.get_object(Bucket=summary["Bucket"], Key=summary["Name"]))
    assert code == "KMS.DisabledException"
    assert signed("GET", f"{endpoint}/_openrek/model-export", params=export, key=trainer[0],
                  secret=trainer[1]).status_code >= 400
    _aws(endpoint, home, "kms", "enable-key", "--key-id", key["KeyId"], key=trainer[0], secret=trainer[1])
    rekognition.start_project_version(ProjectVersionArn=version["ProjectVersionArn"], MinInferenceUnits=1)
    wait_version(rekognition, project, "v1", {"RUNNING"}, timeout=120)
    found = rekognition.detect_custom_labels(ProjectVersionArn=version["ProjectVersionArn"],
                                             Image={"Bytes": images[0]}, MinConfidence=0)["CustomLabels"]
    assert found and found[0]["Name"] in ("red", "blue")
