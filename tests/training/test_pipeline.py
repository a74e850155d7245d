"""`run_training` end to end over a DirectoryObjectStore with generated manifests, then `Predictor`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openrek.imaging import ImageError
from openrek.store.objects import DirectoryObjectStore
from openrek.training.inference import Predictor
from openrek.training.pipeline import run_training
from openrek.training.request import S3Ref, TrainingOptions, TrainingRequest

from .shapes import (
    classification_examples,
    detection_examples,
    jpeg_bytes,
    multilabel_examples,
    png_bytes,
    write_manifest,
)
from .snapshot_layout import DETAILS, EVALUATION, TRAINING, check_line, class_map_of, read_lines

ARN = "arn:aws:rekognition:us-east-1:000000000000:project/{p}/version/v1/1700000000000"


def _store(tmp: Path) -> DirectoryObjectStore:
    objects = DirectoryObjectStore(tmp / "s3")
    for b in ("data", "out", "models"):
        objects.create_bucket(b)
    return objects


def _request(project: str, train: str, test: str | None, options: dict) -> TrainingRequest:  # type: ignore[type-arg]
    return TrainingRequest(
        project_name=project,
        version_name="v1",
        version_arn=ARN.format(p=project),
        feature="CUSTOM_LABELS",
        training_manifests=[S3Ref("data", train)],
        testing_manifests=[S3Ref("data", test)] if test else [],
        testing_autocreate=test is None,
        output_bucket="out",
        output_prefix="results",
        artifact_bucket="models",
        artifact_prefix=f"{project}/v1/",
        time_budget_s=120,
        seed=0,
        options=TrainingOptions.from_dict(options),
    )


@pytest.fixture(scope="module")
def classification(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    objects = _store(tmp_path_factory.mktemp("cls"))
    train = classification_examples(12, seed=21)
    test = classification_examples(4, seed=22)
    write_manifest(objects, "data", "train.manifest", train, "train")
    write_manifest(objects, "data", "test.manifest", test, "test")
    messages: list[str] = []
    req = _request("shapes", "train.manifest", "test.manifest", {"image_size": 64})
    outcome = run_training(req, objects, progress=messages.append)
    return objects, outcome, test, messages


def test_classification_end_to_end(classification) -> None:  # type: ignore[no-untyped-def]
    objects, outcome, test, messages = classification
    assert outcome.status == "TRAINING_COMPLETED", outcome.status_message
    assert outcome.task == "classification"
    assert outcome.f1_score is not None and outcome.f1_score >= 0.8
    assert set(outcome.label_thresholds) == {"blue", "green", "red"}
    assert all(0 <= t <= 1 for t in outcome.label_thresholds.values())
    assert outcome.evaluation_summary == S3Ref("out", "results/EvaluationResultSummary-shapes-v1.json")
    assert outcome.artifact == S3Ref("models", "shapes/v1/model.json")
    assert outcome.testing_data_result["Output"]["Assets"][0]["GroundTruthManifest"]["S3Object"]["Name"] == (
        "results/TestingGroundTruth-shapes-v1.json"
    )
    assert outcome.billable_training_seconds >= 1 and messages

    summary = json.loads(objects.get_bytes("out", "results/EvaluationResultSummary-shapes-v1.json"))
    assert summary["Version"] == 1
    details = summary["EvaluationDetails"]
    assert details["NumberOfTrainingImages"] == 36 and details["NumberOfTestingImages"] == 12
    assert details["Labels"] == ["blue", "green", "red"]
    metrics = summary["AggregatedEvaluationResults"]["Metrics"]
    assert metrics["F1Score"] == pytest.approx(outcome.f1_score)
    assert len(metrics["ConfusionMatrix"]) == 9
    per_label = summary["LabelEvaluationResults"]
    assert [r["Metrics"]["F1Score"] for r in per_label] == sorted(
        (r["Metrics"]["F1Score"] for r in per_label), reverse=True
    )
    assert {r["NumberOfTestingImages"] for r in per_label} == {4}

    lines = read_lines(objects.get_bytes("out", "results/TestingGroundTruth-shapes-v1.json"))
    assert len(lines) == 12
    assert all(check_line(line) == "image-level" for line in lines)
    assert class_map_of(lines) == {0: "blue", 1: "green", 2: "red"}
    for line, ex in zip(lines, test, strict=True):
        assert line["source-ref"].startswith("s3://data/test/")
        assert line[f"{TRAINING}-0-metadata"]["class-name"] == ex.labels[0]
        assert f"{EVALUATION}-1" not in line  # classification judges the top label only
        meta = line[f"{EVALUATION}-0-metadata"]
        assert meta["type"] == "groundtruth/image-classification"
        assert meta[DETAILS]["ground-truth-labelling-jobs"] == ["labeling-job/shapes"]
        assert meta[DETAILS]["is-present-in-ground-truth"] == (meta["class-name"] == ex.labels[0])
    right = sum(line[f"{EVALUATION}-0-metadata"][DETAILS]["is-true-positive"] for line in lines)
    assert right >= 9  # F1 ≥ 0.8 above


def test_predictor_classification(classification) -> None:  # type: ignore[no-untyped-def]
    objects, outcome, test, _ = classification
    predictor = Predictor.load(objects, outcome.artifact)
    ex = test[0]
    found = predictor.predict(jpeg_bytes(ex.image), None, None)
    assert found and found[0]["Name"] == ex.labels[0]
    assert set(found[0]) == {"Name", "Confidence"} and 0 <= found[0]["Confidence"] <= 100
    everything = predictor.predict(png_bytes(ex.image), 0, None)
    assert len(everything) == 3
    assert [e["Confidence"] for e in everything] == sorted(
        (e["Confidence"] for e in everything), reverse=True
    )
    assert len(predictor.predict(png_bytes(ex.image), 0, 2)) == 2
    assert predictor.predict(png_bytes(ex.image), 100.0, None) == [] or everything[0]["Confidence"] == 100.0
    # The artifact can be named by its .onnx or by the prefix too.
    assert Predictor.load(objects, S3Ref("models", "shapes/v1/")).spec.labels == ["blue", "green", "red"]
    spec = json.loads(objects.get_bytes("models", "shapes/v1/model.json"))
    assert spec["task"] == "classification" and spec["input"]["size"] == [64, 64]
    assert spec["thresholds"] == pytest.approx(outcome.label_thresholds)


def test_predictor_rejects_invalid_images(classification) -> None:  # type: ignore[no-untyped-def]
    objects, outcome, _, _ = classification
    predictor = Predictor.load(objects, outcome.artifact)
    with pytest.raises(ImageError):
        predictor.predict(b"not an image at all", None, None)
    import io

    buf = io.BytesIO()
    Image.new("RGB", (80, 80)).save(buf, "GIF")
    with pytest.raises(ImageError, match="GIF"):
        predictor.predict(buf.getvalue(), None, None)
    # Palette PNG with transparency and greyscale JPEG decode fine.
    pal = Image.new("P", (80, 80))
    buf = io.BytesIO()
    pal.save(buf, "PNG", transparency=0)
    assert isinstance(predictor.predict(buf.getvalue(), 0, 1), list)
    assert isinstance(predictor.predict(jpeg_bytes(Image.new("L", (70, 90), 128)), 0, 1), list)


def test_multi_label_from_aws_transform_manifests(tmp_path: Path) -> None:
    objects = _store(tmp_path)
    train = multilabel_examples(60, seed=41)
    test = multilabel_examples(12, seed=42)
    write_manifest(objects, "data", "train.manifest", train, "train", multilabel_transform=True)
    write_manifest(objects, "data", "test.manifest", test, "test", multilabel_transform=True)
    outcome = run_training(_request("tags", "train.manifest", "test.manifest", {"image_size": 64}), objects)
    assert outcome.status == "TRAINING_COMPLETED", outcome.status_message
    assert outcome.task == "multi_label" and set(outcome.label_thresholds) == {"blue", "green", "red"}
    summary = json.loads(objects.get_bytes("out", "results/ManifestSummary-tags-v1.json"))
    assert summary["statistics"]["training"]["valid_json_lines"] == 60
    assert summary["statistics"]["testing"]["invalid_json_lines"] == 0

    lines = read_lines(objects.get_bytes("out", "results/TestingGroundTruth-tags-v1.json"))
    assert len(lines) == 12 and all(check_line(line) == "image-level" for line in lines)
    assert class_map_of(lines) == {0: "blue", 1: "green", 2: "red"}
    for line, ex in zip(lines, test, strict=True):
        truth = [line[f"{TRAINING}-{n}-metadata"]["class-name"] for n in range(len(ex.labels))]
        assert truth == ex.labels and f"{TRAINING}-{len(ex.labels)}" not in line
        judged = {}
        n = 0
        while f"{EVALUATION}-{n}" in line:
            meta = line[f"{EVALUATION}-{n}-metadata"]
            assert meta["type"] == "groundtruth/image-classification-multilabel"
            judged[meta["class-name"]] = meta[DETAILS]
            n += 1
        # Every ground-truth label is judged (found or missed); nothing is judged twice.
        assert set(ex.labels) <= set(judged) and n == len(judged)
        for name, details in judged.items():
            assert details["is-present-in-ground-truth"] == (name in ex.labels)
            # Judged labels are predicted or in the ground truth, so none is a true negative here.
            assert not details["is-true-negative"]


def test_terminal_manifest_error_becomes_training_failed(tmp_path: Path) -> None:
    objects = _store(tmp_path)
    objects.put_object("data", "empty.manifest", b"")
    outcome = run_training(_request("empty", "empty.manifest", None, {}), objects)
    assert outcome.status == "TRAINING_FAILED"
    assert outcome.status_message.startswith("ERROR_EMPTY_MANIFEST")
    assert outcome.artifact is None


def test_too_few_labels_writes_summary_and_fails(tmp_path: Path) -> None:
    objects = _store(tmp_path)
    write_manifest(objects, "data", "one.manifest", classification_examples(6, 1, labels=("red",)), "one")
    outcome = run_training(_request("one", "one.manifest", None, {}), objects)
    assert outcome.status == "TRAINING_FAILED"
    assert "ERROR_MANIFEST_TOO_FEW_LABELS" in outcome.status_message
    assert outcome.manifest_summary is not None


@pytest.mark.slow
def test_detection_end_to_end(tmp_path: Path) -> None:
    objects = _store(tmp_path)
    train = detection_examples(40, seed=31)
    test = detection_examples(12, seed=32)
    write_manifest(objects, "data", "train.manifest", train, "train", detection=True)
    write_manifest(objects, "data", "test.manifest", test, "test", detection=True)
    opts = {"detector_image_size": 128, "detector_max_seconds": 90}
    outcome = run_training(_request("boxes", "train.manifest", "test.manifest", opts), objects)
    assert outcome.status == "TRAINING_COMPLETED", outcome.status_message
    assert outcome.task == "detection" and outcome.f1_score is not None and outcome.f1_score >= 0.5

    summary = json.loads(objects.get_bytes("out", "results/EvaluationResultSummary-boxes-v1.json"))
    metrics = summary["AggregatedEvaluationResults"]["Metrics"]
    assert "AveragePrecision" in metrics and "AverageRecall" in metrics and "ConfusionMatrix" not in metrics
    assert 0 <= summary["OpenRekDetails"]["MeanAveragePrecisionIoU50To95"] <= metrics["AveragePrecision"]
    lines = read_lines(objects.get_bytes("out", "results/TestingGroundTruth-boxes-v1.json"))
    assert len(lines) == len(test) and all(check_line(line) == "detection" for line in lines)
    assert class_map_of(lines) == {0: "box"}
    found = {"is-true-positive": 0, "is-false-positive": 0, "is-false-negative": 0}
    for line, ex in zip(lines, test, strict=True):
        truth = line[f"{TRAINING}-0"]
        assert len(truth["annotations"]) == len(ex.boxes)
        assert truth["image_size"] == line[EVALUATION]["image_size"] == [{"width": 128, "height": 128, "depth": 3}]
        assert line[f"{TRAINING}-0-metadata"]["class-map"] == line[f"{EVALUATION}-metadata"]["class-map"]
        for obj in line[f"{EVALUATION}-metadata"]["objects"]:
            assert obj[DETAILS]["ground-truth-labelling-jobs"] == ["labeling-job/boxes"]
            for k in found:
                found[k] += obj[DETAILS][k]
    assert found["is-true-positive"] > 0  # F1 ≥ 0.5 above
    # Each ground-truth box is matched by at most one listed box.
    assert found["is-true-positive"] + found["is-false-negative"] <= sum(len(ex.boxes) for ex in test)

    predictor = Predictor.load(objects, outcome.artifact)
    assert predictor.predict(png_bytes(test[0].image), 0, 5), "MinConfidence 0 returns the candidates"
    hits = 0
    for ex in test:
        found = predictor.predict(png_bytes(ex.image), None, 10)
        for item in found:
            assert item["Name"] == "box" and 0 <= item["Confidence"] <= 100
            bb = item["Geometry"]["BoundingBox"]
            assert set(bb) == {"Width", "Height", "Left", "Top"}
            assert all(0.0 <= v <= 1.0 for v in bb.values())
        if not found:
            continue
        best = max(found, key=lambda f: f["Confidence"])["Geometry"]["BoundingBox"]
        centre = np.array([best["Left"] + best["Width"] / 2, best["Top"] + best["Height"] / 2]) * 128
        centres = [np.array([b.left + b.width / 2, b.top + b.height / 2]) for b in ex.boxes]
        hits += int(min(np.linalg.norm(centre - c) for c in centres) < 20)
    # At the assumed thresholds the most confident box sits on a rectangle in most test images.
    assert hits >= len(test) // 2, (hits, outcome.f1_score)


def test_the_test_set_cannot_change_the_model(tmp_path: Path) -> None:
    """The same training manifest with two different test sets (the second with every label wrong) gives
    the same model: the test set is used once, for the evaluation, and never for a choice."""
    objects = _store(tmp_path)
    train = classification_examples(12, seed=41)
    test = classification_examples(4, seed=42)
    write_manifest(objects, "data", "train.manifest", train, "train")
    write_manifest(objects, "data", "test-a.manifest", test, "test")
    rotate = {"blue": "green", "green": "red", "red": "blue"}
    wrong = [type(ex)(ex.image, [rotate[label] for label in ex.labels], ex.boxes) for ex in test]
    write_manifest(objects, "data", "test-b.manifest", wrong, "test")
    outcomes = []
    for name in ("a", "b"):
        request = _request(f"honest-{name}", "train.manifest", f"test-{name}.manifest", {"image_size": 64})
        outcomes.append(run_training(request, objects))
    a, b = outcomes
    assert a.status == b.status == "TRAINING_COMPLETED", (a.status_message, b.status_message)
    assert a.f1_score is not None and b.f1_score is not None and a.f1_score > b.f1_score
    probe = [png_bytes(ex.image) for ex in classification_examples(3, seed=43)]
    answers = [[Predictor.load(objects, o.artifact).predict(image, 0) for image in probe] for o in outcomes]
    assert answers[0] == answers[1]


def test_a_training_cut_by_the_time_budget_says_so(tmp_path: Path) -> None:
    objects = _store(tmp_path)
    write_manifest(objects, "data", "train.manifest", detection_examples(16, seed=51), "train", detection=True)
    write_manifest(objects, "data", "test.manifest", detection_examples(4, seed=52), "test", detection=True)
    opts = {"detector_image_size": 96, "detector_max_seconds": 3, "detector_epochs": 1000}
    outcome = run_training(_request("cut", "train.manifest", "test.manifest", opts), objects)
    assert outcome.status == "TRAINING_COMPLETED", outcome.status_message
    assert outcome.status_message.startswith("The model is ready to run. Training stopped at the time budget")
    assert "planned steps" in outcome.status_message
    summary = json.loads(objects.get_bytes("out", "results/EvaluationResultSummary-cut-v1.json"))
    assert summary["OpenRekDetails"]["budget_hit"] is True


def test_the_job_contract_refuses_what_it_does_not_know() -> None:
    from openrek.training.request import ContractError, TrainingOptions

    request = _request("contract", "train.manifest", None, {})
    request.options = TrainingOptions.from_dict({"image_size": 96, "backbones": ["mobilenet_v2"],
                                                 "detector_sizes": [320, 640]})
    payload = request.to_payload()
    assert payload["options"] == {"image_size": 96, "backbones": ["mobilenet_v2"], "detector_sizes": [320, 640]}
    assert TrainingRequest.from_payload(json.loads(json.dumps(payload))) == request
    with pytest.raises(ContractError, match="payload: budget is not known to this openrek"):
        TrainingRequest.from_payload({**payload, "budget": 5})
    with pytest.raises(ContractError, match="options: detector_size is not known to this openrek"):
        TrainingOptions.from_dict({"detector_size": 256})
    for sizes in ([640, 320], [0, 0], [320], [320, "640"], [320, 100_000]):
        with pytest.raises(ContractError, match=r"detector_sizes must be \[smallest, largest\]"):
            TrainingOptions.from_dict({"detector_sizes": sizes})
    with pytest.raises(ContractError, match="detector_sizes must be a list"):
        TrainingOptions.from_dict({"detector_sizes": 320})
    for threshold in (0, -1, 1.5, "0.3", True):
        with pytest.raises(ContractError, match="detector_balance_threshold must be a share"):
            TrainingOptions.from_dict({"detector_balance_threshold": threshold})
    assert TrainingOptions.from_dict({"detector_balance_threshold": 0.3, "detector_sizes": [320, 640]}) == \
        TrainingOptions(detector_balance_threshold=0.3, detector_sizes=(320, 640))
