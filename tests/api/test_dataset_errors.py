"""Every bad dataset, policy and copy request gets AWS's error (`__type`) with a message a person can act
on — and nothing already stored is lost: a failed create keeps nothing, a failed update keeps the old entries."""

from __future__ import annotations

import json

import pytest

from tests.support.datasets import all_entries, wait_dataset
from tests.support.images import classification_line, shape_image, upload_classification_set

POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                   "Action": "rekognition:CopyProjectVersion",
                   "Resource": "arn:aws:rekognition:us-east-1:000000000000:project/p/version/*/*"}],
})


def _error(exc_info: pytest.ExceptionInfo) -> tuple[str, str]:
    err = exc_info.value.response["Error"]
    return err["Code"], err["Message"]


@pytest.fixture
def project_with_train(rekognition, s3, unique: str):  # type: ignore[no-untyped-def]
    bucket = f"dse-{unique}"
    s3.create_bucket(Bucket=bucket)
    manifest = upload_classification_set(s3, bucket, "set/", ["red", "blue"], per_label=5, size=64)
    project = rekognition.create_project(ProjectName=f"dse-{unique}")["ProjectArn"]
    train = rekognition.create_dataset(
        ProjectArn=project, DatasetType="TRAIN",
        DatasetSource={"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": manifest}}})["DatasetArn"]
    assert wait_dataset(rekognition, train)["Status"] == "CREATE_COMPLETE"
    return bucket, manifest, project, train


def test_dataset_request_errors(rekognition, s3, project_with_train) -> None:  # type: ignore[no-untyped-def]
    bucket, manifest, project, train = project_with_train
    source = {"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": manifest}}}
    with pytest.raises(rekognition.exceptions.ResourceAlreadyExistsException) as exc:
        rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=source)
    assert "already has a TRAIN dataset" in _error(exc)[1]
    missing = train.rsplit("/", 1)[0] + "/1"
    for call in (lambda: rekognition.describe_dataset(DatasetArn=missing),
                 lambda: rekognition.list_dataset_entries(DatasetArn=missing),
                 lambda: rekognition.list_dataset_labels(DatasetArn=missing),
                 lambda: rekognition.delete_dataset(DatasetArn=missing),
                 lambda: rekognition.update_dataset_entries(DatasetArn=missing, Changes={"GroundTruth": b"{}"}),
                 lambda: rekognition.create_dataset(ProjectArn=project, DatasetType="TEST",
                                                    DatasetSource={"DatasetArn": missing})):
        with pytest.raises(rekognition.exceptions.ResourceNotFoundException):
            call()
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException):
        rekognition.create_dataset(ProjectArn=project.rsplit("/", 1)[0] + "/1", DatasetType="TEST")

    # Manifests are refused once the project has datasets; training needs both datasets, non-empty.
    with pytest.raises(rekognition.exceptions.InvalidParameterException) as exc:
        rekognition.create_project_version(
            ProjectArn=project, VersionName="manifests", OutputConfig={"S3Bucket": bucket},
            TrainingData={"Assets": [source]}, TestingData={"AutoCreate": True})
    assert "has datasets" in _error(exc)[1]
    with pytest.raises(rekognition.exceptions.InvalidParameterException) as exc:
        rekognition.create_project_version(ProjectArn=project, VersionName="v", OutputConfig={"S3Bucket": bucket})
    assert "no test dataset" in _error(exc)[1] and "DistributeDatasetEntries" in _error(exc)[1]
    test = rekognition.create_dataset(ProjectArn=project, DatasetType="TEST")["DatasetArn"]
    with pytest.raises(rekognition.exceptions.InvalidParameterException) as exc:
        rekognition.create_project_version(ProjectArn=project, VersionName="v", OutputConfig={"S3Bucket": bucket})
    assert "TEST dataset" in _error(exc)[1] and "is empty" in _error(exc)[1]

    # Distribute: one TRAIN and one TEST; the test set must be empty.
    with pytest.raises(rekognition.exceptions.InvalidParameterException):
        rekognition.distribute_dataset_entries(Datasets=[{"Arn": train}, {"Arn": train}])
    rekognition.update_dataset_entries(DatasetArn=test, Changes={"GroundTruth": classification_line(
        bucket, "set/images/red-0.jpg", "red").encode()})
    assert wait_dataset(rekognition, test)["Status"] == "UPDATE_COMPLETE"
    with pytest.raises(rekognition.exceptions.InvalidParameterException) as exc:
        rekognition.distribute_dataset_entries(Datasets=[{"Arn": train}, {"Arn": test}])
    assert "not empty" in _error(exc)[1]
    with pytest.raises(rekognition.exceptions.InvalidParameterException):
        rekognition.update_dataset_entries(DatasetArn=train, Changes={"GroundTruth": b"\n\n"})


