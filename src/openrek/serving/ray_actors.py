"""What runs on the Ray cluster for a started model: one `ModelDeployment` per version and its replicas.

A `ModelReplica` is one inference unit: an actor holding one ONNX Runtime session, loaded from the object
store with the credentials and master key of the job's runtime environment. The `ModelDeployment` is a
detached, named actor (no CPUs of its own) that owns the replicas: it starts `MinInferenceUnits` of them,
sends each request to the replica with the fewest in flight, and scales between Min and Max by the rule
in `scaling.Scaler`. It outlives the API server that placed it; any server finds it by name. If it is
restarted by Ray (its node was lost), it starts its replicas again on the first request. Replicas are its
children: killing the deployment ends them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import ray

from openrek.serving.scaling import Scaler, ScalingPolicy
from openrek.stores import StoreLocation

log = logging.getLogger("openrek.models")

TICK_S = 0.25
# A replica that is not serving this long after it was asked for (no node has room, or loading hangs) is
# given up: the start fails with that reason, or the deployment stays at the size it had.
REPLICA_START_S = float(os.environ.get("OPENREK_SERVING_START_TIMEOUT_S") or 300)


@ray.remote
class ModelReplica:
    """One inference unit: one ONNX Runtime session of the version's artifact."""

    def __init__(self, location: StoreLocation, artifact: dict[str, Any], threads: int) -> None:
        from openrek.stores import open_stores
        from openrek.training.inference import Predictor
        from openrek.training.request import S3Ref

        objects = open_stores(location).objects
        ref = S3Ref(bucket=artifact["bucket"], name=artifact["name"], version=artifact.get("version"))
        self.predictor = Predictor.load(objects, ref, threads=threads)
        self.predictor.warm_up()

    def ready(self) -> int:
        return os.getpid()

    def predict(self, image_bytes: bytes, min_confidence: float | None, max_results: int | None) -> list[dict]:
        return self.predictor.predict(image_bytes, min_confidence, max_results)


@dataclass
class _Unit:
    handle: Any
    ongoing: int = 0
    draining: bool = False


@ray.remote(num_cpus=0)
class ModelDeployment:
    """A started version's replicas, their routing and their scaling; see the module docstring."""

    def __init__(self, location: StoreLocation, artifact: dict[str, Any], min_units: int, max_units: int,
                 replica_cpus: float, policy: ScalingPolicy) -> None:
        self.location, self.artifact = location, artifact
        self.replica_cpus = replica_cpus
        self.scaler = Scaler(min_units=max(1, min_units), max_units=max_units, policy=policy)
        self.units: list[_Unit] = []
        self._started: asyncio.Future | None = None
        self._resizing: asyncio.Task | None = None

    async def start(self) -> int:
        """Starts Min replicas and waits for them (once; later calls wait for the same start)."""
        if self._started is None:
            self._started = asyncio.ensure_future(self._start())
        await asyncio.shield(self._started)
        return len(self.units)

    async def _start(self) -> None:
        await self._add(self.scaler.min_units)
        asyncio.ensure_future(self._autoscale())

    def _new_replica(self) -> Any:
        threads = max(1, int(self.replica_cpus))
        return ModelReplica.options(num_cpus=self.replica_cpus, max_restarts=-1, max_task_retries=1).remote(
            self.location, self.artifact, threads)

    async def _add(self, count: int) -> None:
        handles = [self._new_replica() for _ in range(count)]
        try:
            await asyncio.wait_for(asyncio.gather(*(h.ready.remote() for h in handles)), REPLICA_START_S)
        except BaseException:
            for handle in handles:
                ray.kill(handle)
            raise
        self.units.extend(_Unit(h) for h in handles)

    async def _remove_one(self) -> None:
        live = [u for u in self.units if not u.draining]
        if len(live) <= self.scaler.min_units:
            return
        unit = min(live, key=lambda u: u.ongoing)
        unit.draining = True  # no new requests; the ones in flight finish
        while unit.ongoing:
            await asyncio.sleep(TICK_S)
        self.units.remove(unit)
        ray.kill(unit.handle)

    async def _autoscale(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            if self._resizing is not None and not self._resizing.done():
                continue
            live = sum(1 for u in self.units if not u.draining)
            ongoing = sum(u.ongoing for u in self.units)
            wanted = self.scaler.decide(time.monotonic(), live, ongoing)
            if wanted > live:
                self._resizing = asyncio.ensure_future(self._add(wanted - live))
            elif wanted < live:
                self._resizing = asyncio.ensure_future(self._remove_one())

    async def predict(self, image_bytes: bytes, min_confidence: float | None,
                      max_results: int | None) -> list[dict]:
        await self.start()  # at once when started; after a restart of this actor, starts the replicas again
        unit = min((u for u in self.units if not u.draining), key=lambda u: u.ongoing)
        unit.ongoing += 1
        try:
            return await unit.handle.predict.remote(image_bytes, min_confidence, max_results)
        finally:
            unit.ongoing -= 1

    def describe(self) -> dict[str, Any]:
        """How many replicas serve now and how many requests are in flight."""
        return {"replicas": sum(1 for u in self.units if not u.draining),
                "ongoing": sum(u.ongoing for u in self.units),
                "min_units": self.scaler.min_units, "max_units": self.scaler.max_units}
