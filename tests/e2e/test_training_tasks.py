"""Multi-label and detection train through a real server to TRAINING_COMPLETED and detect above chance
(the exported detector, run by docs/model-export.md's snippet, finds the same boxes); a manifest with
30 % broken lines fails with AWS's code and leaves no model behind."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.clients import client
from tests.support.exported_model import assert_same_labels, snippet
from tests.support.server import ServerProcess
from tests.support.stores import server_objects
from tests.training.shapes import detection_examples, multilabel_examples, png_bytes, write_manifest

FAST = {"Delay": 1, "MaxAttempts": 300}
QUICK_DETECTOR = {"detector_image_size": 128, "detector_max_seconds": 90}


class S3Uploads:
    """Lets the shared manifest writer upload through the server's real S3 endpoint."""

    def __init__(self, s3) -> None:  # type: ignore[no-untyped-def]
        self.s3 = s3

    def put_object(self, bucket: str, key: str, data: bytes, content_type: str | None = None) -> None:
        self.s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type or "binary/octet-stream")


@pytest.fixture(scope="module")
def quick_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("tasks") / "data",
                           env={"OPENREK_TRAINING_BUDGET_S": "90",
                                "OPENREK_TRAINING_OPTIONS": json.dumps(QUICK_DETECTOR)})
    with server:
        yield server


def _assets(bucket: str, key: str) -> dict:
    return {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": key}}}]}


def _train(rek, project: str, bucket: str, train_key: str, test_key: str) -> dict:  # type: ignore[no-untyped-def]
    rek.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": bucket},
                               TrainingData=_assets(bucket, train_key), TestingData=_assets(bucket, test_key))
    rek.get_waiter("project_version_training_completed").wait(ProjectArn=project, VersionNames=["v1"],
                                                             WaiterConfig=FAST)
    return rek.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"][0]


def _serve(rek, project: str, arn: str) -> None:  # type: ignore[no-untyped-def]
    rek.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)
    rek.get_waiter("project_version_running").wait(ProjectArn=project, VersionNames=["v1"], WaiterConfig=FAST)


def test_multi_label_trains_and_detects_above_chance(quick_server: ServerProcess) -> None:
    rek, s3 = client("rekognition", quick_server.endpoint), client("s3", quick_server.endpoint)
    s3.create_bucket(Bucket="multi")
    write_manifest(S3Uploads(s3), "multi", "train.manifest", multilabel_examples(60, seed=1), "train")
    write_manifest(S3Uploads(s3), "multi", "test.manifest", multilabel_examples(20, seed=2), "test")
    project = rek.create_project(ProjectName="multi")["ProjectArn"]
    version = _train(rek, project, "multi", "train.manifest", "test.manifest")
    assert version["Status"] == "TRAINING_COMPLETED" and version["EvaluationResult"]["F1Score"] > 0.5
    _serve(rek, project, version["ProjectVersionArn"])
    new = multilabel_examples(12, seed=3)
    hits = total = 0
    for ex in new:
        found = {c["Name"] for c in rek.detect_custom_labels(ProjectVersionArn=version["ProjectVersionArn"],
                                                             Image={"Bytes": png_bytes(ex.image)})["CustomLabels"]}
        hits += len(found & set(ex.labels))
        total += len(ex.labels)
    assert hits / total > 0.5, (hits, total)
    rek.stop_project_version(ProjectVersionArn=version["ProjectVersionArn"])


