"""The whole Custom Labels journey through a real server and stock boto3: upload, train, evaluate,
read the output files, start the model, detect labels, stop it; and the waiter's failure path."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import WaiterError

from tests.support.images import shape_image, upload_classification_set

FAST = {"Delay": 1, "MaxAttempts": 300}


def _assets(bucket: str, key: str) -> dict:
    return {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": key}}}]}


def test_train_evaluate_serve_classification(rekognition, s3, unique: str) -> None:  # type: ignore[no-untyped-def]
    bucket = f"flow-{unique}"
    s3.create_bucket(Bucket=bucket)
    manifest = upload_classification_set(s3, bucket, "set/", ["red", "blue", "green"], per_label=12, size=64)
    project = rekognition.create_project(ProjectName=f"flow-{unique}")["ProjectArn"]
    arn = rekognition.create_project_version(
        ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": bucket, "S3KeyPrefix": "out/"},
        TrainingData=_assets(bucket, manifest), TestingData={"AutoCreate": True},
    )["ProjectVersionArn"]
    rekognition.get_waiter("project_version_training_completed").wait(
        ProjectArn=project, VersionNames=["v1"], WaiterConfig=FAST)

    version = rekognition.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"][0]
    assert version["Status"] == "TRAINING_COMPLETED"
    assert version["StatusMessage"] == "The model is ready to run."
    assert 0.5 < version["EvaluationResult"]["F1Score"] <= 1.0
    assert version["BillableTrainingTimeInSeconds"] >= 0
    assert version["TrainingEndTimestamp"] >= version["CreationTimestamp"]
    summary_ref = version["EvaluationResult"]["Summary"]["S3Object"]
    assert summary_ref["Bucket"] == bucket
    summary = json.loads(s3.get_object(Bucket=bucket, Key=summary_ref["Name"])["Body"].read())
    assert {e["Label"] for e in summary["LabelEvaluationResults"]} == {"red", "blue", "green"}
    manifest_summary = version["ManifestSummary"]["S3Object"]
    assert manifest_summary["Name"].startswith("out/")
    assert version["TrainingDataResult"]["Output"]["Assets"]
    assert version["TestingDataResult"]["Output"]["Assets"]
    assert version["TestingDataResult"]["Validation"]["Assets"]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="out/")["Contents"]}
    for name in ("EvaluationResultSummary", "ManifestSummary", "TrainingGroundTruth", "TestingGroundTruth",
                 "TrainingManifestWithValidation", "TestingManifestWithValidation"):
        assert any(name in k for k in keys), (name, keys)

    with pytest.raises(rekognition.exceptions.ResourceNotReadyException):
        rekognition.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": shape_image("red", 1)})
    assert rekognition.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)["Status"] == "STARTING"
    rekognition.get_waiter("project_version_running").wait(ProjectArn=project, VersionNames=["v1"],
                                                          WaiterConfig=FAST)
    correct = 0
    for i, label in enumerate(["red", "blue", "green"] * 3):
        found = rekognition.detect_custom_labels(ProjectVersionArn=arn, MinConfidence=0,
                                                 Image={"Bytes": shape_image(label, 5000 + i, size=64)})
        labels = found["CustomLabels"]
        assert labels and all(0 <= entry["Confidence"] <= 100 for entry in labels)
        correct += labels[0]["Name"] == label
    assert correct >= 5  # above chance (3 of 9)
    s3.put_object(Bucket=bucket, Key="probe.png", Body=shape_image("blue", 77, fmt="PNG"))
    by_ref = rekognition.detect_custom_labels(ProjectVersionArn=arn, MinConfidence=0, MaxResults=1,
                                              Image={"S3Object": {"Bucket": bucket, "Name": "probe.png"}})
    assert len(by_ref["CustomLabels"]) == 1
    with pytest.raises(rekognition.exceptions.InvalidImageFormatException):
        rekognition.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": b"GIF89a not really"})
    with pytest.raises(rekognition.exceptions.ImageTooLargeException):
        rekognition.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": b"\xff" * (4 * 1024 * 1024 + 1)})
    with pytest.raises(rekognition.exceptions.InvalidS3ObjectException):
        rekognition.detect_custom_labels(ProjectVersionArn=arn, Image={"S3Object": {"Bucket": bucket, "Name": "nope"}})
    with pytest.raises(rekognition.exceptions.ResourceInUseException):
        rekognition.delete_project_version(ProjectVersionArn=arn)
    assert rekognition.stop_project_version(ProjectVersionArn=arn)["Status"] == "STOPPING"
    status = rekognition.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"][0]["Status"]
    assert status in {"STOPPING", "STOPPED"}


def test_training_waiter_failure_path(rekognition, s3, unique: str) -> None:  # type: ignore[no-untyped-def]
    bucket = f"fail-{unique}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="broken.manifest", Body=b"this is not json\n{also not}\n")
    project = rekognition.create_project(ProjectName=f"fail-{unique}")["ProjectArn"]
    rekognition.create_project_version(
        ProjectArn=project, VersionName="bad", OutputConfig={"S3Bucket": bucket},
        TrainingData=_assets(bucket, "broken.manifest"), TestingData={"AutoCreate": True},
    )
    with pytest.raises(WaiterError) as err:
        rekognition.get_waiter("project_version_training_completed").wait(
            ProjectArn=project, VersionNames=["bad"], WaiterConfig=FAST)
    assert "TRAINING_FAILED" in str(err.value)
    version = rekognition.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"][0]
    assert version["Status"] == "TRAINING_FAILED"
    assert "broken.manifest" in version["StatusMessage"]
