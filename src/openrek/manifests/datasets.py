"""From a CreateProjectVersion's manifests to training-ready data: the one call training makes.

`load_datasets` validates the training and testing manifests (or splits the training set when
`TestingData.AutoCreate` is set), runs AWS's cross-manifest checks, and returns `PreparedData`.
`prepare_datasets` does that and writes the output files (ManifestSummary, *ManifestWithValidation,
*GroundTruth) before raising any terminal content error, as AWS does.

Errors: a terminal file error raises `TerminalManifestError` and nothing is written; a terminal content
error raises `ManifestContentError` (a `TerminalManifestError`) carrying the `PreparedData`, whose
`outputs` are set when the files were written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..store.objects import ObjectStore
from . import rules
from .autosplit import autosplit
from .output_files import OutputFiles, check_output_bucket, output_key, render_summary, write_output_files
from .refs import ManifestRef, as_ref
from .rules import DEFAULT_LIMITS, Limits
from .types import ManifestError, ManifestRecord, TerminalManifestError, UseCase
from .validation import Feature, ValidatedManifest, validate_manifests


@dataclass
class PreparedData:
    """Everything training needs, and everything the version's description reports about its data."""

    use_case: UseCase
    content_moderation: bool
    labels: list[str]  # the training labels, sorted: the model's classes
    train: list[ManifestRecord]
    test: list[ManifestRecord]
    training: ValidatedManifest  # what TrainingManifestWithValidation holds (after AutoCreate's split)
    testing: ValidatedManifest  # what TestingManifestWithValidation holds
    autocreate: bool
    training_refs: list[ManifestRef]
    testing_refs: list[ManifestRef]
    errors: list[ManifestError] = field(default_factory=list)  # cross-dataset terminal content errors
    outputs: OutputFiles | None = None  # set once the output files are written

    @property
    def terminal_errors(self) -> list[ManifestError]:
        """Every terminal content error: training's, testing's, then the cross-dataset ones."""
        return [*self.training.errors, *self.testing.errors, *self.errors]

    @property
    def ok(self) -> bool:
        return not self.terminal_errors

    def summary_json(self) -> dict[str, Any]:
        """The ManifestSummary file's content."""
        return render_summary(self.training, self.testing, self.errors)

    def raise_for_terminal(self) -> None:
        """Raise `ManifestContentError` for the first terminal content error, naming the others."""
        errors = self.terminal_errors
        if not errors:
            return
        first = errors[0]
        message = first.message
        if len(errors) > 1:
            others = ", ".join(e.code for e in errors[1:])
            message += f" Other terminal errors: {others}."
        if self.outputs is not None:
            message += f" Details: {self.outputs.manifest_summary.uri}."
        raise ManifestContentError(first.code, message, self)

    # ---- DescribeProjectVersions shapes (botocore: TrainingDataResult, TestingDataResult, GroundTruthManifest)

    def training_data_result(self) -> dict[str, Any]:
        """TrainingDataResult: Input as requested; Output and Validation once the files are written."""
        result: dict[str, Any] = {"Input": {"Assets": [r.to_asset() for r in self.training_refs]}}
        if self.outputs is not None:
            result["Output"] = {"Assets": [self.outputs.training_ground_truth.to_asset()]}
            result["Validation"] = {"Assets": [self.outputs.training_validation.to_asset()]}
        return result

    def testing_data_result(self) -> dict[str, Any]:
        """TestingDataResult: Input as requested (AutoCreate or Assets); Output and Validation once written."""
        requested: dict[str, Any] = {"AutoCreate": self.autocreate}
        if self.testing_refs:
            requested = {"Assets": [r.to_asset() for r in self.testing_refs], "AutoCreate": self.autocreate}
        result: dict[str, Any] = {"Input": requested}
        if self.outputs is not None:
            result["Output"] = {"Assets": [self.outputs.testing_ground_truth.to_asset()],
                                "AutoCreate": self.autocreate}
            result["Validation"] = {"Assets": [self.outputs.testing_validation.to_asset()]}
        return result

    def manifest_summary_result(self) -> dict[str, Any] | None:
        """DescribeProjectVersions' ManifestSummary (`{"S3Object": {...}}`), once written."""
        if self.outputs is None:
            return None
        return {"S3Object": self.outputs.manifest_summary.to_wire()}


class ManifestContentError(TerminalManifestError):
    """A terminal content error; `prepared` holds the validated data (and `outputs` if written)."""

    def __init__(self, code: str, message: str, prepared: PreparedData) -> None:
        super().__init__(code, message)
        self.prepared = prepared


def _min_labels(use_case: UseCase, moderation: bool, limits: Limits) -> int:
    if moderation:
        return limits.min_labels_moderation
    if use_case == "OBJECT_LOCALIZATION":
        return limits.min_labels_detection
    return limits.min_labels_image_level


def _label_errors(training: ValidatedManifest, limits: Limits) -> list[ManifestError]:
    errors: list[ManifestError] = []
    files = ", ".join(r.uri for r in training.refs)
    need = _min_labels(training.use_case, training.content_moderation, limits)
    declared, usable = training.declared_labels, training.labels
    kind = "object-localization" if training.use_case == "OBJECT_LOCALIZATION" else "image-level"
    if len(declared) < need:
        found = f"only {len(declared)} ({', '.join(map(repr, declared))})" if declared else "none"
        errors.append(ManifestError(
            rules.ERROR_MANIFEST_TOO_FEW_LABELS,
            f"The training manifest {files} has too few labels: an {kind} model needs at least {need} "
            f"label{'s' if need > 1 else ''}, and the manifest names {found}. Label more images with other labels."))
    elif len(usable) < need:
        errors.append(ManifestError(
            rules.ERROR_MANIFEST_TOO_FEW_USABLE_LABELS,
            f"The training manifest {files} has too few usable labels: after invalid lines are removed only "
            f"{len(usable)} label{'s' if len(usable) != 1 else ''} ({', '.join(map(repr, usable)) or 'none'}) "
            f"remain{'s' if len(usable) == 1 else ''}; at least {need} are needed. Fix the invalid lines listed "
            "in the training validation manifest."))
    if len(declared) > limits.max_labels:
        errors.append(ManifestError(
            rules.ERROR_MANIFEST_TOO_MANY_LABELS,
            f"The training manifest {files} has {len(declared)} labels; a model can have at most "
            f"{limits.max_labels}. Merge or remove labels."))
    return errors


