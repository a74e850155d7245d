"""`RayJobRunner`: training jobs as tasks on a Ray cluster (`OPENREK_JOB_ENGINE=ray`, `RAY_ADDRESS`).

The runner is the local runner's (`runner.LocalJobRunner`): it claims jobs from the shared database under
its lease, runs the short job kinds on threads of the server, records outcomes and recovers orphans. Only
where a training job runs changes: each is one Ray task asking for `num_cpus` (and `num_gpus`) that calls
the same `worker.run_job` on whichever node has room. Ray workers do not inherit this server's
environment, so what a task needs is handed over explicitly in its runtime environment: the store
locations (in `StoreLocation`), the object store's credentials, and the master key (tasks on other
machines cannot read this one's key file). Metadata and objects must therefore be reachable from every
node: PostgreSQL and an S3-compatible store, not SQLite and a directory, once the cluster spans machines.

A node lost while it trains is Ray's to handle: the task is retried once (`max_retries`) on a node that
is left; if that fails too, the version ends TRAINING_FAILED saying the node was lost. Ray itself waits
forever for a node that can take a task; a task that no live node could ever take (not enough CPUs or GPUs
on any of them) for `placement_timeout_s` in a row is cancelled, and the version fails saying what it
asked for. A task merely queued behind others on nodes big enough waits, as on AWS. Progress is written
to the database by the task itself, as a local worker does.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import Future
from typing import Any

from openrek.jobs.runner import InlineJob, LocalJobRunner
from openrek.jobs.worker import run_job
from openrek.lifecycle import VersionStatus
from openrek.ray_connection import connect, disconnect
from openrek.store.metadata import MetadataStore
from openrek.stores import StoreLocation

log = logging.getLogger("openrek.jobs")

PLACEMENT_CHECK_S = 2.0

def _train(payload: dict[str, Any], location: StoreLocation) -> dict[str, Any]:
    """The Ray task: one training job, exactly as a local worker process runs it."""
    return run_job(payload, location)


class RayJobRunner(LocalJobRunner):
    """A `jobs.interface.JobRunner` whose training jobs run as Ray tasks; see the module docstring."""

    def __init__(self, metadata: MetadataStore, location: StoreLocation, *, address: str,
                 env: dict[str, str], workers: int = 2, inline: dict[str, InlineJob] | None = None,
                 num_cpus: float = 1.0, num_gpus: float = 0.0, max_retries: int = 1,
                 placement_timeout_s: float | None = None) -> None:
        super().__init__(metadata, location, workers=workers, inline=inline)
        self.address = address
        self.env = env  # the workers' whole environment (`ray_connection.worker_env`)
        self.num_cpus, self.num_gpus, self.max_retries = num_cpus, num_gpus, max_retries
        self.placement_timeout_s = (float(os.environ.get("OPENREK_RAY_PLACEMENT_TIMEOUT_S") or 300)
                                    if placement_timeout_s is None else placement_timeout_s)
        self._task: Any = None
        self._waiting: dict[int, Any] = {}  # job id -> the task's ObjectRef, until it ends
        self._unplaceable: dict[int, str] = {}  # job id -> why its task was cancelled
        self._watch_lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    def _new_pool(self) -> Any:
        import ray

        connect(self.address, self.env)
        self._task = ray.remote(_train)
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch_placement, name="openrek-ray-placement",
                                             daemon=True)
            self._watcher.start()
        return None  # no local pool: the cluster is the pool

    def _fits_a_node(self) -> bool:
        """Whether some live node has, in all, the CPUs and GPUs a training task asks for."""
        import ray

        for node in ray.nodes():
            total = node.get("Resources") or {}
            if node.get("Alive") and total.get("CPU", 0) >= self.num_cpus and total.get("GPU", 0) >= self.num_gpus:
                return True
        return False

    def _watch_placement(self) -> None:
        import ray

        unfit_since: float | None = None
        while not self._stop.wait(PLACEMENT_CHECK_S):
            with self._watch_lock:
                waiting = dict(self._waiting)
            if not waiting:
                unfit_since = None
                continue
            try:
                fits = self._fits_a_node()
            except Exception:  # the cluster is unreachable right now: Ray's own errors will say so
                log.debug("could not list the Ray cluster's nodes", exc_info=True)
                continue
            now = time.monotonic()
            if fits:
                unfit_since = None
                continue
            unfit_since = now if unfit_since is None else unfit_since
            if now - unfit_since < self.placement_timeout_s:
                continue
            reason = (f"No node of the Ray cluster has {self.num_cpus:g} CPUs and {self.num_gpus:g} GPUs for it "
                      f"(OPENREK_RAY_NUM_CPUS / OPENREK_RAY_NUM_GPUS), and none came within "
                      f"{self.placement_timeout_s:g} s. Add such a node, or ask for less, then create a new "
                      "version to train again.")
            for job_id, ref in waiting.items():
                self._unplaceable[job_id] = reason
                try:
                    ray.cancel(ref, force=True)
                except Exception:
                    log.exception("could not cancel the unplaceable task of job %s", job_id)

    def stop(self) -> None:
        super().stop()
        try:
            disconnect()
        except Exception:  # already gone
            log.debug("ray.shutdown failed", exc_info=True)

    def _submit(self, job_id: int, version_arn: str, payload: dict[str, Any]) -> None:
        try:
            ref = self._task.options(num_cpus=self.num_cpus, num_gpus=self.num_gpus, max_retries=self.max_retries,
                                     retry_exceptions=False, name=f"openrek-train-{job_id}").remote(
                payload, self.location)
            future: Future = ref.future()
            with self._watch_lock:
                self._waiting[job_id] = ref
        except Exception as exc:
            log.exception("could not submit job %s to the Ray cluster", job_id)
            self.metadata.requeue_job(job_id, f"the Ray cluster did not take the job ({type(exc).__name__}); "
                                              "queued again")
            self._slots.release()
            return
        future.add_done_callback(lambda f: self._finished(f, job_id, version_arn, None))

    def _finished(self, future: Future, job_id: int, version_arn: str, pool: Any) -> None:
        with self._watch_lock:
            self._waiting.pop(job_id, None)
        super()._finished(future, job_id, version_arn, pool)

    def _lost_worker_outcome(self, exc: BaseException, pool: Any, job_id: int) -> dict[str, Any] | None:
        import ray.exceptions as rex

        unplaceable = self._unplaceable.pop(job_id, None)
        if unplaceable is not None:
            return {"status": VersionStatus.TRAINING_FAILED.value, "status_message": unplaceable}
        if isinstance(exc, rex.RayTaskError):
            return None  # the job itself failed: the generic message carries its cause
        lost = (rex.NodeDiedError, rex.WorkerCrashedError, rex.LocalRayletDiedError, rex.RaySystemError,
                rex.OutOfMemoryError, rex.TaskUnschedulableError, rex.ObjectLostError)
        if not isinstance(exc, lost):
            return None
        return {"status": VersionStatus.TRAINING_FAILED.value, "status_message": (
            f"The Ray node or worker training this version was lost ({type(exc).__name__}), and so was the "
            f"retry on another node. Create a new version to train again once the cluster has room.")}
