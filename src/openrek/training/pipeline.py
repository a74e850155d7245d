"""One training job end to end: manifests → data → model → evaluation → output files → ONNX artifact.

`run_training(request, objects, progress)` is what the job runner calls in a worker process. User-data
problems (terminal manifest errors) end as TRAINING_FAILED with AWS's code; it never raises for them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from openrek.manifests import ManifestContentError, PreparedData, load_rgb_image, prepare_datasets
from openrek.manifests.output_files import (
    EVALUATION_SUMMARY,
    JSON_CONTENT_TYPE,
    TESTING_GROUND_TRUTH,
    join_prefix,
    output_key,
)
from openrek.manifests.types import Box, ManifestRecord, TerminalManifestError
from openrek.store.objects import ObjectStore
from openrek.store.space_reserve import is_disk_full
from openrek.training.data import Budget, Example
from openrek.training.evaluation_files import evaluation_summary, json_bytes, jsonl_bytes
from openrek.training.image_copy import ImageCopyError, copy_images
from openrek.training.request import S3Ref, TrainingOutcome, TrainingRequest
from openrek.training.tasks import CLASSIFICATION, DETECTION, MULTI_LABEL, FitSettings, family_for

log = logging.getLogger("openrek.training")


def _budget_note(info: dict[str, Any], budget_s: float) -> str:
    """What a version's StatusMessage adds when the time budget, not the data, ended its training."""
    if not info.get("budget_hit"):
        return ""
    if "planned_steps" in info:
        done = f"after {info.get('steps')} of its {info['planned_steps']} planned steps"
    else:
        done = "before every candidate was tried"
    return (f" Training stopped at the time budget ({budget_s:.0f} s) {done}; a longer budget "
            "(OPENREK_TRAINING_BUDGET_S) may give a better model.")


def task_of(prepared: PreparedData) -> str:
    """detection for object localisation; multi-label when any image has ≠ 1 label (or moderation)."""
    if prepared.use_case == "OBJECT_LOCALIZATION":
        return DETECTION
    if prepared.content_moderation:
        return MULTI_LABEL
    if any(len(r.labels) != 1 for r in prepared.train + prepared.test):
        return MULTI_LABEL
    return CLASSIFICATION


def _failed(message: str, prepared: PreparedData | None, started: float) -> TrainingOutcome:
    outcome = TrainingOutcome(status="TRAINING_FAILED", status_message=message)
    outcome.billable_training_seconds = int(round(time.monotonic() - started))
    if prepared is not None:
        outcome.training_data_result = prepared.training_data_result()
        outcome.testing_data_result = prepared.testing_data_result()
        ms = prepared.outputs.manifest_summary if prepared.outputs else None
        if ms is not None:
            outcome.manifest_summary = S3Ref(ms.bucket, ms.name, ms.version)
    return outcome


def _examples(
    objects: ObjectStore, records: list[ManifestRecord], progress: Callable[[str], None], max_side: int = 1024
) -> list[Example]:
    out: list[Example] = []
    for r in records:
        try:
            img = load_rgb_image(objects, r)
        except Exception as exc:  # validated earlier; a vanished object is skipped, not fatal
            progress(f"skipping {r.source_ref}: {exc}")
            continue
        out.append(_shrunk(Example(img, list(r.labels), list(r.boxes), r), max_side))
    return out


def _shrunk(ex: Example, max_side: int) -> Example:
    """Keep big images at most `max_side` pixels a side in memory (boxes scaled alike); models see far less."""
    w, h = ex.image.size
    scale = max_side / max(w, h)
    if scale >= 1.0:
        return ex
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    sx, sy = size[0] / w, size[1] / h
    boxes = [Box(b.label, b.left * sx, b.top * sy, b.width * sx, b.height * sy) for b in ex.boxes]
    return Example(ex.image.resize(size, Image.BILINEAR), ex.labels, boxes, ex.record)


