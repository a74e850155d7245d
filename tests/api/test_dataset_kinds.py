"""Datasets of every Ground Truth form training reads (object detection, multi-label in AWS's transform
form), their label and box statistics; and a dataset job that survives kill -9 of the server."""

from __future__ import annotations

import json

from tests.support.clients import client
from tests.support.datasets import all_entries, wait_dataset
from tests.support.images import shape_image
from tests.support.server import ServerProcess


def _detection_line(bucket: str, key: str, boxes: list[tuple[str, int]]) -> str:
    names = sorted({name for name, _ in boxes})
    return json.dumps({
        "source-ref": f"s3://{bucket}/{key}",
        "boxes": {"image_size": [{"width": 96, "height": 96, "depth": 3}],
                  "annotations": [{"class_id": names.index(name), "left": 4 + 20 * i, "top": 8, "width": 16 + off,
                                   "height": 20} for i, (name, off) in enumerate(boxes)]},
        "boxes-metadata": {"objects": [{"confidence": 1} for _ in boxes],
                           "class-map": {str(i): n for i, n in enumerate(names)},
                           "type": "groundtruth/object-detection", "human-annotated": "yes",
                           "creation-date": "2026-11-27T00:00:00", "job-name": "labeling-job/boxes"},
    })


def _transform_line(bucket: str, key: str, labels: list[str]) -> str:
    line: dict = {"source-ref": f"s3://{bucket}/{key}"}
    for i, label in enumerate(labels):
        line[f"job{i}"] = i
        line[f"job{i}-metadata"] = {"confidence": 1, "class-name": label, "human-annotated": "yes",
                                    "creation-date": "2026-11-27T00:00:00",
                                    "type": "groundtruth/image-classification-multilabel", "job-name": "labels"}
    return json.dumps(line)


def test_detection_and_multilabel_datasets(rekognition, s3, unique: str) -> None:  # type: ignore[no-untyped-def]
    bucket = f"dsk-{unique}"
    s3.create_bucket(Bucket=bucket)
    for i in range(4):
        s3.put_object(Bucket=bucket, Key=f"{i}.jpg", Body=shape_image("red", i))
    detection = [_detection_line(bucket, "0.jpg", [("cat", 0), ("dog", 1), ("dog", 2)]),
                 _detection_line(bucket, "1.jpg", [("cat", 0)]),
                 _detection_line(bucket, "2.jpg", [("dog", 0), ("cat", 3)])]
    s3.put_object(Bucket=bucket, Key="boxes.manifest", Body="\n".join(detection).encode())
    project = rekognition.create_project(ProjectName=f"dsk-{unique}")["ProjectArn"]
    arn = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource={
        "GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": "boxes.manifest"}}})["DatasetArn"]
    desc = wait_dataset(rekognition, arn)
    assert desc["Status"] == "CREATE_COMPLETE", desc
    assert desc["DatasetStats"] == {"LabeledEntries": 3, "TotalEntries": 3, "TotalLabels": 2, "ErrorEntries": 0}
    labels = {d["LabelName"]: d["LabelStats"] for d in
              rekognition.list_dataset_labels(DatasetArn=arn)["DatasetLabelDescriptions"]}
    assert labels == {"cat": {"EntryCount": 3, "BoundingBoxCount": 3}, "dog": {"EntryCount": 2, "BoundingBoxCount": 3}}
    assert [e["source-ref"] for e in all_entries(rekognition, arn, ContainsLabels=["dog"])] == [
        f"s3://{bucket}/0.jpg", f"s3://{bucket}/2.jpg"]
    # The dataset is an object-detection one now: an image-level line added later is kept with AWS's warning
    # (it is not used for training), and a line with a broken box is an entry with errors.
    s3.put_object(Bucket=bucket, Key="wide.jpg", Body=shape_image("red", 9))
    rekognition.update_dataset_entries(DatasetArn=arn, Changes={"GroundTruth": "\n".join([
        _detection_line(bucket, "3.jpg", [("dog", 0)]),
        _transform_line(bucket, "1.jpg", ["cat"]),
        _detection_line(bucket, "wide.jpg", [("dog", 200)]),
    ]).encode()})
    desc = wait_dataset(rekognition, arn)
    assert desc["Status"] == "UPDATE_COMPLETE", desc
    assert desc["DatasetStats"]["TotalEntries"] == 5 and desc["DatasetStats"]["ErrorEntries"] == 1
    broken = all_entries(rekognition, arn, HasErrors=True)
    assert [e["source-ref"] for e in broken] == [f"s3://{bucket}/wide.jpg"]
    assert "ERROR_" in json.dumps(broken[0]["boxes"]["annotations"][0]["errors"])
    relabelled = all_entries(rekognition, arn, SourceRefContains="/1.jpg")[0]
    assert "WARNING_NO_ANNOTATIONS" in json.dumps(relabelled["errors"])

    # Multi-label as AWS's published Ground Truth transform writes it.
    multi = [_transform_line(bucket, f"{i}.jpg", labels) for i, labels in
             enumerate([["sky", "sea"], ["sky"], ["sea", "sand"], ["sand"]])]
    s3.put_object(Bucket=bucket, Key="multi.manifest", Body="\n".join(multi).encode())
    other = rekognition.create_project(ProjectName=f"dsk2-{unique}")["ProjectArn"]
    marn = rekognition.create_dataset(ProjectArn=other, DatasetType="TRAIN", DatasetSource={
        "GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": "multi.manifest"}}})["DatasetArn"]
    desc = wait_dataset(rekognition, marn)
    assert desc["Status"] == "CREATE_COMPLETE", desc
    assert desc["DatasetStats"] == {"LabeledEntries": 4, "TotalEntries": 4, "TotalLabels": 3, "ErrorEntries": 0}
    counts = {d["LabelName"]: d["LabelStats"]["EntryCount"] for d in
              rekognition.list_dataset_labels(DatasetArn=marn)["DatasetLabelDescriptions"]}
    assert counts == {"sand": 2, "sea": 2, "sky": 2}


def test_a_dataset_job_survives_kill_9(fresh_server: ServerProcess) -> None:
    endpoint = fresh_server.start()
    rek, s3 = client("rekognition", endpoint), client("s3", endpoint)
    s3.create_bucket(Bucket="dss")
    lines = []
    for i in range(400):
        s3.put_object(Bucket="dss", Key=f"{i}.jpg", Body=shape_image("red" if i % 2 else "blue", i, size=64))
        lines.append(json.dumps({"source-ref": f"s3://dss/{i}.jpg", "c": 1, "c-metadata": {
            "confidence": 1, "class-name": "red" if i % 2 else "blue", "human-annotated": "yes",
            "creation-date": "2026-11-27T00:00:00", "type": "groundtruth/image-classification", "job-name": "j"}}))
    s3.put_object(Bucket="dss", Key="m.manifest", Body="\n".join(lines).encode())
    project = rek.create_project(ProjectName="survivor")["ProjectArn"]
    arn = rek.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource={
        "GroundTruthManifest": {"S3Object": {"Bucket": "dss", "Name": "m.manifest"}}})["DatasetArn"]
    fresh_server.kill()  # mid-creation, most likely; either way nothing may be lost or left in progress
    endpoint = fresh_server.start()
    rek = client("rekognition", endpoint)
    desc = wait_dataset(rek, arn)
    assert desc["Status"] == "CREATE_COMPLETE", desc
    assert desc["DatasetStats"] == {"LabeledEntries": 400, "TotalEntries": 400, "TotalLabels": 2, "ErrorEntries": 0}
    assert len(all_entries(rek, arn)) == 400
