"""The in-process model host: StartProjectVersion loads a version's ONNX artifact, StopProjectVersion drops it.

A running model is an onnxruntime session held in memory: no CPU is used between requests, and no
endpoint bill accrues. Loading happens on a background thread (STARTING → RUNNING, or FAILED with
the reason); after a server restart, versions that were RUNNING are loaded again.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from openrek.lifecycle import VersionStatus, version_message, version_sources
from openrek.serving.host import ModelNotLoaded, restore_models
from openrek.store.metadata import MetadataStore
from openrek.store.objects import ObjectStore
from openrek.training.request import S3Ref

log = logging.getLogger("openrek.models")


class Predictor(Protocol):
    def predict(self, image_bytes: bytes, min_confidence: float | None, max_results: int | None) -> list[dict]: ...


class LocalModelHost:
    """A `ModelHost` whose models live in this process."""

    def __init__(self, metadata: MetadataStore, objects: ObjectStore) -> None:
        self.metadata = metadata
        self.objects = objects
        self._models: dict[str, Predictor] = {}
        self._lock = threading.Lock()

    def start(self, version_arn: str, artifact: dict[str, Any]) -> None:
        """Loads the model in the background; the version goes RUNNING (or FAILED) when done."""
        thread = threading.Thread(target=self._load, args=(version_arn, artifact), daemon=True,
                                  name=f"load-{version_arn.rsplit('/', 2)[-2]}")
        thread.start()

    def _load(self, version_arn: str, artifact: dict[str, Any]) -> None:
        try:
            from openrek.training.inference import Predictor as OnnxPredictor

            ref = S3Ref(bucket=artifact["bucket"], name=artifact["name"], version=artifact.get("version"))
            predictor = OnnxPredictor.load(self.objects, ref)
            predictor.warm_up()  # a RUNNING model holds its memory before its first request
        except Exception as exc:
            log.exception("could not load the model of %s", version_arn)
            self.metadata.transition_version(
                version_arn, [VersionStatus.STARTING], VersionStatus.FAILED,
                status_message=f"The model could not be loaded: {type(exc).__name__}: {exc}",
            )
            return
        with self._lock:
            self._models[version_arn] = predictor
        if not self.metadata.transition_version(version_arn, version_sources(VersionStatus.RUNNING),
                                                VersionStatus.RUNNING,
                                                status_message=version_message(VersionStatus.RUNNING)):
            with self._lock:  # stopped while it was loading
                self._models.pop(version_arn, None)

    def stop(self, version_arn: str) -> None:
        with self._lock:
            self._models.pop(version_arn, None)
        self.metadata.transition_version(version_arn, version_sources(VersionStatus.STOPPED), VersionStatus.STOPPED,
                                         status_message=version_message(VersionStatus.STOPPED))

    def predict(self, version_arn: str, image_bytes: bytes, min_confidence: float | None,
                max_results: int | None) -> list[dict]:
        with self._lock:
            predictor = self._models.get(version_arn)
        if predictor is None:
            raise ModelNotLoaded(version_arn)
        return predictor.predict(image_bytes, min_confidence, max_results)

    def restore(self) -> None:
        """After a restart: load again what was running or starting; finish what was stopping."""
        restore_models(self.metadata, self, "server restarted")
