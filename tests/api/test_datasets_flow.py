"""AWS's documented dataset workflow through a real server and stock boto3, end to end: create a
project; TRAIN from a manifest; an empty TEST filled by DistributeDatasetEntries; TEST datasets made by
copying others; UpdateDatasetEntries; every ListDatasetEntries filter; ListDatasetLabels; stats; train
from datasets; serve; CopyProjectVersion into a second project; delete everything in AWS's order."""

from __future__ import annotations

import json

from tests.support.datasets import all_entries, wait_dataset, wait_version
from tests.support.images import classification_line, shape_image, upload_classification_set
from tests.support.stores import server_objects

LABELS = ["red", "blue", "green"]
MODELS = ".openrek-models"
FAST = {"Delay": 1, "MaxAttempts": 300}


def test_dataset_workflow_train_serve_copy(rekognition, s3, unique: str, server_process) -> None:  # type: ignore[no-untyped-def]
    bucket = f"ds-{unique}"
    s3.create_bucket(Bucket=bucket)
    manifest = upload_classification_set(s3, bucket, "set/", LABELS, per_label=10, size=64)
    project = rekognition.create_project(ProjectName=f"ds-{unique}")["ProjectArn"]
    described = rekognition.describe_projects(ProjectNames=[f"ds-{unique}"])["ProjectDescriptions"][0]
    assert described["Datasets"] == []

    # TRAIN from a manifest; TEST created empty, then filled by DistributeDatasetEntries.
    train = rekognition.create_dataset(
        ProjectArn=project, DatasetType="TRAIN", Tags={"team": "vision"},
        DatasetSource={"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": manifest}}})["DatasetArn"]
    assert f":project/ds-{unique}/dataset/train/" in train
    assert rekognition.list_tags_for_resource(ResourceArn=train)["Tags"] == {"team": "vision"}
    desc = wait_dataset(rekognition, train)
    assert desc["Status"] == "CREATE_COMPLETE", desc
    assert desc["StatusMessageCode"] == "SUCCESS"
    assert desc["DatasetStats"] == {"LabeledEntries": 30, "TotalEntries": 30, "TotalLabels": 3, "ErrorEntries": 0}
    test = rekognition.create_dataset(ProjectArn=project, DatasetType="TEST")["DatasetArn"]
    assert wait_dataset(rekognition, test)["DatasetStats"]["TotalEntries"] == 0
    rekognition.distribute_dataset_entries(Datasets=[{"Arn": train}, {"Arn": test}])
    train_desc, test_desc = wait_dataset(rekognition, train), wait_dataset(rekognition, test)
    assert train_desc["Status"] == test_desc["Status"] == "UPDATE_COMPLETE"
    assert train_desc["DatasetStats"]["TotalEntries"] == 24 and test_desc["DatasetStats"]["TotalEntries"] == 6
    test_labels = {lab["LabelName"]: lab["LabelStats"]
                   for lab in rekognition.list_dataset_labels(DatasetArn=test)["DatasetLabelDescriptions"]}
    assert test_labels == {name: {"EntryCount": 2, "BoundingBoxCount": 0} for name in LABELS}
    projects = rekognition.describe_projects(ProjectNames=[f"ds-{unique}"])["ProjectDescriptions"]
    meta = {d["DatasetType"]: d for d in projects[0]["Datasets"]}
    assert meta["TRAIN"]["DatasetArn"] == train and meta["TEST"]["DatasetArn"] == test
    assert meta["TRAIN"]["Status"] == "UPDATE_COMPLETE" and "CreationTimestamp" in meta["TRAIN"]

    # UpdateDatasetEntries: two new labelled images, one relabelled, one unlabelled, one broken.
    for i, label in enumerate(["red", "blue"]):
        s3.put_object(Bucket=bucket, Key=f"new/{label}-{i}.jpg", Body=shape_image(label, 900 + i, size=64))
    s3.put_object(Bucket=bucket, Key="new/unlabelled.jpg", Body=shape_image("green", 950, size=64))
    s3.put_object(Bucket=bucket, Key="new/broken.jpg", Body=b"not an image at all")
    relabelled = all_entries(rekognition, train, ContainsLabels=["green"])[0]["source-ref"]
    _, _, rel_bucket_key = relabelled.partition("s3://")
    rel_key = rel_bucket_key.split("/", 1)[1]
    changes = "\n".join([
        classification_line(bucket, "new/red-0.jpg", "red"),
        classification_line(bucket, "new/blue-1.jpg", "blue"),
        classification_line(bucket, rel_key, "yellow"),
        json.dumps({"source-ref": f"s3://{bucket}/new/unlabelled.jpg"}),
        classification_line(bucket, "new/broken.jpg", "red"),
    ])
    rekognition.update_dataset_entries(DatasetArn=train, Changes={"GroundTruth": changes.encode()})
    desc = wait_dataset(rekognition, train)
    assert desc["Status"] == "UPDATE_COMPLETE", desc
    stats = desc["DatasetStats"]
    assert stats == {"LabeledEntries": 27, "TotalEntries": 28, "TotalLabels": 4, "ErrorEntries": 1}, stats

    # ListDatasetEntries: every filter, and paging.
    everything = all_entries(rekognition, train, page_size=5)
    assert len(everything) == 28 and len({e["source-ref"] for e in everything}) == 28
    assert {e["source-ref"] for e in all_entries(rekognition, train, Labeled=False)} == {
        f"s3://{bucket}/new/unlabelled.jpg"}
    assert len(all_entries(rekognition, train, Labeled=True)) == 27
    broken = all_entries(rekognition, train, HasErrors=True)
    assert [e["source-ref"] for e in broken] == [f"s3://{bucket}/new/broken.jpg"]
    assert broken[0]["errors"] or broken[0].get("label-metadata", {}).get("errors")
    assert len(all_entries(rekognition, train, HasErrors=False)) == 27
    yellow = all_entries(rekognition, train, ContainsLabels=["yellow"])
    assert [e["source-ref"] for e in yellow] == [relabelled]
    assert yellow[0]["label-metadata"]["class-name"] == "yellow"
    reds = all_entries(rekognition, train, ContainsLabels=["red", "yellow"])
    assert all(e["label-metadata"]["class-name"] in {"red", "yellow"} for e in reds)
    assert {e["source-ref"] for e in all_entries(rekognition, train, SourceRefContains="new/")} == {
        f"s3://{bucket}/new/{n}" for n in ("red-0.jpg", "blue-1.jpg", "unlabelled.jpg", "broken.jpg")}
    assert all_entries(rekognition, train, SourceRefContains="new/", Labeled=True, HasErrors=False,
                       ContainsLabels=["blue"])[0]["source-ref"] == f"s3://{bucket}/new/blue-1.jpg"
    labels = {lab["LabelName"]: lab["LabelStats"]["EntryCount"]
              for lab in rekognition.list_dataset_labels(DatasetArn=train)["DatasetLabelDescriptions"]}
    assert labels == {"red": 10, "blue": 9, "green": 7, "yellow": 1}, labels
    first = rekognition.list_dataset_labels(DatasetArn=train, MaxResults=3)
    second = rekognition.list_dataset_labels(DatasetArn=train, MaxResults=3, NextToken=first["NextToken"])
    assert len(first["DatasetLabelDescriptions"]) == 3 and len(second["DatasetLabelDescriptions"]) == 1
    assert "NextToken" not in second

    # A second project whose datasets are copies of the first's.
    other = rekognition.create_project(ProjectName=f"ds2-{unique}")["ProjectArn"]
    train2 = rekognition.create_dataset(ProjectArn=other, DatasetType="TRAIN",
                                        DatasetSource={"DatasetArn": train})["DatasetArn"]
    test2 = rekognition.create_dataset(ProjectArn=other, DatasetType="TEST",
                                       DatasetSource={"DatasetArn": test})["DatasetArn"]
    assert wait_dataset(rekognition, train2)["DatasetStats"] == stats
    assert wait_dataset(rekognition, test2)["DatasetStats"]["TotalEntries"] == 6
    assert {e["source-ref"] for e in all_entries(rekognition, test2)} == {
        e["source-ref"] for e in all_entries(rekognition, test)}

    # Train from the datasets: no TrainingData / TestingData at all (AWS's own train_model program).
    version = rekognition.create_project_version(
        ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": bucket, "S3KeyPrefix": "out/"},
    )["ProjectVersionArn"]
    # Editing a dataset now changes no trained version: the job trains on a snapshot.
    rekognition.update_dataset_entries(DatasetArn=train, Changes={"GroundTruth": classification_line(
        bucket, "new/red-0.jpg", "green").encode()})
    wait_version(rekognition, project, "v1", {"TRAINING_COMPLETED", "TRAINING_FAILED"})
    described = rekognition.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"][0]
    assert described["Status"] == "TRAINING_COMPLETED", described["StatusMessage"]
    assert described["TrainingDataResult"]["Input"] == {}
    assert described["TestingDataResult"]["Input"] == {"AutoCreate": False}
    assert described["TrainingDataResult"]["Output"]["Assets"]
    assert described["EvaluationResult"]["F1Score"] > 0.5
    summary_ref = described["EvaluationResult"]["Summary"]["S3Object"]
    summary = json.loads(s3.get_object(Bucket=summary_ref["Bucket"], Key=summary_ref["Name"])["Body"].read())
    details = summary["EvaluationDetails"]
    assert details["NumberOfTestingImages"] == 6
    assert details["NumberOfTrainingImages"] == 26  # 28 entries less the unlabelled and the broken one

    rekognition.start_project_version(ProjectVersionArn=version, MinInferenceUnits=1)
    rekognition.get_waiter("project_version_running").wait(ProjectArn=project, VersionNames=["v1"],
                                                          WaiterConfig=FAST)
    found = rekognition.detect_custom_labels(ProjectVersionArn=version, MinConfidence=0,
                                             Image={"Bytes": shape_image("blue", 4242, size=64)})
    assert found["CustomLabels"]

    # Copy the version into the second project; the copy serves after the source is gone.
    copy = rekognition.copy_project_version(
        SourceProjectArn=project, SourceProjectVersionArn=version, DestinationProjectArn=other,
        VersionName="copied", OutputConfig={"S3Bucket": bucket, "S3KeyPrefix": "copy/"},
        Tags={"copied": "yes"})["ProjectVersionArn"]
    assert f":project/ds2-{unique}/version/copied/" in copy
    copied = wait_version(rekognition, other, "copied", {"COPYING_COMPLETED", "COPYING_FAILED"})
    assert copied["Status"] == "COPYING_COMPLETED", copied["StatusMessage"]
    assert copied["SourceProjectVersionArn"] == version
    assert copied["EvaluationResult"]["F1Score"] == described["EvaluationResult"]["F1Score"]
    assert copied["OutputConfig"] == {"S3Bucket": bucket, "S3KeyPrefix": "copy/"}
    assert rekognition.list_tags_for_resource(ResourceArn=copy)["Tags"] == {"copied": "yes"}
    rekognition.stop_project_version(ProjectVersionArn=version)
    wait_version(rekognition, project, "v1", {"STOPPED"})
    models = server_objects(server_process.data_dir)
    files = {o.key.split("/", 3)[-1].split("/")[0] for o in models.list_objects(MODELS, f"ds-{unique}/v1/")}
    assert {"model.onnx", "model.json", "images", "test-images", "datasets"} <= files, files
    rekognition.delete_project_version(ProjectVersionArn=version)
    assert list(models.list_objects(MODELS, f"ds-{unique}/v1/")) == []  # the model, image copies, snapshot
    rekognition.start_project_version(ProjectVersionArn=copy, MinInferenceUnits=1)
    rekognition.get_waiter("project_version_running").wait(ProjectArn=other, VersionNames=["copied"],
                                                          WaiterConfig=FAST)
    again = rekognition.detect_custom_labels(ProjectVersionArn=copy, MinConfidence=0,
                                             Image={"Bytes": shape_image("blue", 4242, size=64)})
    assert again["CustomLabels"] == found["CustomLabels"]
    rekognition.stop_project_version(ProjectVersionArn=copy)
    wait_version(rekognition, other, "copied", {"STOPPED"})

    # Delete everything in AWS's order: models, datasets, projects.
    rekognition.delete_project_version(ProjectVersionArn=copy)
    for arn in (train, test, train2, test2):
        rekognition.delete_dataset(DatasetArn=arn)
    assert rekognition.describe_projects(ProjectNames=[f"ds-{unique}"])["ProjectDescriptions"][0]["Datasets"] == []
    for arn in (project, other):
        assert rekognition.delete_project(ProjectArn=arn)["Status"] == "DELETING"
    assert rekognition.describe_projects(ProjectNames=[f"ds-{unique}", f"ds2-{unique}"])["ProjectDescriptions"] == []