def test_update_while_creating_is_refused(rekognition, s3, unique: str) -> None:  # type: ignore[no-untyped-def]
    bucket = f"dsc-{unique}"
    s3.create_bucket(Bucket=bucket)
    for i in range(2):
        s3.put_object(Bucket=bucket, Key=f"img/{i}.jpg", Body=shape_image("red", i, size=64))
    # Many lines (each image looked up) keep the dataset CREATE_IN_PROGRESS for a while; only two images exist.
    lines = [classification_line(bucket, f"img/{i}.jpg", "red" if i % 2 else "blue") for i in range(3000)]
    s3.put_object(Bucket=bucket, Key="big.manifest", Body="\n".join(lines).encode())
    project = rekognition.create_project(ProjectName=f"dsc-{unique}")["ProjectArn"]
    arn = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource={
        "GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": "big.manifest"}}})["DatasetArn"]
    with pytest.raises(rekognition.exceptions.ResourceInUseException) as exc:
        rekognition.update_dataset_entries(DatasetArn=arn, Changes={"GroundTruth": lines[0].encode()})
    assert "CREATE_IN_PROGRESS" in _error(exc)[1]
    with pytest.raises(rekognition.exceptions.ResourceNotReadyException):
        rekognition.list_dataset_entries(DatasetArn=arn)
    with pytest.raises(rekognition.exceptions.ResourceInUseException):
        rekognition.delete_dataset(DatasetArn=arn)
    # Nearly every image is missing: creation fails, and nothing half-made is kept.
    desc = wait_dataset(rekognition, arn, timeout=180)
    assert desc["Status"] == "CREATE_FAILED" and desc["StatusMessageCode"] == "CLIENT_ERROR"
    assert desc["StatusMessage"].startswith("ERROR_TOO_MANY_RECORDS_IN_ERROR")
    assert desc["DatasetStats"] == {"LabeledEntries": 0, "TotalEntries": 0, "TotalLabels": 0, "ErrorEntries": 0}
    with pytest.raises(rekognition.exceptions.ResourceNotReadyException):
        rekognition.list_dataset_entries(DatasetArn=arn)
    with pytest.raises(rekognition.exceptions.InvalidParameterException) as exc:
        rekognition.create_project_version(ProjectArn=project, VersionName="v", OutputConfig={"S3Bucket": bucket})
    test = rekognition.create_dataset(ProjectArn=project, DatasetType="TEST")["DatasetArn"]
    with pytest.raises(rekognition.exceptions.InvalidParameterException) as exc:
        rekognition.create_project_version(ProjectArn=project, VersionName="v", OutputConfig={"S3Bucket": bucket})
    assert "CREATE_FAILED" in _error(exc)[1] and "ERROR_TOO_MANY_RECORDS_IN_ERROR" in _error(exc)[1]
    rekognition.delete_dataset(DatasetArn=arn)
    rekognition.delete_dataset(DatasetArn=test)


