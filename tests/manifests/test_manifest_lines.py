"""Parsing single JSON lines: the forms Ground Truth writes and the per-line codes for broken ones."""

from __future__ import annotations

import json

import pytest

from openrek.manifests import rules
from openrek.manifests.line_parser import parse_line
from openrek.manifests.s3uri import S3UriError, parse_s3_uri

from .conftest import cls_line, det_line

URI = "s3://manifests-bucket/train.manifest"


def parse(obj: object, index: int = 0):
    return parse_line(obj if isinstance(obj, str) else json.dumps(obj), index, URI)


def codes(line) -> list[str]:
    out = [e.code for e in line.line_errors]
    for attr in line.attributes:
        out += [e.code for e in attr.value_errors + attr.metadata_errors]
        for ann in attr.annotations:
            out += [e.code for e in ann.errors]
    return out


def test_s3_uris() -> None:
    assert parse_s3_uri("s3://bucket/a/b.jpg").key == "a/b.jpg"
    for bad in ("http://bucket/a.jpg", "s3://bucket", "s3://bucket/", "s3:///a.jpg", 7, "s3://b/a/"):
        with pytest.raises(S3UriError):
            parse_s3_uri(bad)


def test_invalid_json_line_names_the_line() -> None:
    line = parse('{"source-ref": "s3://bkt/x.jpg", ', index=4)
    assert codes(line) == [rules.ERROR_INVALID_JSON_LINE]
    assert line.line_errors[0].message.startswith(f"Line 5 of {URI}:")
    assert codes(parse("[1, 2]")) == [rules.ERROR_INVALID_JSON_LINE]


@pytest.mark.parametrize("depth", [150, 500, 900, 990, 100_000])
def test_a_deeply_nested_line_is_that_lines_invalid_json(depth: int) -> None:
    """Nesting below the parser's own limit used to parse and then overflow the stack in the walks over the
    line (a RecursionError that failed the whole manifest); above it, the parser's RecursionError."""
    text = json.dumps(cls_line("a.jpg", "cat"))[:-1] + ', "extra": ' + "[" * depth + "]" * depth + "}"
    line = parse(text, index=2)
    assert codes(line) == [rules.ERROR_INVALID_JSON_LINE]
    assert line.line_errors[0].message.startswith(f"Line 3 of {URI}: the JSON Line has an invalid format")
    assert "nested more than 100 levels deep" in line.line_errors[0].message


def test_nan_and_infinity_are_no_json() -> None:
    for literal in ("NaN", "Infinity", "-Infinity"):
        line = cls_line("a.jpg", "cat")
        text = json.dumps(line).replace('"confidence": 1', f'"confidence": {literal}')
        assert codes(parse(text)) == [rules.ERROR_INVALID_JSON_LINE], literal


def test_source_ref_missing_or_malformed() -> None:
    line = cls_line("a.jpg", "cat")
    del line["source-ref"]
    assert codes(parse(line)) == [rules.ERROR_MISSING_SOURCE_REF]
    line = cls_line("a.jpg", "cat")
    line["source-ref"] = "https://example.com/a.jpg"
    assert codes(parse(line)) == [rules.ERROR_INVALID_SOURCE_REF_FORMAT]


def test_source_ref_into_an_internal_bucket_is_invalid() -> None:
    line = cls_line("a.jpg", "cat")
    line["source-ref"] = "s3://.openrek-models/project/v1/1/model.json"
    parsed = parse(line)
    assert codes(parsed) == [rules.ERROR_INVALID_SOURCE_REF_FORMAT] and parsed.source is None
    message = parsed.line_errors[0].message
    assert message.startswith(f"Line 1 of {URI}: the format of the source-ref value is invalid: '.openrek-models'")
    assert "bucket names never begin with a period" in message


def test_unannotated_and_attributes_without_metadata() -> None:
    assert parse({"source-ref": "s3://bkt/a.jpg"}).unannotated
    line = parse({"source-ref": "s3://bkt/a.jpg", "label": 1})
    assert codes(line) == [rules.ERROR_NO_LABEL_ATTRIBUTES]
    assert "label" in line.line_errors[0].message


def test_classification_and_multi_label_pairs() -> None:
    line = cls_line("a.jpg", "cat")
    line.update({k.replace("label", "color"): v for k, v in cls_line("a.jpg", "black", attr="color").items()
                 if k != "source-ref"})
    parsed = parse(line)
    assert codes(parsed) == []
    assert [(a.kind, a.labels) for a in parsed.attributes] == [("classification", ["cat"]),
                                                               ("classification", ["black"])]


