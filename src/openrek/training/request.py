"""The contract between the service, the job runner and training: what a job asks for and what it returns.

Plain, torch-free dataclasses. A request travels as JSON (`to_payload` / `from_payload`), and both
directions are strict: a key one side does not know is an error naming it, never silently dropped
(a server and a worker of different versions must not quietly train something else).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any, Literal


class ContractError(ValueError):
    """A payload or options object with keys (or values) this version of openrek does not know."""


def _unknown(raw: dict[str, Any], known: set[str], what: str) -> None:
    extra = sorted(set(raw) - known)
    if extra:
        raise ContractError(f"{what}: {', '.join(extra)} {'is' if len(extra) == 1 else 'are'} not known to "
                            f"this openrek (known: {', '.join(sorted(known))}).")


# The image-level ladder's backbones: the first is the plain probe's and the fine-tuned one; all four
# form the multi-layer ensemble (measured by bench/training_bench.py, README "Measured").
DEFAULT_BACKBONES = ("mobilenet_v2", "efficientnet_lite2", "efficientnet_lite0", "mobilenet_v2_deepsort")
_TUPLES = ("backbones", "detector_sizes")  # options that are tuples here and JSON lists on the wire


@dataclass(frozen=True)
class TrainingOptions:
    """Training knobs (`OPENREK_TRAINING_OPTIONS`, a job's `options`): image sizes, backbones, lengths."""

    image_size: int = 224
    backbones: tuple[str, ...] = DEFAULT_BACKBONES
    detector_backbone: str = "mobilenet_v2"
    detector_image_size: int | None = None  # None: chosen from the training boxes, within detector_sizes
    detector_sizes: tuple[int, int] = (320, 320)  # widen (e.g. [320, 640]) to let small boxes get a larger input
    detector_epochs: float = 10.0  # the planned length (see DetectorTrainer.planned_steps)
    detector_max_seconds: float = 540.0  # a safety cap; the length itself follows the data
    detector_batch_size: int = 8
    detector_balance_threshold: float | None = None  # class-balanced passes (training/sampling.py)
    detector_max_steps: int | None = None  # a fixed number of steps instead of the planned one
    box_classifier: bool = True  # try re-labelling detected boxes from their crops (box_classifier.py)
    fine_tune: bool = True  # try the fine-tuned probe in the image-level ladder (finetune.py)
    reserve_s: float = 30.0  # of the job's budget, kept for evaluation, files and export
    device: str | None = None
    threads: int | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> TrainingOptions:
        raw = dict(raw or {})
        _unknown(raw, {f.name for f in fields(cls)}, "The training options")
        for name in _TUPLES:
            if name in raw:
                if not isinstance(raw[name], list | tuple):
                    raise ContractError(f"The training options: {name} must be a list (got {raw[name]!r}).")
                raw[name] = tuple(raw[name])
        options = cls(**raw)
        options._check_detector_values()
        return options

    def _check_detector_values(self) -> None:
        """The detector options whose wrong values would fail every detection job later: refused here."""
        sizes = self.detector_sizes
        if (len(sizes) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in sizes)
                or not 32 <= sizes[0] <= sizes[1] <= 4096):
            raise ContractError(f"The training options: detector_sizes must be [smallest, largest] input sides in "
                                f"pixels, 32 <= smallest <= largest <= 4096 (got {list(sizes)}).")
        t = self.detector_balance_threshold
        if t is not None and (isinstance(t, bool) or not isinstance(t, int | float) or not 0 < t <= 1):
            raise ContractError("The training options: detector_balance_threshold must be a share of the images, "
                                f"above 0 and at most 1, or null (got {t!r}).")

    def to_dict(self) -> dict[str, Any]:
        """Only what differs from the defaults."""
        default = TrainingOptions()
        out = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != getattr(default, f.name)}
        for name in _TUPLES:
            if name in out:
                out[name] = list(out[name])
        return out


@dataclass(frozen=True)
class S3Ref:
    """An object in the object store (Rekognition's S3Object: Bucket, Name, Version)."""

    bucket: str
    name: str
    version: str | None = None
    internal: bool = False  # openrek's own object (a dataset snapshot), allowed in an internal bucket

    def to_wire(self) -> dict[str, str]:
        out = {"Bucket": self.bucket, "Name": self.name}
        if self.version:
            out["Version"] = self.version
        return out


@dataclass
class TrainingRequest:
    """One CreateProjectVersion training job, as the service validated it."""

    project_name: str
    version_name: str
    version_arn: str
    feature: Literal["CUSTOM_LABELS", "CONTENT_MODERATION"]
    training_manifests: list[S3Ref]
    testing_manifests: list[S3Ref]
    testing_autocreate: bool
    output_bucket: str
    output_prefix: str
    # Where training stores the servable artifact (model.onnx, model.json) in the object store.
    artifact_bucket: str
    artifact_prefix: str
    feature_config: dict[str, Any] | None = None
    time_budget_s: float = 600.0
    seed: int = 0
    options: TrainingOptions = field(default_factory=TrainingOptions)
    # The version's KMS key (ARN): every file the job writes (image copies, output files, model) is sealed
    # under it; None: under the service's key.
    kms_key_arn: str | None = None
    # Who the job reads and writes for (their policies are asked again at run time); None: anyone.
    caller: dict[str, Any] | None = None
    from_datasets: bool = False  # trained from the project's datasets (their snapshots), not manifests

    def to_payload(self) -> dict[str, Any]:
        """The request as JSON-able data (the job's payload)."""
        out = dataclasses.asdict(self)
        out["options"] = self.options.to_dict() or None
        return out

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> TrainingRequest:
        """The request a payload describes; `ContractError` for any key (or option) not known here."""
        _unknown(payload, {f.name for f in fields(cls)}, "The training job's payload")
        values = dict(payload)
        values["training_manifests"] = [S3Ref(**r) for r in payload.get("training_manifests") or []]
        values["testing_manifests"] = [S3Ref(**r) for r in payload.get("testing_manifests") or []]
        values["options"] = TrainingOptions.from_dict(payload.get("options"))
        return cls(**values)


@dataclass
class TrainingOutcome:
    """What a finished job reports; the service copies it onto the project version."""

    status: Literal["TRAINING_COMPLETED", "TRAINING_FAILED"]
    status_message: str
    # DescribeProjectVersions fields, in AWS's wire shapes (dicts as botocore expects them).
    f1_score: float | None = None
    evaluation_summary: S3Ref | None = None
    manifest_summary: S3Ref | None = None
    training_data_result: dict[str, Any] = field(default_factory=dict)
    testing_data_result: dict[str, Any] = field(default_factory=dict)
    billable_training_seconds: int = 0
    # Present on success: where the servable model lives, and what it serves.
    artifact: S3Ref | None = None
    task: str | None = None
    label_thresholds: dict[str, float] = field(default_factory=dict)