@pytest.mark.slow
def test_detection_trains_and_finds_boxes(quick_server: ServerProcess, tmp_path: Path) -> None:
    rek, s3 = client("rekognition", quick_server.endpoint), client("s3", quick_server.endpoint)
    s3.create_bucket(Bucket="boxes")
    write_manifest(S3Uploads(s3), "boxes", "train.manifest", detection_examples(40, seed=31), "train", detection=True)
    write_manifest(S3Uploads(s3), "boxes", "test.manifest", detection_examples(12, seed=32), "test", detection=True)
    project = rek.create_project(ProjectName="boxes")["ProjectArn"]
    version = _train(rek, project, "boxes", "train.manifest", "test.manifest")
    assert version["Status"] == "TRAINING_COMPLETED" and version["EvaluationResult"]["F1Score"] >= 0.5
    _serve(rek, project, version["ProjectVersionArn"])
    found_any = 0
    for ex in detection_examples(8, seed=33):
        labels = rek.detect_custom_labels(ProjectVersionArn=version["ProjectVersionArn"],
                                          Image={"Bytes": png_bytes(ex.image)})["CustomLabels"]
        for label in labels:
            box = label["Geometry"]["BoundingBox"]
            assert all(0.0 <= box[k] <= 1.0 for k in ("Width", "Height", "Left", "Top"))
        found_any += bool(labels)
    assert found_any >= 5
    # The exported detector, run by the documented snippet, finds the same boxes.
    onnx_path = tmp_path / "detector.onnx"
    done = subprocess.run([sys.executable, "-m", "openrek.cli.main", "--endpoint-url", quick_server.endpoint,
                           "models", "export", "--project-version-arn", version["ProjectVersionArn"],
                           "--output", str(onnx_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    code = snippet()
    session, meta = code["load_model"](str(onnx_path), str(tmp_path / "detector.json"))
    assert meta["task"] == "detection" and meta["input"]["batch"] == 1
    compared = 0
    for ex in detection_examples(4, seed=33):
        data = png_bytes(ex.image)
        for confidence in (None, 0):
            params = {} if confidence is None else {"MinConfidence": confidence}
            served = rek.detect_custom_labels(ProjectVersionArn=version["ProjectVersionArn"],
                                              Image={"Bytes": data}, **params)["CustomLabels"]
            local = code["detect_custom_labels"](session, meta, io.BytesIO(data), min_confidence=confidence)
            assert_same_labels(served, local, f"detection, MinConfidence={confidence}")
            compared += len(served)
    assert compared >= 4
    rek.stop_project_version(ProjectVersionArn=version["ProjectVersionArn"])


def test_thirty_percent_broken_lines_fail_and_write_no_model(quick_server: ServerProcess) -> None:
    rek, s3 = client("rekognition", quick_server.endpoint), client("s3", quick_server.endpoint)
    s3.create_bucket(Bucket="broken")
    write_manifest(S3Uploads(s3), "broken", "good.manifest", multilabel_examples(14, seed=5), "img")
    good = s3.get_object(Bucket="broken", Key="good.manifest")["Body"].read().decode().splitlines()
    lines = good + ["{not json"] * 6  # 6 of 20 lines = 30 %
    s3.put_object(Bucket="broken", Key="train.manifest", Body="\n".join(lines).encode())
    project = rek.create_project(ProjectName="broken")["ProjectArn"]
    rek.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": "broken"},
                               TrainingData=_assets("broken", "train.manifest"), TestingData={"AutoCreate": True})
    with pytest.raises(Exception, match="TRAINING_FAILED"):
        rek.get_waiter("project_version_training_completed").wait(ProjectArn=project, VersionNames=["v1"],
                                                                 WaiterConfig=FAST)
    version = rek.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"][0]
    assert version["Status"] == "TRAINING_FAILED"
    assert "ERROR_TOO_MANY_INVALID_ROWS_IN_MANIFEST" in version["StatusMessage"]
    assert "EvaluationResult" not in version
    store = server_objects(quick_server.data_dir)
    assert not [o.key for o in store.list_objects(".openrek-models", prefix="broken/")]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="broken").get("Contents", [])}
    assert not any("EvaluationResultSummary" in k for k in keys)
    with pytest.raises(rek.exceptions.ResourceNotReadyException):
        rek.start_project_version(ProjectVersionArn=version["ProjectVersionArn"], MinInferenceUnits=1)


def test_content_moderation_adapter_trains(quick_server: ServerProcess) -> None:
    from tests.support.images import shape_image

    rek, s3 = client("rekognition", quick_server.endpoint), client("s3", quick_server.endpoint)
    s3.create_bucket(Bucket="moderation")
    names = {"red": "Rude Gesture", "blue": "Alcohol"}
    lines = []
    for i in range(36):
        colour = ["red", "blue", "green"][i % 3]
        key = f"img/{i}.jpg"
        s3.put_object(Bucket="moderation", Key=key, Body=shape_image(colour, i, size=96))
        found = [{"Name": names[colour]}] if colour in names else []  # green = a safe image
        lines.append(json.dumps({"source-ref": f"s3://moderation/{key}",
                                 "content-moderation-groundtruth": {"ModerationLabels": found}}))
    s3.put_object(Bucket="moderation", Key="train.manifest", Body="\n".join(lines).encode())
    project = rek.create_project(ProjectName="adapter", Feature="CONTENT_MODERATION",
                                 AutoUpdate="DISABLED")["ProjectArn"]
    rek.create_project_version(ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": "moderation"},
                               TrainingData=_assets("moderation", "train.manifest"), TestingData={"AutoCreate": True},
                               FeatureConfig={"ContentModeration": {"ConfidenceThreshold": 50}})
    rek.get_waiter("project_version_training_completed").wait(ProjectArn=project, VersionNames=["v1"],
                                                             WaiterConfig=FAST)
    version = rek.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"][0]
    assert version["Feature"] == "CONTENT_MODERATION"
    assert version["EvaluationResult"]["F1Score"] > 0.5
    summary_ref = version["EvaluationResult"]["Summary"]["S3Object"]
    summary = json.loads(s3.get_object(Bucket=summary_ref["Bucket"], Key=summary_ref["Name"])["Body"].read())
    assert {e["Label"] for e in summary["LabelEvaluationResults"]} == {"Rude Gesture", "Alcohol"}
