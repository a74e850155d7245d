"""The exported model's contract, torch-free: the `model.json` that says how to feed `model.onnx`, and the
onnxruntime session that runs it. Serving needs only this (and onnxruntime), never torch.
"""

from __future__ import annotations

from typing import Any

# The ImageNet normalisation every backbone here was trained with; exported image-level models expect it.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

MODEL_FORMAT = "openrek-onnx/1"


def model_description(
    *,
    task: str,
    labels: list[str],
    thresholds: dict[str, float],
    image_size: int,
    normalized_input: bool,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `model.json` beside `model.onnx`: task, labels, per-label thresholds (0–1), input contract."""
    mean = list(IMAGENET_MEAN) if normalized_input else [0.0, 0.0, 0.0]
    std = list(IMAGENET_STD) if normalized_input else [1.0, 1.0, 1.0]
    desc: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "task": task,
        "labels": labels,
        "thresholds": thresholds,
        "onnx": "model.onnx",
        "input": {
            "name": "images",
            "layout": "NCHW",
            "color": "RGB",
            "size": [image_size, image_size],
            "resize": "squash-bilinear",
            "scale": 1.0 / 255.0,
            "mean": mean,
            "std": std,
            "batch": "dynamic" if task != "detection" else 1,
        },
        "outputs": ["boxes", "scores", "labels"] if task == "detection" else ["scores"],
    }
    if extra:
        desc.update(extra)
    return desc


def onnx_session(onnx_bytes: bytes, threads: int | None = None) -> Any:
    """An onnxruntime CPU session whose worker threads sleep (no spinning) between requests."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or 0
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    opts.log_severity_level = 3
    return ort.InferenceSession(onnx_bytes, sess_options=opts, providers=["CPUExecutionProvider"])
