"""A server restart loses nothing; a job interrupted by kill -9 never stays TRAINING_IN_PROGRESS."""

from __future__ import annotations

import time

from sqlalchemy import create_engine, text

from tests.support.backends import database_url
from tests.support.clients import client
from tests.support.images import upload_classification_set
from tests.support.server import ServerProcess


def _assets(bucket: str, key: str) -> dict:
    return {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": key}}}]}


def test_restart_keeps_projects_versions_tags_and_objects(fresh_server: ServerProcess) -> None:
    endpoint = fresh_server.start()
    rek, s3 = client("rekognition", endpoint), client("s3", endpoint)
    s3.create_bucket(Bucket="keep")
    s3.put_object(Bucket="keep", Key="a/b.txt", Body=b"hello")
    project = rek.create_project(ProjectName="durable", Tags={"p": "1"})["ProjectArn"]
    version = rek.create_project_version(
        ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": "keep", "S3KeyPrefix": "out/"},
        TrainingData=_assets("keep", "nope.manifest"), TestingData={"AutoCreate": True}, Tags={"v": "2"},
        VersionDescription="kept",
    )["ProjectVersionArn"]
    before = rek.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"]
    assert fresh_server.stop() == 0

    endpoint = fresh_server.start()
    rek, s3 = client("rekognition", endpoint), client("s3", endpoint)
    assert [p["ProjectArn"] for p in rek.describe_projects()["ProjectDescriptions"]] == [project]
    after = rek.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"]
    assert after[0]["ProjectVersionArn"] == version
    assert after[0]["VersionDescription"] == "kept"
    assert after[0]["CreationTimestamp"] == before[0]["CreationTimestamp"]
    assert rek.list_tags_for_resource(ResourceArn=project)["Tags"] == {"p": "1"}
    assert rek.list_tags_for_resource(ResourceArn=version)["Tags"] == {"v": "2"}
    assert s3.get_object(Bucket="keep", Key="a/b.txt")["Body"].read() == b"hello"


def _job_state(data_dir, version_arn: str) -> str | None:  # type: ignore[no-untyped-def]
    engine = create_engine(database_url(data_dir))
    try:
        with engine.connect() as db:
            row = db.execute(text("SELECT state FROM jobs WHERE version_arn = :arn"), {"arn": version_arn}).first()
    finally:
        engine.dispose()
    return row[0] if row else None


def test_kill_9_during_training_does_not_leave_the_version_in_progress(fresh_server: ServerProcess) -> None:
    fresh_server.env["OPENREK_TRAINING_BUDGET_S"] = "20"
    endpoint = fresh_server.start()
    rek, s3 = client("rekognition", endpoint), client("s3", endpoint)
    s3.create_bucket(Bucket="train")
    manifest = upload_classification_set(s3, "train", "", ["red", "blue"], per_label=10, size=64)
    project = rek.create_project(ProjectName="crash")["ProjectArn"]
    version = rek.create_project_version(
        ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": "train"},
        TrainingData=_assets("train", manifest), TestingData={"AutoCreate": True},
    )["ProjectVersionArn"]
    deadline = time.monotonic() + 30
    while _job_state(fresh_server.data_dir, version) != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _job_state(fresh_server.data_dir, version) == "RUNNING"
    fresh_server.kill()
    assert rek.meta.endpoint_url  # the old client is now useless; a new server takes over the data dir

    endpoint = fresh_server.start()
    rek = client("rekognition", endpoint)
    deadline = time.monotonic() + 180
    status = "TRAINING_IN_PROGRESS"
    while status == "TRAINING_IN_PROGRESS" and time.monotonic() < deadline:
        status = rek.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"][0]["Status"]
        time.sleep(0.5)
    assert status in {"TRAINING_COMPLETED", "TRAINING_FAILED"}
    assert _job_state(fresh_server.data_dir, version) == "DONE"
