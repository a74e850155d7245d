"""Stock boto3 against a real openrek server: projects, versions with every seed option, tags, paging."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.support.clients import client
from tests.support.images import upload_classification_set

PROJECT_ARN = re.compile(r"^arn:aws:rekognition:us-east-1:000000000000:project/[\w.\-]+/\d{13}$")
VERSION_ARN = re.compile(r"^arn:aws:rekognition:us-east-1:000000000000:project/[\w.\-]+/version/[\w.\-]+/\d{13}$")


@pytest.fixture
def bucket(s3, unique: str) -> str:  # type: ignore[no-untyped-def]
    name = f"bkt-{unique}"
    s3.create_bucket(Bucket=name)
    return name


def _assets(bucket: str, key: str) -> dict:
    return {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": key}}}]}


def test_project_lifecycle(rekognition, unique: str) -> None:  # type: ignore[no-untyped-def]
    name = f"proj-{unique}"
    arn = rekognition.create_project(ProjectName=name, Tags={"team": "vision"})["ProjectArn"]
    assert PROJECT_ARN.match(arn) and f"project/{name}/" in arn
    described = rekognition.describe_projects(ProjectNames=[name])["ProjectDescriptions"]
    assert len(described) == 1
    project = described[0]
    assert project["ProjectArn"] == arn
    assert project["Status"] == "CREATED"
    assert project["Feature"] == "CUSTOM_LABELS"
    assert isinstance(project["CreationTimestamp"], dt.datetime)
    assert rekognition.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "vision"}
    with pytest.raises(rekognition.exceptions.ResourceInUseException):
        rekognition.create_project(ProjectName=name)
    assert rekognition.delete_project(ProjectArn=arn)["Status"] == "DELETING"
    assert rekognition.describe_projects(ProjectNames=[name])["ProjectDescriptions"] == []


def test_content_moderation_projects_are_filtered_by_feature(rekognition, unique: str) -> None:  # type: ignore[no-untyped-def]
    cl = rekognition.create_project(ProjectName=f"cl-{unique}")["ProjectArn"]
    cm = rekognition.create_project(ProjectName=f"cm-{unique}", Feature="CONTENT_MODERATION",
                                    AutoUpdate="ENABLED")["ProjectArn"]
    default = {p["ProjectArn"] for p in rekognition.describe_projects()["ProjectDescriptions"]}
    assert cl in default and cm not in default
    moderation = rekognition.describe_projects(Features=["CONTENT_MODERATION"])["ProjectDescriptions"]
    entry = next(p for p in moderation if p["ProjectArn"] == cm)
    assert entry["AutoUpdate"] == "ENABLED"


def test_create_version_with_every_seed_option(rekognition, s3, bucket: str, unique: str,  # type: ignore[no-untyped-def]
                                               openrek_server: str) -> None:
    key_arn = client("kms", openrek_server).create_key()["KeyMetadata"]["Arn"]  # KmsKeyId must name a real key
    manifest = upload_classification_set(s3, bucket, "data/", ["red", "blue"], per_label=3)
    project = rekognition.create_project(ProjectName=f"seed-{unique}")["ProjectArn"]
    response = rekognition.create_project_version(
        ProjectArn=project,
        VersionName="v1.0_first",
        OutputConfig={"S3Bucket": bucket, "S3KeyPrefix": "output/"},
        TrainingData=_assets(bucket, manifest),
        TestingData={"AutoCreate": True},
        Tags={"stage": "test", "owner": "ci"},
        KmsKeyId=key_arn,
        VersionDescription="first model (seed options): all set",
    )
    arn = response["ProjectVersionArn"]
    assert VERSION_ARN.match(arn) and "/version/v1.0_first/" in arn
    desc = rekognition.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"]
    assert len(desc) == 1
    version = desc[0]
    assert version["ProjectVersionArn"] == arn
    assert version["Status"] in {"TRAINING_IN_PROGRESS", "TRAINING_FAILED", "TRAINING_COMPLETED"}
    assert isinstance(version["CreationTimestamp"], dt.datetime)
    assert version["OutputConfig"] == {"S3Bucket": bucket, "S3KeyPrefix": "output/"}
    assert version["TrainingDataResult"]["Input"] == _assets(bucket, manifest)
    assert version["TestingDataResult"]["Input"] == {"AutoCreate": True}
    assert version["KmsKeyId"] == key_arn
    assert version["VersionDescription"] == "first model (seed options): all set"
    assert version["Feature"] == "CUSTOM_LABELS"
    assert rekognition.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"stage": "test", "owner": "ci"}

    rekognition.tag_resource(ResourceArn=arn, Tags={"extra": "1", "stage": "prod"})
    rekognition.untag_resource(ResourceArn=arn, TagKeys=["owner"])
    assert rekognition.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"stage": "prod", "extra": "1"}


def test_content_moderation_version_keeps_feature_config(rekognition, s3, bucket: str, unique: str) -> None:  # type: ignore[no-untyped-def]
    manifest = upload_classification_set(s3, bucket, "cm/", ["red", "blue"], per_label=2)
    project = rekognition.create_project(ProjectName=f"adapter-{unique}", Feature="CONTENT_MODERATION",
                                         AutoUpdate="DISABLED")["ProjectArn"]
    rekognition.create_project_version(
        ProjectArn=project, VersionName="a1", OutputConfig={"S3Bucket": bucket},
        TrainingData=_assets(bucket, manifest), TestingData={"AutoCreate": True},
        FeatureConfig={"ContentModeration": {"ConfidenceThreshold": 50.0}},
    )
    version = rekognition.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"][0]
    assert version["FeatureConfig"] == {"ContentModeration": {"ConfidenceThreshold": 50.0}}
    assert version["Feature"] == "CONTENT_MODERATION"


def test_paginates_25_versions_newest_first(rekognition, s3, bucket: str, unique: str) -> None:  # type: ignore[no-untyped-def]
    s3.put_object(Bucket=bucket, Key="m.manifest", Body=b"{}")
    project = rekognition.create_project(ProjectName=f"page-{unique}")["ProjectArn"]
    created = []
    for i in range(25):
        created.append(rekognition.create_project_version(
            ProjectArn=project, VersionName=f"v{i:02d}", OutputConfig={"S3Bucket": bucket},
            TrainingData=_assets(bucket, "m.manifest"), TestingData={"AutoCreate": True},
        )["ProjectVersionArn"])
    pages = []
    token = None
    while True:
        kwargs = {"ProjectArn": project, "MaxResults": 10}
        if token:
            kwargs["NextToken"] = token
        response = rekognition.describe_project_versions(**kwargs)
        pages.append([v["ProjectVersionArn"] for v in response["ProjectVersionDescriptions"]])
        token = response.get("NextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [10, 10, 5]
    flat = [arn for p in pages for arn in p]
    assert flat == list(reversed(created))
    # the stock paginator walks the same pages
    paginator = rekognition.get_paginator("describe_project_versions")
    walked = [v["ProjectVersionArn"] for page in paginator.paginate(ProjectArn=project, PaginationConfig={"PageSize": 7})
              for v in page["ProjectVersionDescriptions"]]
    assert walked == flat
    named = rekognition.describe_project_versions(ProjectArn=project, VersionNames=["v03", "v07"])
    assert sorted(v["ProjectVersionArn"].split("/")[-2] for v in named["ProjectVersionDescriptions"]) == ["v03", "v07"]


def test_delete_version_then_project(rekognition, s3, bucket: str, unique: str) -> None:  # type: ignore[no-untyped-def]
    import time

    s3.put_object(Bucket=bucket, Key="gone.manifest", Body=b"{}")
    project = rekognition.create_project(ProjectName=f"del-{unique}")["ProjectArn"]
    arn = rekognition.create_project_version(
        ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": bucket},
        TrainingData=_assets(bucket, "missing.manifest"), TestingData={"AutoCreate": True},
    )["ProjectVersionArn"]
    deadline = time.monotonic() + 60
    status = "TRAINING_IN_PROGRESS"
    while status == "TRAINING_IN_PROGRESS" and time.monotonic() < deadline:
        try:
            rekognition.delete_project_version(ProjectVersionArn=arn)
            status = "DELETED"
        except rekognition.exceptions.ResourceInUseException as err:
            assert "training" in str(err)
            time.sleep(0.3)
    assert status == "DELETED"
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException):
        rekognition.delete_project_version(ProjectVersionArn=arn)
    assert rekognition.delete_project(ProjectArn=project)["Status"] == "DELETING"
