"""Multi-label lines in the form AWS's Ground Truth transform program writes.

That program turns SageMaker's native `"<job>": [ids]` + `class-map` line into one attribute per label,
`"<job><n>": <n>` with `class-name` in its metadata and the multi-label `type` kept. These tests build such
lines from real native ones, then parse, validate and prepare them as training does.
"""

from __future__ import annotations

import json
from typing import Any

from openrek.manifests import ManifestRef, prepare_datasets, rules, validate_manifest
from openrek.manifests.line_parser import parse_line
from openrek.training.pipeline import MULTI_LABEL, task_of

from .conftest import IMAGES, MANIFESTS, OUTPUT, Factory

URI = f"s3://{MANIFESTS}/train.manifest"
JOB = "image-label-attribute-name"


def native_line(key: str, labels: list[str], vocabulary: list[str]) -> dict[str, Any]:
    """SageMaker's native multi-label output line for `labels` out of `vocabulary`."""
    ids = [vocabulary.index(lb) for lb in labels]
    return {"source-ref": f"s3://{IMAGES}/{key}", JOB: ids,
            f"{JOB}-metadata": {"job-name": f"labeling-job/{JOB}",
                                "class-map": {str(i): vocabulary[i] for i in ids},
                                "confidence-map": {str(i): 0.9 for i in ids},
                                "human-annotated": "yes", "creation-date": "2024-02-27T21:36:25.000201",
                                "type": rules.TYPE_MULTILABEL}}


def transformed(native: dict[str, Any]) -> dict[str, Any]:
    """The line AWS's transform writes for a native line: one integer attribute per label."""
    meta = native[f"{JOB}-metadata"]
    out: dict[str, Any] = {"source-ref": native["source-ref"]}
    for n, class_id in enumerate(native[JOB]):
        out[f"{JOB}{n}"] = n
        out[f"{JOB}{n}-metadata"] = {"class-name": meta["class-map"][str(class_id)],
                                     "confidence": meta["confidence-map"][str(class_id)],
                                     "type": meta["type"], "job-name": meta["job-name"],
                                     "human-annotated": meta["human-annotated"],
                                     "creation-date": meta["creation-date"]}
    return out


def parse(obj: dict[str, Any]):
    return parse_line(json.dumps(obj), 0, URI)


def codes(line) -> list[str]:
    out = [e.code for e in line.line_errors]
    for attr in line.attributes:
        out += [e.code for e in attr.value_errors + attr.metadata_errors]
    return out


VOCABULARY = ["person", "bicycle", "clothing", "dog"]


def test_transform_form_parses_one_label_per_attribute() -> None:
    line = transformed(native_line("a.jpg", ["bicycle", "person", "clothing"], VOCABULARY))
    parsed = parse(line)
    assert codes(parsed) == []
    assert [(a.name, a.kind, a.labels) for a in parsed.attributes] == [
        (f"{JOB}0", "multilabel", ["bicycle"]), (f"{JOB}1", "multilabel", ["person"]),
        (f"{JOB}2", "multilabel", ["clothing"])]
    single = parse(transformed(native_line("b.jpg", ["dog"], VOCABULARY)))
    assert codes(single) == [] and [a.labels for a in single.attributes] == [["dog"]]


def test_native_and_plain_forms_still_parse() -> None:
    parsed = parse(native_line("a.jpg", ["dog", "person"], VOCABULARY))
    assert codes(parsed) == [] and parsed.attributes[0].labels == ["dog", "person"]
    plain = transformed(native_line("a.jpg", ["dog"], VOCABULARY))
    plain[f"{JOB}0-metadata"]["type"] = rules.TYPE_CLASSIFICATION
    parsed = parse(plain)
    assert codes(parsed) == [] and [(a.kind, a.labels) for a in parsed.attributes] == [("classification", ["dog"])]