def test_native_multilabel_with_class_map() -> None:
    line = {"source-ref": "s3://bkt/a.jpg", "tags": [0, 2],
            "tags-metadata": {"class-map": {"0": "cat", "1": "dog", "2": "sofa"},
                              "confidence-map": {"0": 0.9, "2": 0.8},
                              "type": "groundtruth/image-classification-multilabel"}}
    parsed = parse(line)
    assert codes(parsed) == [] and parsed.attributes[0].labels == ["cat", "sofa"]
    line["tags"] = [0, 7]
    assert codes(parse(line)) == [rules.ERROR_MISSING_CLASS_MAP_ID]
    line["tags"] = ["cat"]
    assert codes(parse(line)) == [rules.ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT]


def test_classification_format_errors() -> None:
    line = cls_line("a.jpg", "cat")
    line["label"] = "cat"
    assert codes(parse(line)) == [rules.ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT]
    line = cls_line("a.jpg", "cat")
    del line["label-metadata"]["class-name"]
    assert codes(parse(line)) == [rules.ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT]
    line = cls_line("a.jpg", "cat")
    line["label-metadata"] = "cat"
    assert codes(parse(line)) == [rules.ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT]
    line = cls_line("a.jpg", "x" * 300)
    assert codes(parse(line)) == [rules.ERROR_INVALID_LABEL_NAME_LENGTH]


def test_unsupported_type() -> None:
    line = cls_line("a.jpg", "cat")
    line["label-metadata"]["type"] = "groundtruth/semantic-segmentation"
    assert codes(parse(line)) == [rules.ERROR_UNSUPPORTED_USE_CASE_TYPE]


def test_detection_line() -> None:
    parsed = parse(det_line("a.jpg", [("raccoon", 10, 12, 30, 40), ("dog", 1, 2, 3, 4)], (128, 96)))
    attr = parsed.attributes[0]
    assert codes(parsed) == [] and attr.kind == "detection" and attr.image_size == (128, 96)
    assert [(a.label, a.left, a.top, a.width, a.height) for a in attr.annotations] == [
        ("raccoon", 10, 12, 30, 40), ("dog", 1, 2, 3, 4)]


def test_detection_annotation_errors() -> None:
    line = det_line("a.jpg", [("raccoon", 10, 12, 30, 40)] * 3, (128, 96))
    line["bounding-box"]["annotations"][1]["class_id"] = 9
    line["bounding-box-metadata"]["objects"] = [{"confidence": 1}, {"confidence": 1}]
    line["bounding-box"]["annotations"][0]["left"] = "ten"
    parsed = parse(line)
    assert [[e.code for e in a.errors] for a in parsed.attributes[0].annotations] == [
        [rules.ERROR_INVALID_BOUNDING_BOX], [rules.ERROR_MISSING_CLASS_MAP_ID],
        [rules.ERROR_MISSING_BOUNDING_BOX_CONFIDENCE]]
    line = det_line("a.jpg", [("raccoon", 10, 12, 30, 40)], (128, 96))
    line["bounding-box"] = [1, 2]
    assert codes(parse(line)) == [rules.ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT]


def test_content_moderation_lines() -> None:
    parsed = parse({"source-ref": "s3://bkt/a.jpg",
                    "content-moderation-groundtruth": {"ModerationLabels": [{"Name": "Rude Gesture"}]}})
    assert codes(parsed) == [] and parsed.attributes[0].kind == "moderation"
    assert parsed.attributes[0].labels == ["Rude Gesture"]
    safe = parse({"source-ref": "s3://bkt/a.jpg", "content-moderation-groundtruth": {"ModerationLabels": []}})
    assert codes(safe) == [] and safe.attributes[0].labels == []
    bad = parse({"source-ref": "s3://bkt/a.jpg", "content-moderation-groundtruth": {"Labels": []}})
    assert codes(bad) == [rules.ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT]


def test_previous_validation_errors_are_stripped() -> None:
    line = det_line("a.jpg", [("raccoon", 10, 12, 30, 40)], (128, 96))
    line["errors"] = [{"code": "X", "message": "y"}]
    line["bounding-box"]["errors"] = []
    line["bounding-box"]["annotations"][0]["errors"] = [{"code": "X", "message": "y"}]
    line["bounding-box-metadata"]["errors"] = []
    parsed = parse(line)
    assert codes(parsed) == [] and "errors" not in json.dumps(parsed.obj)