def test_failed_create_and_update_keep_what_was_there(rekognition, s3, project_with_train) -> None:  # type: ignore[no-untyped-def]
    bucket, _manifest, project, train = project_with_train
    before = all_entries(rekognition, train)
    stats = rekognition.describe_dataset(DatasetArn=train)["DatasetDescription"]["DatasetStats"]
    broken = "\n".join(["not json", '{"no": "source-ref"}', classification_line(bucket, "missing.jpg", "red")])
    rekognition.update_dataset_entries(DatasetArn=train, Changes={"GroundTruth": broken.encode()})
    desc = wait_dataset(rekognition, train)
    assert desc["Status"] == "UPDATE_FAILED" and desc["StatusMessageCode"] == "CLIENT_ERROR"
    assert "ERROR_TOO_MANY_RECORDS_IN_ERROR" in desc["StatusMessage"]
    assert desc["DatasetStats"] == stats
    assert all_entries(rekognition, train) == before
    # One bad line is under the 20 % limit of the whole dataset, but an update that changes nothing fails.
    rekognition.update_dataset_entries(DatasetArn=train, Changes={"GroundTruth": b"not json"})
    desc = wait_dataset(rekognition, train)
    assert desc["Status"] == "UPDATE_FAILED" and "None of the 1 JSON Lines" in desc["StatusMessage"]
    assert all_entries(rekognition, train) == before
    # The aws CLI's shorthand `GroundTruth=fileb://x` sends the path itself: say how to send the file.
    with pytest.raises(rekognition.exceptions.InvalidParameterException) as exc:
        rekognition.update_dataset_entries(DatasetArn=train, Changes={"GroundTruth": b"fileb://changes.jsonl"})
    assert "GroundTruth@=fileb://" in _error(exc)[1]
    # A failed update may be followed by a good one.
    s3.put_object(Bucket=bucket, Key="late.jpg", Body=shape_image("red", 77, size=64))
    rekognition.update_dataset_entries(DatasetArn=train, Changes={"GroundTruth": classification_line(
        bucket, "late.jpg", "red").encode()})
    assert wait_dataset(rekognition, train)["DatasetStats"]["TotalEntries"] == stats["TotalEntries"] + 1

    # A manifest that cannot be read: CREATE_FAILED with AWS's file error, no entries.
    test = rekognition.create_dataset(ProjectArn=project, DatasetType="TEST", DatasetSource={
        "GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": "nope.manifest"}}})["DatasetArn"]
    desc = wait_dataset(rekognition, test)
    assert desc["Status"] == "CREATE_FAILED"
    assert desc["StatusMessage"].startswith("ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT")
    assert desc["DatasetStats"]["TotalEntries"] == 0
    meta = {d["DatasetType"]: d for d in
            rekognition.describe_projects(ProjectNames=[project.split("/")[-2]])["ProjectDescriptions"][0]["Datasets"]}
    assert meta["TEST"]["Status"] == "CREATE_FAILED" and meta["TEST"]["StatusMessageCode"] == "CLIENT_ERROR"
    with pytest.raises(rekognition.exceptions.InvalidParameterException) as exc:
        rekognition.create_project_version(ProjectArn=project, VersionName="v", OutputConfig={"S3Bucket": bucket})
    assert "CREATE_FAILED" in _error(exc)[1]


def test_distribute_needs_images_per_label(rekognition, s3, unique: str) -> None:  # type: ignore[no-untyped-def]
    bucket = f"dsd-{unique}"
    s3.create_bucket(Bucket=bucket)
    lines = []
    for i, label in enumerate(["red", "red", "red", "blue"]):
        s3.put_object(Bucket=bucket, Key=f"{i}.jpg", Body=shape_image(label, i, size=64))
        lines.append(classification_line(bucket, f"{i}.jpg", label))
    s3.put_object(Bucket=bucket, Key="m.manifest", Body="\n".join(lines).encode())
    project = rekognition.create_project(ProjectName=f"dsd-{unique}")["ProjectArn"]
    train = rekognition.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource={
        "GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": "m.manifest"}}})["DatasetArn"]
    test = rekognition.create_dataset(ProjectArn=project, DatasetType="TEST")["DatasetArn"]
    wait_dataset(rekognition, train)
    rekognition.distribute_dataset_entries(Datasets=[{"Arn": test}, {"Arn": train}])
    for arn in (train, test):
        desc = wait_dataset(rekognition, arn)
        assert desc["Status"] == "UPDATE_FAILED"
        assert desc["StatusMessage"].startswith("ERROR_INSUFFICIENT_IMAGES_PER_LABEL_FOR_DISTRIBUTE")
    assert rekognition.describe_dataset(DatasetArn=train)["DatasetDescription"]["DatasetStats"]["TotalEntries"] == 4


