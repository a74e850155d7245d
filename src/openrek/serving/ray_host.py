"""`RayModelHost`: started models run as Ray actors (`OPENREK_JOB_ENGINE=ray`), reachable from every API server.

StartProjectVersion places one detached `ray_actors.ModelDeployment` per version, named after the version,
with the version's MinInferenceUnits and MaxInferenceUnits; it starts its replicas and the version goes
RUNNING (or FAILED with the reason). DetectCustomLabels, on whichever server it arrives, looks the
deployment up by name and hands it the image; StopProjectVersion, from any server, kills it (and so its
replicas). Nothing about a running model lives in an API server: servers come and go, models keep serving.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Any

from openrek import imaging
from openrek.lifecycle import VersionStatus, version_message, version_sources
from openrek.ray_connection import NAMESPACE, connect
from openrek.serving.host import ModelBusy, ModelNotLoaded, restore_models
from openrek.serving.scaling import ScalingPolicy
from openrek.store.metadata import MetadataStore
from openrek.stores import StoreLocation

log = logging.getLogger("openrek.models")


def deployment_name(version_arn: str) -> str:
    """The Ray actor name of a version's deployment (ARNs are longer than Ray likes names to be)."""
    return "openrek-model-" + hashlib.sha256(version_arn.encode()).hexdigest()[:32]


class RayModelHost:
    """A `serving.host.ModelHost` whose models are Ray actors; see the module docstring."""

    def __init__(self, metadata: MetadataStore, location: StoreLocation, *, address: str, env: dict[str, str],
                 replica_cpus: float = 1.0, policy: ScalingPolicy | None = None,
                 request_timeout_s: float = 30.0, start_timeout_s: float = 600.0) -> None:
        self.metadata, self.location = metadata, location
        self.address, self.env = address, env
        self.replica_cpus = replica_cpus
        self.policy = policy or ScalingPolicy()
        self.request_timeout_s, self.start_timeout_s = request_timeout_s, start_timeout_s
        self._handles: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _connect(self) -> None:
        connect(self.address, self.env)

    def start(self, version_arn: str, artifact: dict[str, Any]) -> None:
        """Places the deployment in the background; the version goes RUNNING (or FAILED) when it serves."""
        thread = threading.Thread(target=self._place, args=(version_arn, artifact), daemon=True,
                                  name=f"place-{version_arn.rsplit('/', 2)[-2]}")
        thread.start()

    def _place(self, version_arn: str, artifact: dict[str, Any]) -> None:
        import ray

        from openrek.serving.ray_actors import ModelDeployment

        row = self.metadata.get_version(version_arn)
        min_units = (row.min_inference_units if row else None) or 1
        max_units = (row.max_inference_units if row else None) or min_units
        try:
            self._connect()
            handle = ModelDeployment.options(
                name=deployment_name(version_arn), namespace=NAMESPACE, lifetime="detached", get_if_exists=True,
                max_restarts=-1, max_concurrency=1000,
            ).remote(self.location, artifact, min_units, max_units, self.replica_cpus, self.policy)
            ray.get(handle.start.remote(), timeout=self.start_timeout_s)
        except Exception as exc:
            log.exception("could not start the model of %s on the Ray cluster", version_arn)
            self._kill(version_arn)
            self.metadata.transition_version(
                version_arn, [VersionStatus.STARTING], VersionStatus.FAILED,
                status_message=f"The model could not be loaded on the Ray cluster: {_reason(exc)}",
            )
            return
        if not self.metadata.transition_version(version_arn, version_sources(VersionStatus.RUNNING),
                                                VersionStatus.RUNNING,
                                                status_message=version_message(VersionStatus.RUNNING)):
            self._kill(version_arn)  # stopped while it was starting

    def _kill(self, version_arn: str) -> None:
        import ray

        with self._lock:
            self._handles.pop(version_arn, None)
        try:
            self._connect()
            ray.kill(ray.get_actor(deployment_name(version_arn), namespace=NAMESPACE), no_restart=True)
        except ValueError:  # no such actor: nothing to stop
            pass

    def stop(self, version_arn: str) -> None:
        self._kill(version_arn)
        self.metadata.transition_version(version_arn, version_sources(VersionStatus.STOPPED), VersionStatus.STOPPED,
                                         status_message=version_message(VersionStatus.STOPPED))

    def _handle(self, version_arn: str, fresh: bool = False) -> Any:
        import ray

        with self._lock:
            handle = None if fresh else self._handles.get(version_arn)
        if handle is None:
            self._connect()
            try:
                handle = ray.get_actor(deployment_name(version_arn), namespace=NAMESPACE)
            except ValueError:
                raise ModelNotLoaded(version_arn) from None
            with self._lock:
                self._handles[version_arn] = handle
        return handle

    def predict(self, version_arn: str, image_bytes: bytes, min_confidence: float | None,
                max_results: int | None) -> list[dict]:
        import ray
        import ray.exceptions as rex

        for attempt in (0, 1):  # a cached handle may name a deployment stopped and started again since
            handle = self._handle(version_arn, fresh=attempt == 1)
            try:
                return ray.get(handle.predict.remote(image_bytes, min_confidence, max_results),
                               timeout=self.request_timeout_s)
            except rex.GetTimeoutError:
                raise ModelBusy(version_arn) from None
            except rex.RayTaskError as exc:
                if isinstance(exc.cause, imaging.ImageError):
                    raise exc.cause from None
                raise
            except rex.RayActorError:
                if attempt == 1:
                    raise ModelNotLoaded(version_arn) from None
        raise AssertionError("unreachable")

    def describe(self, version_arn: str) -> dict[str, Any]:
        """The deployment's replicas and in-flight requests now (for operators, tests and the benchmark)."""
        import ray

        return ray.get(self._handle(version_arn).describe.remote(), timeout=self.request_timeout_s)

    def restore(self) -> None:
        """At server start: a RUNNING or STARTING version without a deployment on the cluster (the cluster
        was restarted, or the server placing it died) is placed again (a STARTING one joins the deployment
        already placed, if any); STOPPING ones are stopped."""
        restore_models(self.metadata, self, "its Ray deployment was gone", still_serving=self._placed)

    def _placed(self, version_arn: str) -> bool:
        try:
            self._handle(version_arn, fresh=True)
            return True
        except ModelNotLoaded:
            return False


def _reason(exc: BaseException) -> str:
    """A one-line reason from a Ray error (whose text otherwise carries whole remote tracebacks)."""
    import ray.exceptions as rex

    if isinstance(exc, rex.GetTimeoutError):
        return "no inference unit became ready in time (does the cluster have a node with room for one?)"
    cause = getattr(exc, "cause", None)
    while cause is not None and getattr(cause, "cause", None) is not None:
        cause = cause.cause
    if isinstance(exc, rex.RayTaskError) and cause is not None:
        exc = cause
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}"
