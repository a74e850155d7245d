"""Unit tests of the bounded JSON parser every outside document goes through (request bodies, manifest
lines, policy documents)."""

from __future__ import annotations

import json

import pytest

from openrek import json_input
from openrek.json_input import JsonInputError


@pytest.mark.parametrize("text", [
    "[" * 100_000,  # the parser's own RecursionError
    "[" * 500 + "]" * 500,  # parses, but deeper than any walk over it should have to go
    '{"a": ' * 101 + "1" + "}" * 101,
    '{"Tags": {"k": ' + "[" * 200 + "]" * 200 + "}}",
])
def test_too_deep_is_an_input_error(text: str) -> None:
    with pytest.raises(JsonInputError, match="nested more than 100 levels deep"):
        json_input.loads(text)


def test_nesting_up_to_the_limit_parses() -> None:
    assert json_input.loads("[" * 100 + "]" * 100) is not None
    assert json_input.depth(json_input.loads('{"a": [{"b": 1}], "c": 2}')) == 3
    assert json_input.depth(5) == 0


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_constants_are_refused(literal: str) -> None:
    with pytest.raises(JsonInputError, match=f"{literal} is not a JSON value"):
        json_input.loads(f'{{"MinConfidence": {literal}}}')


def test_malformed_text_keeps_the_column() -> None:
    with pytest.raises(JsonInputError) as exc:
        json_input.loads('{"a": }')
    assert exc.value.colno == 7 and "column 7" in str(exc.value)
    with pytest.raises(JsonInputError):
        json_input.loads(b"\xff\xfe{")
    with pytest.raises(JsonInputError):  # Python refuses integers of more than 4300 digits
        json_input.loads("1" * 5000)
    assert isinstance(JsonInputError("x"), ValueError)  # callers catching ValueError keep working


def test_the_serializer_never_writes_nan() -> None:
    """A non-finite float member (stored before NaN was refused) is left out; any other is an error of ours."""
    from openrek.api.json11.serializer import serialize_output
    from openrek.api.service_models import operation_model

    shape = operation_model("rekognition", "DetectCustomLabels").output_shape
    body = serialize_output(shape, {"CustomLabels": [{"Name": "cat", "Confidence": float("nan")},
                                                     {"Name": "dog", "Confidence": float("inf")}]})
    assert json.loads(body) == {"CustomLabels": [{"Name": "cat"}, {"Name": "dog"}]}
    listing = operation_model("rekognition", "DescribeProjects").output_shape
    with pytest.raises(ValueError):  # a float where the model has a string: not silently `NaN`
        serialize_output(listing, {"NextToken": float("nan")})


def test_validation_refuses_non_finite_and_out_of_range_numbers() -> None:
    from openrek.api.json11.validation import validate_input
    from openrek.api.service_models import operation_model
    from openrek.service.errors import SerializationException

    detect = operation_model("rekognition", "DetectCustomLabels").input_shape
    arn = "arn:aws:rekognition:us-east-1:000000000000:project/p/version/v/1700000000000"
    for value in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(SerializationException, match="finite"):
            validate_input(detect, {"ProjectVersionArn": arn, "Image": {"Bytes": "/9g="}, "MinConfidence": value})
    with pytest.raises(SerializationException, match="out of range for an integer"):
        validate_input(detect, {"ProjectVersionArn": arn, "Image": {"Bytes": "/9g="}, "MaxResults": 2**31})
    ok = validate_input(detect, {"ProjectVersionArn": arn, "Image": {"Bytes": "/9g="}, "MaxResults": 2**31 - 1})
    assert ok["MaxResults"] == 2**31 - 1 and ok["Image"]["Bytes"] == b"\xff\xd8"
