"""The model-host interface: what StartProjectVersion, StopProjectVersion and DetectCustomLabels need.

A host loads a version's ONNX artifact and moves the version STARTING → RUNNING (or FAILED with the
reason), drops it on stop, answers predictions, and after a restart brings back what was running.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from openrek.lifecycle import VersionStatus, version_sources
from openrek.store.metadata import MetadataStore


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


def restore_models(metadata: MetadataStore, host: ModelHost, why: str,
                   still_serving: Callable[[str], bool] = lambda arn: False) -> None:
    """A host's `restore`: a RUNNING version not `still_serving` goes back to STARTING (saying `why`) and,
    like a STARTING one, is started again; one without an artifact FAILS; STOPPING ones are stopped."""
    for row in metadata.versions_in_status([VersionStatus.RUNNING, VersionStatus.STARTING]):
        model = (row.details or {}).get("model")
        if not model:
            metadata.transition_version(row.arn, version_sources(VersionStatus.FAILED), VersionStatus.FAILED,
                                        status_message="The model artifact is missing.")
            continue
        if row.status == VersionStatus.RUNNING:
            if still_serving(row.arn):
                continue
            metadata.transition_version(row.arn, [VersionStatus.RUNNING], VersionStatus.STARTING,
                                        status_message=f"The model is starting ({why}).")
        host.start(row.arn, model["artifact"])
    for row in metadata.versions_in_status([VersionStatus.STOPPING]):
        host.stop(row.arn)
