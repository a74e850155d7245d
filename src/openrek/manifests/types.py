"""The data a validated manifest hands to training: records, boxes, errors.

Shared contract between `manifests/` (which produces these) and `training/` (which consumes them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

UseCase = Literal["IMAGE_LEVEL_LABELS", "OBJECT_LOCALIZATION", "NOT_DETERMINED"]


@dataclass(frozen=True)
class Box:
    """One labelled bounding box, in pixels of the decoded (EXIF-oriented) image."""

    label: str
    left: float
    top: float
    width: float
    height: float
    # Where the box came from: (label attribute, index in its `annotations`); not part of equality.
    source: tuple[str, int] | None = field(default=None, compare=False)


@dataclass
class ManifestError:
    """An AWS validation record: `{"code": "ERROR_…", "message": "…"}`."""

    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass
class ManifestRecord:
    """One valid manifest line: an image and its labels (image-level) or boxes (detection)."""

    line_index: int  # 0-based index of the line in its manifest file
    source_ref: str  # s3://bucket/key as written in the manifest
    bucket: str
    key: str
    version: str | None
    labels: list[str]  # image-level labels; for detection, the distinct labels of the boxes
    boxes: list[Box] = field(default_factory=list)
    width: int = 0
    height: int = 0
    raw: dict[str, Any] = field(default_factory=dict)  # the parsed JSON line as read
    manifest: str = ""  # s3://bucket/key of the manifest file the line came from
    attributes: list[str] = field(default_factory=list)  # the label attributes of `raw` that were used


class TerminalManifestError(Exception):
    """A terminal file or content error: the version ends TRAINING_FAILED with this code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