def _overlap_errors(training: ValidatedManifest, testing: ValidatedManifest,
                    limits: Limits) -> list[ManifestError]:
    errors: list[ManifestError] = []
    test_files = ", ".join(r.uri for r in testing.refs)
    for code, train_labels, test_labels, what in (
        (rules.ERROR_INSUFFICIENT_LABEL_OVERLAP, training.declared_labels, testing.declared_labels, "labels"),
        (rules.ERROR_INSUFFICIENT_USABLE_LABEL_OVERLAP, training.labels, testing.labels, "usable labels"),
    ):
        if not test_labels:
            continue
        shared = set(test_labels) & set(train_labels)
        if len(shared) / len(test_labels) < limits.min_label_overlap:
            missing = sorted(set(test_labels) - shared)
            errors.append(ManifestError(
                code,
                f"Too few {what} overlap between training and testing: only {len(shared)} of the "
                f"{len(test_labels)} {what} of the testing manifest {test_files} are training {what} "
                f"(at least {limits.min_label_overlap:.0%} must be). Not in training: "
                f"{', '.join(map(repr, missing[:10]))}. Label training images with them or relabel the test set."))
            break  # the usable-label check adds nothing once the labels themselves fail
    return errors


def load_datasets(objects: ObjectStore, training_refs: Sequence[Any], testing_refs: Sequence[Any],
                  autocreate: bool, seed: int = 0, *, feature: Feature | None = None,
                  limits: Limits = DEFAULT_LIMITS, raise_content_errors: bool = True) -> PreparedData:
    """Validate, check and split the datasets of one training run.

    `training_refs`/`testing_refs`: manifests as `S3Ref`s, `ManifestRef`s, wire S3Object/Asset dicts or
    tuples. `autocreate` (TestingData.AutoCreate) ignores `testing_refs` and holds out 20 % of the training
    images. `feature`: "CUSTOM_LABELS", "CONTENT_MODERATION" or None (decided from the lines).
    Raises `TerminalManifestError` (file errors) and, unless `raise_content_errors` is false,
    `ManifestContentError` (content errors).
    """
    train_refs = [as_ref(r) for r in training_refs]
    test_refs = [] if autocreate else [as_ref(r) for r in testing_refs]
    if not train_refs:
        raise ValueError("a training run needs at least one training manifest")
    if not autocreate and not test_refs:
        raise ValueError("give testing manifests or set autocreate (TestingData.AutoCreate)")

    training = validate_manifests(objects, train_refs, role="training", feature=feature, limits=limits)
    testing: ValidatedManifest
    if test_refs:
        testing = validate_manifests(objects, test_refs, role="testing", use_case=training.use_case,
                                     content_moderation=training.content_moderation, feature=feature,
                                     limits=limits)
    else:
        testing = training.subset(lambda line: False, role="testing")
    training.errors.extend(_label_errors(training, limits))
    cross: list[ManifestError] = []
    if test_refs:
        cross.extend(_overlap_errors(training, testing, limits))
    elif not training.errors:
        try:
            _, held = autosplit(training.records, fraction=limits.autosplit_fraction, seed=seed)
        except TerminalManifestError as exc:
            cross.append(ManifestError(exc.code, exc.message))
        else:
            held_ids = {id(r) for r in held}
            full = training
            training = full.subset(lambda line: id(line.record) not in held_ids, role="training")
            testing = full.subset(lambda line: id(line.record) in held_ids, role="testing")
    prepared = PreparedData(
        use_case=training.use_case, content_moderation=training.content_moderation, labels=training.labels,
        train=training.records, test=testing.records, training=training, testing=testing,
        autocreate=autocreate, training_refs=train_refs, testing_refs=test_refs, errors=cross)
    if raise_content_errors:
        prepared.raise_for_terminal()
    return prepared


def prepare_datasets(objects: ObjectStore, *, training_refs: Sequence[Any], testing_refs: Sequence[Any],
                     autocreate: bool, output_bucket: str, output_prefix: str | None, project_name: str,
                     version_name: str, seed: int = 0, feature: Feature | None = None,
                     limits: Limits = DEFAULT_LIMITS) -> PreparedData:
    """`load_datasets`, then write the output files, then raise any terminal content error.

    On success the returned `PreparedData.outputs` names the written files and `training_data_result()`,
    `testing_data_result()`, `manifest_summary_result()` give DescribeProjectVersions' fields.
    """
    check_output_bucket(objects, output_bucket)
    prepared = load_datasets(objects, training_refs, testing_refs, autocreate, seed, feature=feature,
                             limits=limits, raise_content_errors=False)
    prepared.outputs = write_output_files(
        objects, bucket=output_bucket, prefix=output_prefix, project=project_name, version=version_name,
        training=prepared.training, testing=prepared.testing, errors=prepared.errors)
    prepared.raise_for_terminal()
    return prepared


__all__ = ["ManifestContentError", "PreparedData", "load_datasets", "output_key", "prepare_datasets"]