def test_transform_form_errors() -> None:
    line = transformed(native_line("a.jpg", ["dog"], VOCABULARY))
    del line[f"{JOB}0-metadata"]["class-name"]
    broken = parse(line)
    assert codes(broken) == [rules.ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT]
    assert "class-name" in broken.attributes[0].metadata_errors[0].message
    line = transformed(native_line("a.jpg", ["dog"], VOCABULARY))
    line[f"{JOB}0"] = "dog"
    assert codes(parse(line)) == [rules.ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT]
    line = transformed(native_line("a.jpg", ["dog"], VOCABULARY))
    line[f"{JOB}0-metadata"]["class-name"] = ""
    assert codes(parse(line)) == [rules.ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT]
    # A list of ids still needs the class map that names them.
    line = native_line("a.jpg", ["dog"], VOCABULARY)
    line[f"{JOB}-metadata"]["class-name"] = line[f"{JOB}-metadata"].pop("class-map")["3"]
    assert codes(parse(line)) == [rules.ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT]


def _dataset(mk: Factory, label_sets: list[list[str]], key: str) -> ManifestRef:
    lines = [transformed(native_line(mk.image(), labels, VOCABULARY)) for labels in label_sets]
    return mk.manifest(lines, key)


TRAIN_SETS = [["person", "bicycle"], ["dog"], ["person", "clothing", "dog"], ["bicycle"], ["clothing", "person"],
              ["dog", "bicycle"]]


def test_transform_manifest_validates_with_every_line_valid(mk: Factory, store) -> None:
    m = validate_manifest(store, MANIFESTS, _dataset(mk, TRAIN_SETS, "train.manifest").name,
                          role="training")
    assert m.use_case == "IMAGE_LEVEL_LABELS" and m.errors == []
    assert (m.total_json_lines, m.valid_json_lines, m.invalid_json_lines, m.ignored_json_lines) == (6, 6, 0, 0)
    assert [r.labels for r in m.records] == [sorted(s) for s in TRAIN_SETS]
    assert m.labels == sorted(VOCABULARY)
    assert all(line.validation_json()["errors"] == [] for line in m.lines)


def test_training_gets_multi_label_records(mk: Factory, store) -> None:
    train = _dataset(mk, TRAIN_SETS, "train.manifest")
    test = _dataset(mk, [["person", "dog"], ["bicycle"], ["clothing"]], "test.manifest")
    prepared = prepare_datasets(store, training_refs=[train], testing_refs=[test], autocreate=False,
                                output_bucket=OUTPUT, output_prefix="out", project_name="tags",
                                version_name="1")
    assert prepared.ok and prepared.labels == sorted(VOCABULARY)
    assert [r.labels for r in prepared.train] == [sorted(s) for s in TRAIN_SETS]
    assert [r.labels for r in prepared.test] == [["dog", "person"], ["bicycle"], ["clothing"]]
    assert task_of(prepared) == MULTI_LABEL
    summary = json.loads(store.get_bytes(OUTPUT, "out/ManifestSummary-tags-1.json"))
    assert summary["statistics"]["training"]["invalid_json_lines"] == 0


def test_transform_lines_mix_with_native_and_plain_lines(mk: Factory, store) -> None:
    lines: list[dict[str, Any]] = [transformed(native_line(mk.image(), s, VOCABULARY)) for s in TRAIN_SETS[:3]]
    lines.append(native_line(mk.image(), ["person", "dog"], VOCABULARY))
    plain = transformed(native_line(mk.image(), ["clothing"], VOCABULARY))
    plain[f"{JOB}0-metadata"]["type"] = rules.TYPE_CLASSIFICATION
    lines.append(plain)
    m = validate_manifest(store, MANIFESTS, mk.manifest(lines).name, role="training")
    assert m.valid_json_lines == 5
    assert [r.labels for r in m.records] == [["bicycle", "person"], ["dog"], ["clothing", "dog", "person"],
                                           ["dog", "person"], ["clothing"]]
