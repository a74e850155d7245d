"""Checks of the evaluation manifest snapshot layout (AWS's developer-guide example), shared by the tests."""

from __future__ import annotations

import json
import re
from typing import Any

TRAINING = "rekognition-custom-labels-training"
EVALUATION = "rekognition-custom-labels-evaluation"
DETAILS = "rekognition-custom-labels-evaluation-details"
FLAGS = ("is-true-positive", "is-true-negative", "is-false-positive", "is-false-negative")
MODERATION = "content-moderation-groundtruth"


def read_lines(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(t) for t in data.decode("utf-8").splitlines()]


def check_details(details: dict[str, Any], jobs: list[str]) -> None:
    """One `rekognition-custom-labels-evaluation-details` object: AWS's keys, exactly one flag set."""
    assert set(details) == {"version", *FLAGS, "is-present-in-ground-truth", "ground-truth-labelling-jobs"}
    assert details["version"] == 1 and details["ground-truth-labelling-jobs"] == jobs
    assert sum(details[k] for k in FLAGS) == 1
    present = details["is-present-in-ground-truth"]
    assert present == (details["is-true-positive"] or details["is-false-negative"])


def check_line(line: dict[str, Any]) -> str:
    """Check one snapshot line's layout; returns "image-level" or "detection"."""
    assert DETAILS not in line, "the details live inside the evaluation attribute's metadata"
    truth = [k for k in line if re.fullmatch(rf"{TRAINING}-\d+", k)]
    assert [f"{TRAINING}-{n}" for n in range(len(truth))] == truth
    assert set(line) - {MODERATION} == {"source-ref", *truth, *(f"{k}-metadata" for k in truth),
                                        *(k for k in line if k.startswith(EVALUATION))}
    jobs = [line[f"{k}-metadata"]["job-name"] for k in truth]
    jobs = list(dict.fromkeys(jobs)) or ([MODERATION] if MODERATION in line else [])
    for k in truth:
        assert line[f"{k}-metadata"]["job-name"]
    if EVALUATION in line:
        meta = line[f"{EVALUATION}-metadata"]
        assert meta["human-annotated"] == "no" and meta["type"] == "groundtruth/object-detection"
        assert {"confidence", "job-name", "class-map", "objects", "creation-date"} <= set(meta)
        assert len(meta["objects"]) == len(line[EVALUATION]["annotations"])
        for obj in meta["objects"]:
            assert 0.0 <= obj["confidence"] <= 1.0
            check_details(obj[DETAILS], jobs)
        assert meta["confidence"] == max((o["confidence"] for o in meta["objects"]), default=0.0)
        return "detection"
    predictions = [k for k in line if re.fullmatch(rf"{EVALUATION}-\d+", k)]
    assert predictions and [f"{EVALUATION}-{n}" for n in range(len(predictions))] == predictions
    confidences = []
    for k in predictions:
        meta = line[f"{k}-metadata"]
        assert isinstance(line[k], int) and meta["human-annotated"] == "no"
        assert meta["type"] in ("groundtruth/image-classification", "groundtruth/image-classification-multilabel")
        assert {"confidence", "job-name", "class-name", "creation-date", DETAILS} <= set(meta)
        check_details(meta[DETAILS], jobs)
        confidences.append(meta["confidence"])
    assert confidences == sorted(confidences, reverse=True)
    return "image-level"


def class_map_of(lines: list[dict[str, Any]]) -> dict[int, str]:
    """The id → name map every attribute of every line agrees on (fails on any disagreement)."""
    seen: dict[int, str] = {}

    def note(class_id: Any, name: str) -> None:
        assert isinstance(class_id, int), class_id
        assert seen.setdefault(class_id, name) == name, (class_id, name, seen[class_id])

    for line in lines:
        for key, value in line.items():
            if not key.startswith((TRAINING, EVALUATION)) or key.endswith("-metadata"):
                continue
            meta = line[f"{key}-metadata"]
            for k, name in meta.get("class-map", {}).items():
                note(int(k), name)
            if isinstance(value, int):
                note(value, meta["class-name"])
            elif isinstance(value, list):
                for v in value:
                    assert str(v) in meta["class-map"]
            else:
                for ann in value["annotations"]:
                    assert str(ann["class_id"]) in meta["class-map"]
    return seen