def test_project_policies(rekognition, unique: str) -> None:  # type: ignore[no-untyped-def]
    project = rekognition.create_project(ProjectName=f"pol-{unique}")["ProjectArn"]
    first = rekognition.put_project_policy(ProjectArn=project, PolicyName="trust", PolicyDocument=POLICY)
    revision = first["PolicyRevisionId"]
    assert revision and all(c in "0123456789abcdef" for c in revision)
    listed = rekognition.list_project_policies(ProjectArn=project)["ProjectPolicies"]
    assert [(p["PolicyName"], p["PolicyRevisionId"], p["PolicyDocument"]) for p in listed] == [
        ("trust", revision, POLICY)]
    assert listed[0]["ProjectArn"] == project and "LastUpdatedTimestamp" in listed[0]
    with pytest.raises(rekognition.exceptions.ResourceAlreadyExistsException):
        rekognition.put_project_policy(ProjectArn=project, PolicyName="trust", PolicyDocument=POLICY)
    with pytest.raises(rekognition.exceptions.InvalidPolicyRevisionIdException):
        rekognition.put_project_policy(ProjectArn=project, PolicyName="trust", PolicyDocument=POLICY,
                                       PolicyRevisionId="0123abcd")
    second = rekognition.put_project_policy(ProjectArn=project, PolicyName="trust", PolicyDocument=POLICY,
                                            PolicyRevisionId=revision)["PolicyRevisionId"]
    assert second != revision
    with pytest.raises(rekognition.exceptions.InvalidPolicyRevisionIdException) as exc:  # stale revision
        rekognition.put_project_policy(ProjectArn=project, PolicyName="trust", PolicyDocument=POLICY,
                                       PolicyRevisionId=revision)
    assert "ListProjectPolicies" in _error(exc)[1]
    for bad in ("{not json", "[]", json.dumps({"Version": "2012-10-17"}),
                json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Principal": "*",
                                                                    "Action": "rekognition:*"}]}),
                json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "x"}}),
                json.dumps({"Version": "2099-01-01", "Statement": []}),
                json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "x", "Extra": 1}]})):
        with pytest.raises(rekognition.exceptions.MalformedPolicyDocumentException):
            rekognition.put_project_policy(ProjectArn=project, PolicyName="bad", PolicyDocument=bad)
    for i in range(4):
        rekognition.put_project_policy(ProjectArn=project, PolicyName=f"p{i}", PolicyDocument=POLICY)
    with pytest.raises(rekognition.exceptions.LimitExceededException):
        rekognition.put_project_policy(ProjectArn=project, PolicyName="sixth", PolicyDocument=POLICY)
    page = rekognition.list_project_policies(ProjectArn=project, MaxResults=2)
    assert len(page["ProjectPolicies"]) == 2 and page["NextToken"]
    names = [p["PolicyName"] for p in rekognition.get_paginator("list_project_policies").paginate(
        ProjectArn=project, PaginationConfig={"PageSize": 2}).build_full_result()["ProjectPolicies"]]
    assert names == ["p0", "p1", "p2", "p3", "trust"]
    with pytest.raises(rekognition.exceptions.InvalidPolicyRevisionIdException):
        rekognition.delete_project_policy(ProjectArn=project, PolicyName="trust", PolicyRevisionId=revision)
    rekognition.delete_project_policy(ProjectArn=project, PolicyName="trust", PolicyRevisionId=second)
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException):
        rekognition.delete_project_policy(ProjectArn=project, PolicyName="trust")
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException):
        rekognition.list_project_policies(ProjectArn=project.rsplit("/", 1)[0] + "/1")
    rekognition.delete_project(ProjectArn=project)  # its policies go with it


def test_copy_errors(rekognition, s3, unique: str) -> None:  # type: ignore[no-untyped-def]
    bucket = f"cpe-{unique}"
    s3.create_bucket(Bucket=bucket)
    source = rekognition.create_project(ProjectName=f"cpe-{unique}")["ProjectArn"]
    target = rekognition.create_project(ProjectName=f"cpe2-{unique}")["ProjectArn"]
    unknown = f"{source.rsplit('/', 1)[0]}/version/nope/1"
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException) as exc:
        rekognition.copy_project_version(SourceProjectArn=source, SourceProjectVersionArn=unknown,
                                         DestinationProjectArn=target, VersionName="c",
                                         OutputConfig={"S3Bucket": bucket})
    assert "does not exist" in _error(exc)[1]
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException):
        rekognition.copy_project_version(SourceProjectArn=source.rsplit("/", 1)[0] + "/1",
                                         SourceProjectVersionArn=unknown, DestinationProjectArn=target,
                                         VersionName="c", OutputConfig={"S3Bucket": bucket})
