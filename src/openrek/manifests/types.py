"""The data a validated manifest hands to training: records, boxes, errors.

Shared contract between `manifests/` (which produces these) and `training/` (which consumes them).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

UseCase = Literal["IMAGE_LEVEL_LABELS", "OBJECT_LOCALIZATION", "NOT_DETERMINED"]


@dataclass(frozen=True, slots=True)
class Box:
    """One labelled bounding box, in pixels of the decoded (EXIF-oriented) image."""

    label: str
    left: float
    top: float
    width: float
    height: float
    # Where the box came from: (label attribute, index in its `annotations`); not part of equality.
    source: tuple[str, int] | None = field(default=None, compare=False)


@dataclass(slots=True)
class ManifestError:
    """An AWS validation record: `{"code": "ERROR_…", "message": "…"}`."""

    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(slots=True)
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
    manifest: str = ""  # s3://bucket/key of the manifest file the line came from
    attributes: list[str] = field(default_factory=list)  # the label attributes of `raw` that were used
    # The JSON line as read (previous `errors` removed), fetched on demand: a 1 GB manifest's lines are
    # kept on disk (see `line_spool.py`), not in every record.
    raw_json: Callable[[], str] | None = field(default=None, repr=False, compare=False)

    @property
    def raw(self) -> dict[str, Any]:
        """The JSON line as read, parsed afresh on each call (keep it if you need it twice)."""
        return json.loads(self.raw_json()) if self.raw_json is not None else {}


class TerminalManifestError(Exception):
    """A terminal file or content error: the version ends TRAINING_FAILED with this code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
