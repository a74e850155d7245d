"""`openrek datasets create-from-version`: the console's "datasets from my manifests" step as an explicit
command, run as a user would against a real server; afterwards the project refuses manifests."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.datasets import all_entries, wait_version
from tests.support.images import upload_classification_set


def _openrek(endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
           "AWS_DEFAULT_REGION": "us-east-1"}
    return subprocess.run([sys.executable, "-m", "openrek.cli.main", "--endpoint-url", endpoint, *args],
                          capture_output=True, text=True, env=env, timeout=300)


def _assets(bucket: str, key: str) -> dict:
    return {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": key}}}]}


def test_datasets_from_the_latest_manifests(openrek_server: str, rekognition, s3, unique: str) -> None:  # type: ignore[no-untyped-def]
    bucket = f"dcmd-{unique}"
    s3.create_bucket(Bucket=bucket)
    manifest = upload_classification_set(s3, bucket, "set/", ["red", "blue"], per_label=5, size=64)
    project = rekognition.create_project(ProjectName=f"dcmd-{unique}")["ProjectArn"]

    none_yet = _openrek(openrek_server, "datasets", "create-from-version", "--project-arn", project)
    assert none_yet.returncode == 255 and "no version trained from manifests" in none_yet.stderr

    rekognition.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": bucket},
                                       TrainingData=_assets(bucket, manifest), TestingData={"AutoCreate": True})
    done = _openrek(openrek_server, "datasets", "create-from-version", "--project-arn", project)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["SourceProjectVersionArn"].split("/")[-2] == "v1"
    by_type = {d["DatasetType"]: d for d in out["Datasets"]}
    assert by_type["TRAIN"]["Status"] == by_type["TEST"]["Status"] == "UPDATE_COMPLETE"  # distributed
    assert by_type["TRAIN"]["DatasetStats"]["TotalEntries"] == 8
    assert by_type["TEST"]["DatasetStats"]["TotalEntries"] == 2
    assert {e["label-metadata"]["class-name"] for e in all_entries(rekognition, by_type["TEST"]["DatasetArn"])} == {
        "red", "blue"}

    # From now on the project trains from its datasets only.
    with pytest.raises(rekognition.exceptions.InvalidParameterException):
        rekognition.create_project_version(ProjectArn=project, VersionName="v2", OutputConfig={"S3Bucket": bucket},
                                           TrainingData=_assets(bucket, manifest), TestingData={"AutoCreate": True})
    again = _openrek(openrek_server, "datasets", "create-from-version", "--project-arn", project)
    assert again.returncode == 255 and "already has datasets (TRAIN, TEST)" in again.stderr

    # A version with a testing manifest gives a TEST dataset made from that manifest.
    other = rekognition.create_project(ProjectName=f"dcmd2-{unique}")["ProjectArn"]
    test_manifest = upload_classification_set(s3, bucket, "test/", ["red", "blue"], per_label=2, size=64)
    rekognition.create_project_version(ProjectArn=other, VersionName="m", OutputConfig={"S3Bucket": bucket},
                                       TrainingData=_assets(bucket, manifest),
                                       TestingData=_assets(bucket, test_manifest))
    done = _openrek(openrek_server, "datasets", "create-from-version", "--project-arn", other, "--version-name", "m")
    assert done.returncode == 0, done.stderr
    by_type = {d["DatasetType"]: d for d in json.loads(done.stdout)["Datasets"]}
    assert by_type["TRAIN"]["Status"] == by_type["TEST"]["Status"] == "CREATE_COMPLETE"
    assert by_type["TEST"]["DatasetStats"]["TotalEntries"] == 4
    helped = _openrek(openrek_server, "datasets", "help")
    assert helped.returncode == 0 and "create-from-version" in helped.stdout

    # The two versions were only needed as sources; they still train to the end here, so that their jobs
    # do not keep the session server's worker busy under the tests that follow.
    for arn, name in ((project, "v1"), (other, "m")):
        trained = wait_version(rekognition, arn, name, {"TRAINING_COMPLETED", "TRAINING_FAILED"}, timeout=600)
        assert trained["Status"] == "TRAINING_COMPLETED", trained["StatusMessage"]
