"""The snippet of docs/model-export.md, loaded from the document itself, and a comparison of its answers
with DetectCustomLabels', so the documented way to run an exported model is the tested one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "model-export.md"
CONFIDENCE_TOLERANCE = 1e-3  # percent; the server rounds to 5 decimals, threads may differ in the last bits
BOX_TOLERANCE = 1e-5


def snippet() -> dict[str, Any]:
    """The names the document's first Python block defines (load_model, preprocess, detect_custom_labels)."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, f"{DOC} has no python block"
    names: dict[str, Any] = {"__name__": "model_export_snippet"}
    exec(compile(blocks[0], str(DOC), "exec"), names)  # noqa: S102 - our own documentation, under test
    return names


def assert_same_labels(served: list[dict[str, Any]], local: list[dict[str, Any]], what: str) -> None:
    """The same labels (and boxes) with the same confidences, in the same order up to near-ties."""
    assert len(served) == len(local), (what, served, local)
    unmatched = list(local)
    for entry in served:
        match = next((c for c in unmatched if c["Name"] == entry["Name"]
                      and abs(c["Confidence"] - entry["Confidence"]) <= CONFIDENCE_TOLERANCE
                      and _same_box(c, entry)), None)
        assert match is not None, (what, entry, local)
        unmatched.remove(match)
    for a, b in zip(served, local, strict=True):
        assert a["Name"] == b["Name"] or abs(a["Confidence"] - b["Confidence"]) <= CONFIDENCE_TOLERANCE, what


def _same_box(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if "Geometry" not in a and "Geometry" not in b:
        return True
    box_a, box_b = a["Geometry"]["BoundingBox"], b["Geometry"]["BoundingBox"]
    return all(abs(box_a[k] - box_b[k]) <= BOX_TOLERANCE for k in ("Width", "Height", "Left", "Top"))
