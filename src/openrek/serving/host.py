"""The model-host interface: what StartProjectVersion, StopProjectVersion and DetectCustomLabels need.

A host loads a version's ONNX artifact and moves the version STARTING → RUNNING (or FAILED with the
reason), drops it on stop, answers predictions, and after a restart brings back what was running.
"""

from __future__ import annotations

from typing import Any, Protocol


class ModelNotLoaded(Exception):
    """The version has no loaded model in this host (not started, or still starting)."""


class ModelHost(Protocol):
    def start(self, version_arn: str, artifact: dict[str, Any]) -> None:
        """Begin loading; returns at once, the version's status says when the model is ready."""
        ...

    def stop(self, version_arn: str) -> None: ...

    def predict(self, version_arn: str, image_bytes: bytes, min_confidence: float | None,
                max_results: int | None) -> list[dict]:
        """The model's labels for one image; raises ModelNotLoaded when it is not loaded here."""
        ...

    def restore(self) -> None:
        """After a server restart: load again what was running or starting, finish what was stopping."""
        ...


class ModelBusy(Exception):
    """The version's inference units did not answer in time (more requests than they can take)."""
