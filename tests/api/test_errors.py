"""Every control-plane error AWS defines for bad input, with its exact `__type`, through real clients."""

from __future__ import annotations

import json
import threading

import pytest
import requests
from botocore.exceptions import ClientError, ParamValidationError

from tests.support.clients import client, signed

ASSETS = {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "b", "Name": "m.manifest"}}}]}


@pytest.fixture
def project(rekognition, s3, unique: str) -> dict:  # type: ignore[no-untyped-def]
    bucket = f"err-{unique}"
    s3.create_bucket(Bucket=bucket)
    arn = rekognition.create_project(ProjectName=f"err-{unique}")["ProjectArn"]
    assets = {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": "m.manifest"}}}]}
    return {"arn": arn, "bucket": bucket, "assets": assets}


def _code(err: pytest.ExceptionInfo) -> str:
    return err.value.response["Error"]["Code"]


def _raw(endpoint: str, target: str, body: bytes) -> requests.Response:
    headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"}
    return signed("POST", endpoint + "/", data=body, headers=headers, timeout=10)


def test_wrong_arn_pattern_is_a_validation_exception(rekognition) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as err:
        rekognition.describe_project_versions(ProjectArn="arn:aws:rekognition:us-east-1:000000000000:project/x")
    assert _code(err) == "ValidationException"
    message = err.value.response["Error"]["Message"]
    assert message.startswith("1 validation error detected: Value 'arn:aws:rekognition:us-east-1:000000000000:project/x' "
                              "at 'projectArn' failed to satisfy constraint: Member must satisfy regular expression pattern:")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_version_name_pattern_message_names_the_member(openrek_server: str, project: dict) -> None:
    body = json.dumps({"ProjectArn": project["arn"], "VersionName": "bad name!",
                       "OutputConfig": {"S3Bucket": project["bucket"]}}).encode()
    response = _raw(openrek_server, "RekognitionService.CreateProjectVersion", body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["__type"] == "ValidationException"
    assert "Value 'bad name!' at 'versionName' failed to satisfy constraint: Member must satisfy regular expression " \
           "pattern: [a-zA-Z0-9_.\\-]+" in payload["Message"]
    assert response.headers["x-amzn-RequestId"]


def test_unknown_project(rekognition, project: dict) -> None:  # type: ignore[no-untyped-def]
    missing = project["arn"].rsplit("/", 1)[0] + "/1"
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException):
        rekognition.create_project_version(ProjectArn=missing, VersionName="v", OutputConfig={"S3Bucket": project["bucket"]},
                                           TrainingData=project["assets"], TestingData={"AutoCreate": True})


def test_duplicate_version_name(rekognition, project: dict) -> None:  # type: ignore[no-untyped-def]
    kwargs = dict(ProjectArn=project["arn"], VersionName="dup", OutputConfig={"S3Bucket": project["bucket"]},
                  TrainingData=project["assets"], TestingData={"AutoCreate": True})
    rekognition.create_project_version(**kwargs)
    with pytest.raises(rekognition.exceptions.ResourceInUseException):
        rekognition.create_project_version(**kwargs)


def test_twenty_concurrent_creates_of_one_name_exactly_one_wins(openrek_server: str, project: dict) -> None:
    results: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def create() -> None:
        rek = client("rekognition", openrek_server)
        barrier.wait()
        try:
            rek.create_project_version(ProjectArn=project["arn"], VersionName="race",
                                       OutputConfig={"S3Bucket": project["bucket"]},
                                       TrainingData=project["assets"], TestingData={"AutoCreate": True})
            outcome = "ok"
        except ClientError as exc:
            outcome = exc.response["Error"]["Code"]
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=create) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["ResourceInUseException"] * 19 + ["ok"]
    rek = client("rekognition", openrek_server)
    versions = rek.describe_project_versions(ProjectArn=project["arn"], VersionNames=["race"])
    assert len(versions["ProjectVersionDescriptions"]) == 1


@pytest.mark.parametrize("training,testing", [(True, False), (False, True), (False, False)])
def test_training_and_testing_data_go_together(rekognition, project: dict, training: bool, testing: bool) -> None:  # type: ignore[no-untyped-def]
    kwargs = dict(ProjectArn=project["arn"], VersionName="half", OutputConfig={"S3Bucket": project["bucket"]})
    if training:
        kwargs["TrainingData"] = project["assets"]
    if testing:
        kwargs["TestingData"] = {"AutoCreate": True}
    with pytest.raises(rekognition.exceptions.InvalidParameterException) as err:
        rekognition.create_project_version(**kwargs)
    assert "TrainingData" in str(err.value) and "TestingData" in str(err.value)