def run_training(
    request: TrainingRequest, objects: ObjectStore, progress: Callable[[str], None] | None = None
) -> TrainingOutcome:
    """Train, evaluate, write the evaluation files and the ONNX artifact; return the outcome."""
    started = time.monotonic()
    say = progress or (lambda m: log.info("%s", m))
    options = request.options
    budget = Budget(request.time_budget_s)
    say("validating manifests")
    prepared: PreparedData | None = None
    try:
        prepared = prepare_datasets(
            objects,
            training_refs=request.training_manifests,
            testing_refs=request.testing_manifests,
            autocreate=request.testing_autocreate,
            output_bucket=request.output_bucket,
            output_prefix=request.output_prefix,
            project_name=request.project_name,
            version_name=request.version_name,
            seed=request.seed,
            feature=request.feature,
        )
    except TerminalManifestError as exc:  # content errors (a subclass) carry the files already written
        prepared_files = exc.prepared if isinstance(exc, ManifestContentError) else None
        return _failed(f"{exc.code}: {exc.message}", prepared_files, started)

    # The data is valid: only now pay for torch (seconds to import), so manifest errors come back at once.
    import torch

    from openrek.training.device import configure_threads
    from openrek.training.inference import Predictor
    from openrek.training.model_file import model_description

    configure_threads(options.threads)
    torch.manual_seed(request.seed)
    np.random.seed(request.seed % (2**32))
    task = task_of(prepared)
    labels = list(prepared.labels)
    say(f"loading images: {len(prepared.train)} training, {len(prepared.test)} testing ({task})")
    keep = 2 * max(options.image_size, options.detector_image_size or max(options.detector_sizes))
    say("copying the images into the service")
    try:
        train_records = copy_images(objects, prepared.train, request.artifact_bucket, request.artifact_prefix)
        test_records = copy_images(objects, prepared.test, request.artifact_bucket, request.artifact_prefix + "test-")
    except ImageCopyError as exc:
        return _failed(f"ERROR_FAILED_IMAGES_S3_COPY: {exc}. Check that the images still exist, then train again.",
                       prepared, started)
    train = _examples(objects, train_records, say, keep)
    test = _examples(objects, test_records, say, keep)
    if not train or not test:
        return _failed(
            "ERROR_FAILED_IMAGES_S3_COPY: the training or testing images could not be read from the object store.",
            prepared,
            started,
        )
    fit_budget = Budget(max(5.0, budget.remaining() - options.reserve_s))
    family = family_for(task)
    train_started = time.monotonic()
    # Only the training examples reach fitting: every choice is made on splits of them.
    fitted = family.fit(task, train, FitSettings(labels, options, request.seed, fit_budget, say))
    fit_seconds = time.monotonic() - train_started
    say("exporting to ONNX")
    onnx_bytes = family.export(fitted)
    info = {**fitted.info, **family.check_export(fitted, onnx_bytes)}
    train_seconds = time.monotonic() - train_started

    # Evaluate what will be served: the exported model through onnxruntime, on the test set, once.
    say("evaluating on the test set")
    desc = model_description(task=task, labels=labels, thresholds={}, image_size=fitted.image_size,
                             normalized_input=fitted.normalized_input)
    predictor = Predictor.from_bytes(desc, onnx_bytes)
    evaluation = family.evaluate(task, predictor, test, labels)
    info["train_seconds"] = round(fit_seconds, 1)
    info["export_seconds"] = round(train_seconds - fit_seconds, 1)
    image_size, normalized = fitted.image_size, fitted.normalized_input

    summary = evaluation_summary(
        version_arn=request.version_arn,
        labels=labels,
        label_metrics=evaluation.label_metrics,
        aggregated=evaluation.aggregated,
        n_train=len(train),
        n_test=len(test),
        confusion=evaluation.confusion,
        details={"Task": task, **{k: v for k, v in info.items() if k != "history"}, **evaluation.extra},
    )
    summary_key = output_key(
        request.output_prefix, EVALUATION_SUMMARY, request.project_name, request.version_name
    )
    snapshot_key = output_key(
        request.output_prefix, TESTING_GROUND_TRUTH, request.project_name, request.version_name
    )
    try:
        objects.put_object(
            request.output_bucket,
            summary_key,
            json_bytes(summary),
            content_type=JSON_CONTENT_TYPE,
        )
        objects.put_object(
            request.output_bucket,
            snapshot_key,
            jsonl_bytes(evaluation.snapshot),
            content_type=JSON_CONTENT_TYPE,
        )
    except Exception as exc:
        if is_disk_full(exc):
            raise  # the job says the disk is full
        return _failed(
            f"ERROR_CANNOT_WRITE_OUTPUT_S3_BUCKET: could not write the evaluation files to "
            f"s3://{request.output_bucket}/{summary_key} ({exc}).",
            prepared,
            started,
        )

    desc = model_description(
        task=task,
        labels=labels,
        thresholds=evaluation.thresholds,
        image_size=image_size,
        normalized_input=normalized,
        extra={
            "project_version_arn": request.version_arn,
            "f1_score": evaluation.aggregated["F1Score"],
            "training": {k: v for k, v in info.items() if k != "history"},
        },
    )
    onnx_key = join_prefix(request.artifact_prefix, "model.onnx")
    json_key = join_prefix(request.artifact_prefix, "model.json")
    objects.put_object(request.artifact_bucket, onnx_key, onnx_bytes, content_type="application/octet-stream")
    objects.put_object(
        request.artifact_bucket,
        json_key,
        json_bytes(desc),
        content_type=JSON_CONTENT_TYPE,
    )

    ms = prepared.outputs.manifest_summary if prepared.outputs else None
    outcome = TrainingOutcome(
        status="TRAINING_COMPLETED",
        status_message="The model is ready to run." + _budget_note(info, request.time_budget_s),
        f1_score=float(evaluation.aggregated["F1Score"]),
        evaluation_summary=S3Ref(request.output_bucket, summary_key),
        manifest_summary=S3Ref(ms.bucket, ms.name, ms.version) if ms else None,
        training_data_result=prepared.training_data_result(),
        testing_data_result=prepared.testing_data_result(),
        billable_training_seconds=int(round(time.monotonic() - started)),
        artifact=S3Ref(request.artifact_bucket, json_key),
        task=task,
        label_thresholds=dict(evaluation.thresholds),
    )
    say(f"done: F1 {outcome.f1_score:.3f} in {time.monotonic() - started:.0f} s")
    return outcome
