"""Output files: names under OutputConfig, ManifestSummary and validation manifests, DescribeProjectVersions shapes."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.validate import ParamValidator

from openrek.manifests import (
    ManifestContentError,
    ManifestRef,
    output_key,
    prepare_datasets,
    rules,
    validate_manifest,
)
from openrek.manifests.output_files import join_prefix

from .conftest import IMAGES, MANIFESTS, OUTPUT, Factory, cls_line, det_line, image_bytes

MODEL = botocore.session.get_session().get_service_model("rekognition")


def assert_shape(value: dict, shape_name: str) -> None:
    report = ParamValidator().validate(value, MODEL.shape_for(shape_name))
    assert not report.has_errors(), report.generate_report()


def read_json(store, ref: ManifestRef):
    return json.loads(store.get_bytes(ref.bucket, ref.name))


def read_lines(store, ref: ManifestRef) -> list[dict]:
    return [json.loads(x) for x in store.get_bytes(ref.bucket, ref.name).decode().splitlines()]


def test_prefix_joining() -> None:
    assert output_key("my-model-output", "ManifestSummary", "my-project", "1") == \
        "my-model-output/ManifestSummary-my-project-1.json"
    assert join_prefix("out/", "x.json") == "out/x.json"
    assert join_prefix("", "x.json") == "x.json" and join_prefix(None, "x.json") == "x.json"


def test_prepare_writes_aws_named_files_with_aws_shapes(mk: Factory, store) -> None:
    size = (128, 96)
    lines = [det_line(mk.image(size=size), [("raccoon", 10, 10, 50, 40)], size) for _ in range(9)]
    lines.append(det_line(mk.image(size=size), [("raccoon", 100, 10, 50, 40), ("raccoon", 1, 1, 30, 30)], size))
    lines.append(det_line(mk.image("tiny.jpg", image_bytes((40, 40))), [("raccoon", 1, 1, 5, 5)], (40, 40)))
    lines.append({"source-ref": f"s3://{IMAGES}/unlabelled.jpg"})
    ref = mk.manifest(lines)
    prepared = prepare_datasets(store, training_refs=[ref], testing_refs=[], autocreate=True, output_bucket=OUTPUT,
                                output_prefix="my-model-output", project_name="my-project", version_name="1")
    keys = sorted(o.key for o in store.list_objects(OUTPUT))
    assert keys == [f"my-model-output/{k}-my-project-1.json" for k in (
        "ManifestSummary", "TestingGroundTruth", "TestingManifestWithValidation", "TrainingGroundTruth",
        "TrainingManifestWithValidation")]
    assert prepared.outputs is not None

    summary = read_json(store, prepared.outputs.manifest_summary)
    assert set(summary) == {"statistics", "errors"} and summary["errors"] == []
    train_stats, test_stats = summary["statistics"]["training"], summary["statistics"]["testing"]
    assert set(train_stats) == {"use_case", "total_json_lines", "valid_json_lines", "invalid_json_lines",
                                "ignored_json_lines", "error_json_line_indices", "errors"}
    assert train_stats["use_case"] == test_stats["use_case"] == "OBJECT_LOCALIZATION"
    assert train_stats["total_json_lines"] + test_stats["total_json_lines"] == 12
    assert train_stats["valid_json_lines"] + test_stats["valid_json_lines"] == 10
    assert train_stats["invalid_json_lines"] == 1 and train_stats["ignored_json_lines"] == 1
    assert test_stats["valid_json_lines"] == 2 and len(prepared.test) == 2

    training_lines = read_lines(store, prepared.outputs.training_validation)
    assert len(training_lines) == train_stats["total_json_lines"]
    for line in training_lines:  # errors on the line, the attribute, its metadata and each annotation
        assert isinstance(line["errors"], list)
        if "bounding-box" in line:
            assert isinstance(line["bounding-box"]["errors"], list)
            assert isinstance(line["bounding-box-metadata"]["errors"], list)
            assert all(isinstance(a["errors"], list) for a in line["bounding-box"]["annotations"])
    bad = training_lines[train_stats["error_json_line_indices"][0] - 1]
    assert bad["source-ref"].endswith("tiny.jpg") and bad["errors"][0]["code"] == rules.ERROR_INVALID_IMAGE_DIMENSION
    partial = next(x for x in training_lines if len(x.get("bounding-box", {}).get("annotations", [])) == 2)
    assert partial["errors"] == [] and partial["bounding-box"]["annotations"][0]["errors"][0]["code"] == \
        rules.ERROR_INVALID_BOUNDING_BOX and partial["bounding-box"]["annotations"][1]["errors"] == []
    assert training_lines[-1]["errors"][0]["code"] == rules.WARNING_UNANNOTATED_RECORD

    ground_truth = read_lines(store, prepared.outputs.training_ground_truth)
    assert len(ground_truth) == len(prepared.train) and "errors" not in json.dumps(ground_truth)

    tdr, sdr = prepared.training_data_result(), prepared.testing_data_result()
    assert_shape(tdr, "TrainingDataResult")
    assert_shape(sdr, "TestingDataResult")
    assert_shape(prepared.manifest_summary_result() or {}, "GroundTruthManifest")
    assert tdr["Input"]["Assets"][0]["GroundTruthManifest"]["S3Object"] == {"Bucket": MANIFESTS, "Name": ref.name}
    assert tdr["Validation"]["Assets"][0]["GroundTruthManifest"]["S3Object"]["Name"] == \
        "my-model-output/TrainingManifestWithValidation-my-project-1.json"
    assert sdr["Input"] == {"AutoCreate": True}
    assert sdr["Validation"]["Assets"][0]["GroundTruthManifest"]["S3Object"]["Name"] == \
        "my-model-output/TestingManifestWithValidation-my-project-1.json"


def test_content_error_still_writes_the_summary(mk: Factory, store) -> None:
    lines = [cls_line(mk.image(), "cat"), cls_line(mk.image(), "dog"), "{oops", "{oops"]
    with pytest.raises(ManifestContentError) as err:
        prepare_datasets(store, training_refs=[mk.manifest(lines)], testing_refs=[], autocreate=True,
                         output_bucket=OUTPUT, output_prefix="", project_name="p", version_name="v1")
    assert err.value.code == rules.ERROR_TOO_MANY_INVALID_ROWS_IN_MANIFEST
    outputs = err.value.prepared.outputs
    assert outputs is not None and outputs.manifest_summary.name == "ManifestSummary-p-v1.json"
    assert outputs.manifest_summary.uri in err.value.message
    summary = read_json(store, outputs.manifest_summary)
    assert summary["statistics"]["training"]["errors"][0]["code"] == rules.ERROR_TOO_MANY_INVALID_ROWS_IN_MANIFEST
    assert summary["statistics"]["training"]["error_json_line_indices"] == [3, 4]
    invalid = read_lines(store, outputs.training_validation)[2]
    assert invalid["errors"][0]["code"] == rules.ERROR_INVALID_JSON_LINE and invalid["invalid-json-line"] == "{oops"


def test_validation_manifest_can_be_used_as_input_again(mk: Factory, store) -> None:
    size = (128, 96)
    lines = [det_line(mk.image(size=size), [("raccoon", 100, 10, 50, 40), ("raccoon", 1, 1, 30, 30)], size)]
    first = validate_manifest(store, MANIFESTS, mk.manifest(lines).name, role="training")
    store.put_object(MANIFESTS, "again.manifest", first.validation_manifest_bytes())
    second = validate_manifest(store, MANIFESTS, "again.manifest", role="training")
    assert second.lines[0].all_codes() == first.lines[0].all_codes() == [rules.ERROR_INVALID_BOUNDING_BOX]
    assert second.validation_manifest_bytes() == first.validation_manifest_bytes().replace(b"train.", b"again.")
    assert second.records[0].boxes == first.records[0].boxes


def test_testing_manifest_result_shapes(mk: Factory, store) -> None:
    train = mk.classification({"cat": 3, "dog": 3})
    test = mk.classification({"cat": 1, "dog": 1}, key="test.manifest")
    prepared = prepare_datasets(store, training_refs=[train], testing_refs=[test], autocreate=False,
                                output_bucket=OUTPUT, output_prefix="o/", project_name="p", version_name="1")
    sdr = prepared.testing_data_result()
    assert_shape(sdr, "TestingDataResult")
    assert sdr["Input"]["AutoCreate"] is False
    assert sdr["Input"]["Assets"][0]["GroundTruthManifest"]["S3Object"]["Name"] == "test.manifest"
    summary = read_json(store, prepared.outputs.manifest_summary)  # type: ignore[union-attr]
    assert summary["statistics"]["testing"]["total_json_lines"] == 2