def test_feature_config_must_match_the_project(rekognition, project: dict, unique: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(rekognition.exceptions.InvalidParameterException) as err:
        rekognition.create_project_version(
            ProjectArn=project["arn"], VersionName="fc", OutputConfig={"S3Bucket": project["bucket"]},
            TrainingData=project["assets"], TestingData={"AutoCreate": True},
            FeatureConfig={"ContentModeration": {"ConfidenceThreshold": 60}})
    assert "CUSTOM_LABELS" in str(err.value)
    adapter = rekognition.create_project(ProjectName=f"cm-{unique}", Feature="CONTENT_MODERATION",
                                         AutoUpdate="DISABLED")["ProjectArn"]
    with pytest.raises(rekognition.exceptions.InvalidParameterException):
        rekognition.create_project_version(
            ProjectArn=adapter, VersionName="fc", OutputConfig={"S3Bucket": project["bucket"]},
            TrainingData=project["assets"], TestingData={"AutoCreate": True}, FeatureConfig={})


def test_missing_output_bucket(rekognition, project: dict, unique: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(rekognition.exceptions.InvalidParameterException) as err:
        rekognition.create_project_version(
            ProjectArn=project["arn"], VersionName="nob", OutputConfig={"S3Bucket": f"no-such-{unique}"},
            TrainingData=project["assets"], TestingData={"AutoCreate": True})
    assert f"no-such-{unique}" in str(err.value)
    assert rekognition.describe_project_versions(ProjectArn=project["arn"])["ProjectVersionDescriptions"] == []


def test_over_long_tags(openrek_server: str, rekognition, project: dict) -> None:  # type: ignore[no-untyped-def]
    base = dict(ProjectArn=project["arn"], OutputConfig={"S3Bucket": project["bucket"]},
                TrainingData=project["assets"], TestingData={"AutoCreate": True})
    for i, tags in enumerate([{"k" * 129: "v"}, {"k": "v" * 257}, {f"k{i}": "v" for i in range(201)}, {"aws:x": "v"}]):
        body = json.dumps({**base, "VersionName": f"tags{i}", "Tags": tags}).encode()
        response = _raw(openrek_server, "RekognitionService.CreateProjectVersion", body)
        assert response.status_code == 400, tags
        assert response.json()["__type"] == "ValidationException"
        assert "at 'tags'" in response.json()["Message"]
    # the stock client checks only minimums itself, so the server's answer is what a user sees
    with pytest.raises(ClientError) as err:
        rekognition.create_project_version(**base, VersionName="t", Tags={"k" * 129: "v"})
    assert _code(err) == "ValidationException"
    with pytest.raises(ParamValidationError):
        rekognition.create_project_version(**base, VersionName="t", Tags={"": "v"})
    # TagResource counts what is already there
    version = rekognition.create_project_version(**base, VersionName="tagged", Tags={f"a{i}": "1" for i in range(40)})
    with pytest.raises(rekognition.exceptions.InvalidParameterException):
        rekognition.tag_resource(ResourceArn=version["ProjectVersionArn"], Tags={f"b{i}": "1" for i in range(11)})
    assert len(rekognition.list_tags_for_resource(ResourceArn=version["ProjectVersionArn"])["Tags"]) == 40


def test_malformed_json_body(openrek_server: str) -> None:
    response = _raw(openrek_server, "RekognitionService.DescribeProjects", b"{not json")
    assert response.status_code == 400
    assert response.json()["__type"] == "SerializationException"
    wrong_type = _raw(openrek_server, "RekognitionService.DescribeProjects", b'{"MaxResults": "ten"}')
    assert wrong_type.status_code == 400 and wrong_type.json()["__type"] == "SerializationException"


def test_unknown_target(openrek_server: str) -> None:
    response = _raw(openrek_server, "RekognitionService.MakeCoffee", b"{}")
    assert response.status_code == 400
    assert response.json()["__type"] == "UnknownOperationException"
    other = _raw(openrek_server, "DynamoDB_20120810.ListTables", b"{}")
    assert other.json()["__type"] == "UnknownOperationException"


def test_known_but_unimplemented_operation_names_itself(rekognition) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as err:
        rekognition.list_collections()
    assert _code(err) == "NotImplementedException"
    assert "ListCollections" in str(err.value)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] != 500


def test_unknown_resource_for_tags(rekognition, project: dict) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException):
        rekognition.list_tags_for_resource(ResourceArn=project["arn"].rsplit("/", 1)[0] + "/42")


def test_bad_next_token(rekognition, project: dict) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(rekognition.exceptions.InvalidPaginationTokenException):
        rekognition.describe_project_versions(ProjectArn=project["arn"], NextToken="garbage")


def test_delete_project_with_versions_is_refused(rekognition, project: dict) -> None:  # type: ignore[no-untyped-def]
    rekognition.create_project_version(ProjectArn=project["arn"], VersionName="keep",
                                       OutputConfig={"S3Bucket": project["bucket"]},
                                       TrainingData=project["assets"], TestingData={"AutoCreate": True})
    with pytest.raises(rekognition.exceptions.ResourceInUseException):
        rekognition.delete_project(ProjectArn=project["arn"])


def test_every_custom_labels_operation_in_botocores_model_is_implemented(openrek_server: str) -> None:
    """The model's own documentation says which operations are Custom Labels ones; none may answer
    NotImplementedException (an empty request gets a validation or service error instead)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("rekognition")
    custom_labels = [name for name in model.operation_names
                     if "Custom Labels" in (model.operation_model(name).documentation or "")]
    custom_labels += ["DescribeProjects", "DescribeProjectVersions", "DeleteProject"]
    assert len(custom_labels) >= 23
    for name in custom_labels:
        answer = signed("POST", openrek_server, data=b"{}", timeout=10, headers={
            "X-Amz-Target": f"RekognitionService.{name}", "Content-Type": "application/x-amz-json-1.1"})
        assert answer.json().get("__type") != "NotImplementedException", name
        assert answer.status_code < 500, (name, answer.text)


def test_a_region_that_is_no_aws_region_is_refused(openrek_server: str) -> None:
    """The credential scope's region goes into ARNs: nonsense is refused, not turned into unmatchable ARNs."""
    from botocore.exceptions import ClientError

    from tests.support.clients import client

    for region in ("us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1"):
        client("rekognition", openrek_server, region=region).describe_projects()
    with pytest.raises(ClientError) as err:
        client("rekognition", openrek_server, region="mars-base-alpha").describe_projects()
    assert err.value.response["Error"]["Code"] == "IncompleteSignatureException"
    assert "valid region" in err.value.response["Error"]["Message"]
