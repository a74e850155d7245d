"""The evaluation manifest snapshot lines, built from records that real manifests validate into."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from openrek.manifests import ManifestRecord, validate_manifest
from openrek.store.objects import DirectoryObjectStore
from openrek.training.evaluation_files import (
    SnapshotClassMap,
    detection_snapshot_line,
    image_level_snapshot_line,
    jsonl_bytes,
)

from .shapes import png_bytes
from .snapshot_layout import DETAILS, EVALUATION, TRAINING, check_line, class_map_of, read_lines

CREATED = "2024-01-01T00:00:00"


@pytest.fixture
def objects(tmp_path: Path) -> DirectoryObjectStore:
    store = DirectoryObjectStore(tmp_path / "s3")
    store.create_bucket("data")
    return store


def _records(objects: DirectoryObjectStore, lines: list[dict[str, Any]], size: tuple[int, int] = (120, 90),
             **kw: Any) -> list[ManifestRecord]:
    """Store one real PNG per line (source-ref = its key), validate the manifest, return the records."""
    rng = np.random.default_rng(len(lines))
    for i, line in enumerate(lines):
        key = f"img/{i}.png"
        pixels = rng.integers(0, 255, size=(size[1], size[0], 3), dtype=np.uint8)
        objects.put_object("data", key, png_bytes(Image.fromarray(pixels, "RGB")))
        line["source-ref"] = f"s3://data/{key}"
    objects.put_object("data", "m.manifest", "".join(json.dumps(x) + "\n" for x in lines).encode())
    m = validate_manifest(objects, "data", "m.manifest", role="testing", **kw)
    assert m.valid_json_lines == len(lines), [ln.all_codes() for ln in m.lines]
    return m.records


def _cls(attr: str, class_id: int, name: str, type_: str = "groundtruth/image-classification",
         job: str | None = "labeling-job/shapes") -> dict[str, Any]:
    meta = {"confidence": 1, "class-name": name, "human-annotated": "yes", "creation-date": CREATED, "type": type_}
    if job:
        meta["job-name"] = job
    return {attr: class_id, f"{attr}-metadata": meta}


LABELS = ["blue", "green", "red"]
THRESHOLDS = {"blue": 0.5, "green": 0.4, "red": 0.6}


def test_classification_line_follows_the_guide(objects: DirectoryObjectStore) -> None:
    # The user's own class ids (7, 3) mean nothing in the snapshot: ids come from the shared class map.
    records = _records(objects, [{**_cls("shape", 7, "red"), "notes": "kept out"},
                                 _cls("shape", 3, "green", job=None)])
    cmap = SnapshotClassMap(LABELS, records)
    hit = image_level_snapshot_line(records[0], np.array([0.1, 0.2, 0.7]), LABELS, THRESHOLDS, False, cmap)
    assert check_line(hit) == "image-level"
    assert set(hit) == {"source-ref", f"{TRAINING}-0", f"{TRAINING}-0-metadata", f"{EVALUATION}-0",
                        f"{EVALUATION}-0-metadata"}
    assert hit["source-ref"] == records[0].source_ref
    assert hit[f"{TRAINING}-0"] == 2
    assert hit[f"{TRAINING}-0-metadata"] == {"confidence": 1, "class-name": "red", "human-annotated": "yes",
                                             "creation-date": CREATED, "type": "groundtruth/image-classification",
                                             "job-name": "labeling-job/shapes"}
    meta = hit[f"{EVALUATION}-0-metadata"]
    assert hit[f"{EVALUATION}-0"] == 2 and meta["class-name"] == "red" and meta["confidence"] == pytest.approx(0.7)
    assert meta["type"] == "groundtruth/image-classification"
    assert meta["job-name"] == "rekognition-custom-labels-evaluation-job"
    assert meta[DETAILS] == {"version": 1, "is-true-positive": True, "is-true-negative": False,
                             "is-false-positive": False, "is-false-negative": False,
                             "is-present-in-ground-truth": True,
                             "ground-truth-labelling-jobs": ["labeling-job/shapes"]}
    # Wrong and confident: false positive; a ground truth without job-name gets the guide's default.
    miss = image_level_snapshot_line(records[1], np.array([0.8, 0.1, 0.1]), LABELS, THRESHOLDS, False, cmap)
    assert miss[f"{TRAINING}-0"] == 1
    assert miss[f"{TRAINING}-0-metadata"]["job-name"] == "rekognition-custom-labels-training-job"
    details = miss[f"{EVALUATION}-0-metadata"][DETAILS]
    assert details["is-false-positive"] and not details["is-present-in-ground-truth"]
    assert details["ground-truth-labelling-jobs"] == ["rekognition-custom-labels-training-job"]
    # Right but under its threshold: false negative; wrong and under: true negative.
    low = image_level_snapshot_line(records[0], np.array([0.2, 0.2, 0.55]), LABELS, THRESHOLDS, False, cmap)
    assert low[f"{EVALUATION}-0-metadata"][DETAILS]["is-false-negative"]
    quiet = image_level_snapshot_line(records[1], np.array([0.45, 0.3, 0.25]), LABELS, THRESHOLDS, False, cmap)
    assert quiet[f"{EVALUATION}-0-metadata"][DETAILS]["is-true-negative"]
    assert class_map_of([hit, miss, low, quiet]) == {0: "blue", 1: "green", 2: "red"}


def test_multi_label_lines_judge_each_label(objects: DirectoryObjectStore) -> None:
    multilabel = "groundtruth/image-classification-multilabel"
    transform = {**_cls("tags0", 0, "red", multilabel), **_cls("tags1", 1, "blue", multilabel)}
    native = {"tags": [4, 9], "tags-metadata": {"class-map": {"4": "green", "9": "red"},
                                                "confidence-map": {"4": 0.8, "9": 0.9}, "type": multilabel,
                                                "human-annotated": "yes", "creation-date": CREATED,
                                                "job-name": "labeling-job/tags"}}
    records = _records(objects, [transform, native])
    cmap = SnapshotClassMap(LABELS, records)
    # red predicted (TP), green predicted (FP), blue missed (FN).
    line = image_level_snapshot_line(records[0], np.array([0.3, 0.5, 0.9]), LABELS, THRESHOLDS, True, cmap)
    assert check_line(line) == "image-level"
    assert [line[f"{TRAINING}-{n}"] for n in (0, 1)] == [2, 0]
    assert [line[f"{TRAINING}-{n}-metadata"]["class-name"] for n in (0, 1)] == ["red", "blue"]
    judged = [(line[f"{EVALUATION}-{n}-metadata"]["class-name"], line[f"{EVALUATION}-{n}"]) for n in range(3)]
    assert judged == [("red", 2), ("green", 1), ("blue", 0)] and f"{EVALUATION}-3" not in line
    flags = [{k for k, v in line[f"{EVALUATION}-{n}-metadata"][DETAILS].items() if v is True} for n in range(3)]
    assert flags == [{"is-true-positive", "is-present-in-ground-truth"}, {"is-false-positive"},
                     {"is-false-negative", "is-present-in-ground-truth"}]
    assert all(line[f"{EVALUATION}-{n}-metadata"]["type"] == multilabel for n in range(3))
    # SageMaker's native form keeps its shape, with its ids and maps moved onto the shared class map.
    other = image_level_snapshot_line(records[1], np.array([0.1, 0.6, 0.8]), LABELS, THRESHOLDS, True, cmap)
    assert check_line(other) == "image-level"
    assert other[f"{TRAINING}-0"] == [1, 2]
    meta = other[f"{TRAINING}-0-metadata"]
    assert meta["class-map"] == {"0": "blue", "1": "green", "2": "red"}
    assert meta["confidence-map"] == {"1": 0.8, "2": 0.9}
    assert [other[f"{EVALUATION}-{n}-metadata"][DETAILS]["is-true-positive"] for n in (0, 1)] == [True, True]
    assert class_map_of(read_lines(jsonl_bytes([line, other]))) == {0: "blue", 1: "green", 2: "red"}


def test_a_label_only_the_test_set_names_joins_the_class_map(objects: DirectoryObjectStore) -> None:
    records = _records(objects, [_cls("shape", 0, "purple"), _cls("shape", 0, "red")])
    cmap = SnapshotClassMap(LABELS, records)
    assert cmap.to_json() == {"0": "blue", "1": "green", "2": "red", "3": "purple"}
    lines = [image_level_snapshot_line(r, np.array([0.1, 0.1, 0.9]), LABELS, THRESHOLDS, False, cmap)
             for r in records]
    assert lines[0][f"{TRAINING}-0"] == 3 and lines[1][f"{TRAINING}-0"] == 2
    assert lines[0][f"{EVALUATION}-0-metadata"][DETAILS]["is-false-positive"]
    assert class_map_of(lines) == {2: "red", 3: "purple"}


def test_moderation_lines_keep_their_ground_truth(objects: DirectoryObjectStore) -> None:
    moderation = "content-moderation-groundtruth"
    records = _records(objects, [{moderation: {"ModerationLabels": []}},
                                 {moderation: {"ModerationLabels": [{"Name": "Rude Gesture"}]}}],
                       feature="CONTENT_MODERATION")
    labels = ["Rude Gesture"]
    safe = image_level_snapshot_line(records[0], np.array([0.2]), labels, {"Rude Gesture": 0.5}, True)
    assert check_line(safe) == "image-level"
    assert safe[moderation] == {"ModerationLabels": []}
    details = safe[f"{EVALUATION}-0-metadata"][DETAILS]
    assert details["is-true-negative"] and details["ground-truth-labelling-jobs"] == [moderation]
    rude = image_level_snapshot_line(records[1], np.array([0.9]), labels, {"Rude Gesture": 0.5}, True)
    assert rude[f"{EVALUATION}-0-metadata"][DETAILS]["is-true-positive"]


def _detection_line(boxes: list[tuple[int, int, int, int]], class_map: dict[str, str],
                    ids: list[int]) -> dict[str, Any]:
    return {"bounding-box": {"image_size": [{"width": 200, "height": 100, "depth": 3}],
                             "annotations": [{"class_id": c, "left": b[0], "top": b[1], "width": b[2], "height": b[3]}
                                             for b, c in zip(boxes, ids, strict=True)]},
            "bounding-box-metadata": {"objects": [{"confidence": 0.9 - 0.1 * i} for i in range(len(boxes))],
                                      "class-map": class_map, "type": "groundtruth/object-detection",
                                      "human-annotated": "yes", "creation-date": CREATED,
                                      "job-name": "labeling-job/boxes"}}


def test_detection_line_lists_judged_boxes_per_object(objects: DirectoryObjectStore) -> None:
    # Two good boxes and one off the frame (dropped by validation, so not ground truth in the snapshot).
    line = _detection_line([(10, 10, 40, 40), (120, 20, 50, 60), (180, 50, 40, 40)],
                           {"5": "box", "6": "ball"}, [5, 5, 6])
    records = _records(objects, [line], size=(200, 100))
    record = records[0]
    labels = ["ball", "box"]
    cmap = SnapshotClassMap(labels, records)
    thresholds = {"ball": 0.5, "box": 0.5}
    gt = np.array([[b.left / 200, b.top / 100, (b.left + b.width) / 200, (b.top + b.height) / 100]
                   for b in record.boxes])
    gt_classes = np.array([labels.index(b.label) for b in record.boxes])
    candidates = np.array([
        [10 / 200, 10 / 100, 50 / 200, 50 / 100],  # on box 1, confident: true positive
        [0.60, 0.20, 0.85, 0.80],  # on box 2, under the threshold: false negative
        [0.30, 0.50, 0.45, 0.95],  # confident, on nothing: false positive
        [0.00, 0.70, 0.10, 0.95],  # under the threshold, on nothing: left out
    ])
    scores = np.array([0.9, 0.2, 0.7, 0.3])
    classes = np.array([1, 1, 0, 1])
    out = detection_snapshot_line(record, candidates, scores, classes, labels, thresholds, gt, gt_classes,
                                  None, cmap)
    assert check_line(out) == "detection"
    assert set(out) == {"source-ref", f"{TRAINING}-0", f"{TRAINING}-0-metadata", EVALUATION,
                        f"{EVALUATION}-metadata"}
    truth, truth_meta = out[f"{TRAINING}-0"], out[f"{TRAINING}-0-metadata"]
    assert truth["image_size"] == [{"width": 200, "height": 100, "depth": 3}]
    assert truth["annotations"] == [{"class_id": 1, "left": 10, "top": 10, "width": 40, "height": 40},
                                    {"class_id": 1, "left": 120, "top": 20, "width": 50, "height": 60}]
    assert truth_meta["objects"] == [{"confidence": 0.9}, {"confidence": 0.8}]
    assert truth_meta["class-map"] == {"0": "ball", "1": "box"} and truth_meta["job-name"] == "labeling-job/boxes"
    ev, meta = out[EVALUATION], out[f"{EVALUATION}-metadata"]
    assert ev["image_size"] == [{"width": 200, "height": 100, "depth": 3}]
    assert ev["annotations"] == [{"class_id": 1, "left": 10, "top": 10, "width": 40, "height": 40},
                                 {"class_id": 0, "left": 60, "top": 50, "width": 30, "height": 45},
                                 {"class_id": 1, "left": 120, "top": 20, "width": 50, "height": 60}]
    assert [o["confidence"] for o in meta["objects"]] == pytest.approx([0.9, 0.7, 0.2])
    assert meta["confidence"] == pytest.approx(0.9) and meta["class-map"] == {"0": "ball", "1": "box"}
    assert meta["job-name"] == "rekognition-custom-labels-evaluation-job"
    flags = [{k for k, v in o[DETAILS].items() if v is True} for o in meta["objects"]]
    assert flags == [{"is-true-positive", "is-present-in-ground-truth"}, {"is-false-positive"},
                     {"is-false-negative", "is-present-in-ground-truth"}]
    assert all(o[DETAILS]["ground-truth-labelling-jobs"] == ["labeling-job/boxes"] for o in meta["objects"])
    assert class_map_of([out]) == {0: "ball", 1: "box"}
    # No candidate at all: an empty prediction, still in the layout.
    empty = detection_snapshot_line(record, np.zeros((0, 4)), np.zeros(0), np.zeros(0), labels, thresholds,
                                    gt, gt_classes, None, cmap)
    assert check_line(empty) == "detection" and empty[EVALUATION]["annotations"] == []
    assert empty[f"{EVALUATION}-metadata"]["confidence"] == 0.0


def test_numpy_values_serialise_as_plain_json() -> None:
    """A score compared with a threshold is a numpy bool: the files must still be written (a dataset-trained
    version once failed with ERROR_CANNOT_WRITE_OUTPUT_S3_BUCKET: 'Object of type bool is not JSON serializable')."""
    import json

    import numpy as np

    from openrek.training.evaluation_files import json_bytes, jsonl_bytes

    line = {"is-true-positive": np.float32(0.7) >= 0.5, "confidence": np.float32(0.25), "n": np.int64(3),
            "box": np.array([0.1, 0.2])}
    assert json.loads(jsonl_bytes([line])) == {"is-true-positive": True, "confidence": 0.25, "n": 3,
                                               "box": [0.1, 0.2]}
    assert json.loads(json_bytes({"x": np.bool_(False)})) == {"x": False}
