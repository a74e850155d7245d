"""Where a manifest lives: `ManifestRef` (bucket, name, version), built from whatever the caller holds.

Accepts training's `S3Ref`, any object with `bucket`/`name`/`version`, a wire `S3Object` dict
(`{"Bucket", "Name", "Version"}`), a whole wire `Asset` (`{"GroundTruthManifest": {"S3Object": …}}`) or a
`(bucket, name[, version])` tuple, so this package needs nothing from `training/` or `service/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .s3uri import s3_uri


@dataclass(frozen=True)
class ManifestRef:
    """An object in the store: Rekognition's S3Object (Bucket, Name, Version)."""

    bucket: str
    name: str
    version: str | None = None
    # Written by openrek itself (a dataset snapshot in the models bucket): the one kind of manifest that may
    # live in an internal bucket. Users' manifests there read as missing.
    internal: bool = False

    @property
    def uri(self) -> str:
        return s3_uri(self.bucket, self.name)

    def to_wire(self) -> dict[str, str]:
        out = {"Bucket": self.bucket, "Name": self.name}
        if self.version:
            out["Version"] = self.version
        return out

    def to_asset(self) -> dict[str, Any]:
        """`{"GroundTruthManifest": {"S3Object": {...}}}`, an element of Assets."""
        return {"GroundTruthManifest": {"S3Object": self.to_wire()}}


def as_ref(value: Any) -> ManifestRef:
    """A `ManifestRef` from any of the accepted shapes; `TypeError` otherwise."""
    if isinstance(value, ManifestRef):
        return value
    if isinstance(value, dict):
        if "GroundTruthManifest" in value:
            value = value["GroundTruthManifest"].get("S3Object", {})
        return ManifestRef(bucket=value["Bucket"], name=value["Name"], version=value.get("Version") or None)
    if isinstance(value, (tuple, list)) and len(value) in (2, 3):
        return ManifestRef(value[0], value[1], value[2] if len(value) == 3 else None)
    if hasattr(value, "bucket") and hasattr(value, "name"):
        return ManifestRef(bucket=value.bucket, name=value.name, version=getattr(value, "version", None) or None,
                           internal=bool(getattr(value, "internal", False)))
    raise TypeError(f"not a manifest reference: {value!r}")
