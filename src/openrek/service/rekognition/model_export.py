"""Model export: a trained version's `model.onnx` and `model.json`, read from the internal models bucket.

Not an AWS operation (AWS never hands out Custom Labels models); openrek's users own theirs. A trained
version's row points at `model.json` (`details["model"]["artifact"]`), and `model.onnx` lies beside it.
Errors are the typed service errors, with what to do next.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from openrek.lifecycle import VersionStatus
from openrek.security.kms_errors import KmsError
from openrek.service import authorization
from openrek.service.context import RequestContext
from openrek.service.errors import (
    InternalServerError,
    ResourceNotFoundException,
    ResourceNotReadyException,
    ValidationException,
)
from openrek.service.kms import access
from openrek.service.rekognition import arns
from openrek.service.rekognition.version_keys import DETAIL as KMS_DETAIL
from openrek.store.metadata import MetadataStore
from openrek.store.objects import ObjectStore, ObjectStoreError
from openrek.store.schema import VersionRow

DEFAULT_ONNX_NAME = "model.onnx"


@dataclass(frozen=True)
class ModelExport:
    """The ONNX bytes of a trained version and its `model.json` (labels, thresholds, input contract)."""

    onnx: bytes
    metadata: dict[str, Any]


def _not_trained_message(row: VersionRow) -> str:
    what = f"The project version {row.arn} has no model to export"
    if row.status == VersionStatus.TRAINING_IN_PROGRESS:
        return (f"{what} yet: it is still training. Wait for TRAINING_COMPLETED (aws rekognition wait "
                "project-version-training-completed), then export it.")
    if row.status == VersionStatus.TRAINING_FAILED:
        return (f"{what}: its training failed ({row.status_message or 'no reason recorded'}). Fix the "
                "cause, train a new version with CreateProjectVersion, and export that one.")
    return (f"{what} (status {row.status}). Only a version whose training completed can be exported; "
            "DescribeProjectVersions shows which ones did.")


def _artifact(metadata: MetadataStore, version_arn: str) -> tuple[str, str]:
    """(bucket, key of model.json) of a trained version, or the error that says why there is none."""
    parsed = arns.parse_arn(version_arn)
    if parsed is None or parsed.kind != "version":
        raise ValidationException(
            f"{version_arn!r} is not a project version ARN: expected arn:aws:rekognition:<region>:<account>:"
            "project/<project>/version/<version>/<number>, as CreateProjectVersion returned it."
        )
    row = metadata.get_version(version_arn)
    if row is None:
        raise ResourceNotFoundException(
            f"The project version {version_arn} does not exist. Check the ARN "
            "(DescribeProjectVersions lists the versions of a project)."
        )
    artifact = ((row.details or {}).get("model") or {}).get("artifact")
    if not artifact or not artifact.get("bucket") or not artifact.get("name"):
        raise ResourceNotReadyException(_not_trained_message(row))
    return artifact["bucket"], artifact["name"]


def _read(objects: ObjectStore, bucket: str, key: str, version_arn: str) -> bytes:
    try:
        return objects.get_bytes(bucket, key)
    except ObjectStoreError as exc:
        raise InternalServerError(
            f"The model files of {version_arn} are missing from the models bucket ({key}: {exc.code}); "
            "the data directory may have been changed by hand. Train the version again."
        ) from None


def _description(objects: ObjectStore, bucket: str, key: str, version_arn: str) -> dict[str, Any]:
    try:
        description = json.loads(_read(objects, bucket, key, version_arn))
    except ValueError:
        description = None
    if not isinstance(description, dict):
        raise InternalServerError(f"The model.json of {version_arn} is not a JSON object; train the version again.")
    return description


# openrek's own action for a model download (AWS has none); `rekognition:*` covers it, as it would.
EXPORT_ACTION = "rekognition:ExportModel"


def check_export(metadata: MetadataStore, kms_keys: Any, ctx: RequestContext, version_arn: str) -> None:
    """AccessDeniedException unless the caller may download the model: `rekognition:ExportModel` on the
    version and, for a model sealed under a KMS key, `kms:Decrypt` on that key (its key policy and the
    caller's IAM policies decide)."""
    authorization.check(ctx, EXPORT_ACTION, version_arn)
    row = metadata.get_version(version_arn)
    key_arn = (row.details or {}).get(KMS_DETAIL) if row is not None else None
    if key_arn and kms_keys is not None:
        try:
            record = kms_keys.key_by_arn(key_arn)
        except KmsError:
            return  # the key is gone: reading the model fails with the reason
        access.check_key(ctx, "kms:Decrypt", record)


def export_metadata(metadata: MetadataStore, objects: ObjectStore, version_arn: str) -> dict[str, Any]:
    """The `model.json` of a trained version, without reading the (larger) ONNX file."""
    bucket, key = _artifact(metadata, version_arn)
    return _description(objects, bucket, key, version_arn)


def export_model(metadata: MetadataStore, objects: ObjectStore, version_arn: str) -> ModelExport:
    """The ONNX model and `model.json` of a trained version.

    Raises ValidationException (not a version ARN), ResourceNotFoundException (no such version) or
    ResourceNotReadyException (the version has no model: still training, or training failed).
    """
    bucket, key = _artifact(metadata, version_arn)
    description = _description(objects, bucket, key, version_arn)
    folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    # model.json names its ONNX file, which always lies in the same folder.
    onnx_name = str(description.get("onnx") or DEFAULT_ONNX_NAME).rsplit("/", 1)[-1]
    return ModelExport(onnx=_read(objects, bucket, folder + onnx_name, version_arn), metadata=description)
