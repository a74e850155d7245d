"""A training job reads and writes for the user who asked for it, by the policies the user has when the job
runs (as AWS's service does with the caller's permissions): images the user may not read end the version
with ERROR_INVALID_PERMISSIONS_IMAGES_S3_BUCKET, a manifest it may no longer read with
ERROR_INVALID_PERMISSIONS_MANIFEST_S3_BUCKET, an output location it may no longer write with
ERROR_CANNOT_WRITE_OUTPUT_S3_BUCKET."""

from __future__ import annotations

import json
from typing import Any

from tests.support.accounts import keyed_client, secured_server
from tests.support.datasets import wait_version
from tests.support.images import classification_line, shape_image, upload_classification_set

ROOT_KEY, ROOT_SECRET = "AKIAROOTJOBPERMS0001", "root-secret-for-training-permissions"
BUCKET = "job-permissions"


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _version(rek: Any, project: str, name: str, manifest: str) -> None:
    rek.create_project_version(
        ProjectArn=project, VersionName=name, OutputConfig={"S3Bucket": BUCKET, "S3KeyPrefix": f"out-{name}/"},
        TrainingData={"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": manifest}}}]},
        TestingData={"AutoCreate": True})


def test_a_job_is_refused_what_its_user_may_not_do(tmp_path: Any) -> None:
    with secured_server(tmp_path / "data", ROOT_KEY, ROOT_SECRET) as endpoint:
        iam, s3 = keyed_client("iam", endpoint, ROOT_KEY, ROOT_SECRET), keyed_client("s3", endpoint, ROOT_KEY,
                                                                                      ROOT_SECRET)
        root_rek = keyed_client("rekognition", endpoint, ROOT_KEY, ROOT_SECRET)
        s3.create_bucket(Bucket=BUCKET)
        readable = upload_classification_set(s3, BUCKET, "open/", ["red", "blue"], per_label=6, size=64)
        for name in ("for-manifest", "for-output"):  # one manifest per job, so a Deny can name one
            s3.copy_object(Bucket=BUCKET, Key=f"open/{name}.manifest", CopySource=f"{BUCKET}/{readable}")
        lines = []
        for label in ("red", "blue"):
            for i in range(6):
                s3.put_object(Bucket=BUCKET, Key=f"secret/{label}-{i}.jpg", Body=shape_image(label, i, size=64))
                lines.append(classification_line(BUCKET, f"secret/{label}-{i}.jpg", label))
        s3.put_object(Bucket=BUCKET, Key="open/secret-images.manifest", Body="\n".join(lines).encode())
        project = root_rek.create_project(ProjectName="job-permissions")["ProjectArn"]

        iam.create_user(UserName="narrow")
        keys = iam.create_access_key(UserName="narrow")["AccessKey"]
        allowed = [{"Effect": "Allow", "Action": ["rekognition:*", "kms:*"], "Resource": "*"},
                   {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/open/*"},
                   {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/out-*"}]
        iam.put_user_policy(UserName="narrow", PolicyName="p", PolicyDocument=_policy(*allowed))
        rek = keyed_client("rekognition", endpoint, keys["AccessKeyId"], keys["SecretAccessKey"])

        # The root's job trains first (one worker), so the user's jobs wait in the queue behind it.
        _version(root_rek, project, "first", readable)
        _version(rek, project, "images", "open/secret-images.manifest")
        _version(rek, project, "manifest", "open/for-manifest.manifest")
        _version(rek, project, "output", "open/for-output.manifest")
        # Between the requests and the jobs, the user loses the right to read one manifest and write one
        # output location.
        iam.put_user_policy(UserName="narrow", PolicyName="p", PolicyDocument=_policy(
            *allowed,
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/open/for-manifest*"},
            {"Effect": "Deny", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/out-output/*"}))

        done = {"TRAINING_COMPLETED", "TRAINING_FAILED"}
        first = wait_version(root_rek, project, "first", done, timeout=600)
        assert first["Status"] == "TRAINING_COMPLETED", first["StatusMessage"]
        expected = {"images": "ERROR_INVALID_PERMISSIONS_IMAGES_S3_BUCKET",
                    "manifest": "ERROR_INVALID_PERMISSIONS_MANIFEST_S3_BUCKET",
                    "output": "ERROR_CANNOT_WRITE_OUTPUT_S3_BUCKET"}
        for name, code in expected.items():
            version = wait_version(rek, project, name, done, timeout=300)
            assert version["Status"] == "TRAINING_FAILED", (name, version["StatusMessage"])
            assert code in version["StatusMessage"], (name, version["StatusMessage"])
        # Nothing was written where the user may no longer write.
        assert s3.list_objects_v2(Bucket=BUCKET, Prefix="out-output/")["KeyCount"] == 0
