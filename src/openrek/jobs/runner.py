"""The embedded job runner: claims queued jobs from the database and runs them.

Training jobs (kind `train`) run in a process pool. Other kinds (dataset changes, model copies) are
short and need the stores, so they run on threads of the server process, through the `InlineJob`
handlers the composition root passes in; the runner knows nothing of what they do.

Job state lives in the database, so a restarted server finds every job: one that was running when
the server stopped is queued again (resumed from the start) once, and failed with a reason after that —
never left in progress forever. Servers may share the database: each runner holds its jobs under a lease
(`leases.py`) and recovers only the jobs of runners that are gone, at start and while it runs.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from openrek.jobs.leases import LEASE_S, RENEW_EVERY_S, is_orphaned, new_owner
from openrek.jobs.outcome import apply_outcome
from openrek.jobs.worker import die_with_parent, run_job
from openrek.lifecycle import VersionStatus, version_sources
from openrek.store.metadata import MetadataStore
from openrek.store.space_reserve import SpaceReserve, is_disk_full
from openrek.stores import StoreLocation

log = logging.getLogger("openrek.jobs")
MAX_ATTEMPTS = 2
TRAIN = "train"


class InlineJob(Protocol):
    """A job kind run on a thread of the server: `run` records its own outcome; `give_up` ends it failed."""

    def run(self, payload: dict[str, Any]) -> None: ...
    def give_up(self, payload: dict[str, Any], reason: str) -> None: ...


class LocalJobRunner:
    """A `jobs.interface.JobRunner` on this machine: training in spawned processes, the rest on threads."""

    def __init__(self, metadata: MetadataStore, location: StoreLocation, workers: int = 1,
                 inline: dict[str, InlineJob] | None = None, inline_workers: int = 2) -> None:
        self.metadata = metadata
        self.location = location  # where a worker process opens the stores
        self.reserve = SpaceReserve(location.data_dir)  # room to record outcomes when the disk is full
        self._unrecorded: list[tuple[int, str, dict[str, Any]]] = []  # outcomes a full disk refused
        self.workers = max(1, workers)
        self.inline = dict(inline or {})
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._slots = threading.Semaphore(self.workers)
        self._inline_slots = threading.Semaphore(max(1, inline_workers))
        self._pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._threads = ThreadPoolExecutor(max_workers=max(1, inline_workers), thread_name_prefix="openrek-job")
        self._thread: threading.Thread | None = None
        self.owner = new_owner()  # the name this runner claims jobs under
        self._renewed = 0.0  # when the leases were last renewed (and orphans looked for)

    # -- lifecycle ----------------------------------------------------------------------
    def _new_pool(self) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx, initializer=die_with_parent,
                                   initargs=(os.getpid(),))

    def _replace_broken(self, broken: ProcessPoolExecutor) -> None:
        """A worker process died (SIGKILL, the out-of-memory killer): the pool is broken for good, so a new
        one takes its place, and later jobs train without a server restart."""
        with self._pool_lock:
            if self._pool is broken and not self._stop.is_set():
                log.warning("a training worker process died; starting a new worker pool")
                broken.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()

    def start(self) -> None:
        self.reserve.ensure()
        self.recover_interrupted()
        self._pool = self._new_pool()
        self._thread = threading.Thread(target=self._loop, name="openrek-jobs", daemon=True)
        self._thread.start()
        self.wake()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._threads.shutdown(wait=False, cancel_futures=True)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def wake(self) -> None:
        if not self._wake.is_set():
            self._wake.set()

    def recover_interrupted(self) -> None:
        """Jobs left RUNNING by a runner that is gone (a server that stopped, here or elsewhere): queue them
        again once, then fail them."""
        now = time.time()
        for job in self.metadata.jobs_in_state("RUNNING"):
            if not is_orphaned(job.owner, job.lease_until, self.owner, now):
                continue
            if job.kind != TRAIN:
                if job.attempts < MAX_ATTEMPTS:
                    self.metadata.release_job(job, "QUEUED", "interrupted by a server stop; queued again")
                elif self.metadata.release_job(job, "DONE", "interrupted too often"):
                    handler = self.inline.get(job.kind)
                    if handler is not None:
                        handler.give_up(job.payload, f"the openrek server stopped {job.attempts} times while it ran")
                continue
            if job.attempts < MAX_ATTEMPTS:
                if self.metadata.release_job(job, "QUEUED", "interrupted by a server stop; queued again"):
                    self.metadata.update_version(
                        job.version_arn,
                        status_message="The model is being trained (restarted after the openrek server restarted).",
                    )
                continue
            if not self.metadata.release_job(job, "DONE", "interrupted too often"):
                continue
            self.metadata.transition_version(
                job.version_arn,
                version_sources(VersionStatus.TRAINING_FAILED),
                VersionStatus.TRAINING_FAILED,
                status_message=(
                    f"Training was interrupted {job.attempts} times because the openrek server stopped while it "
                    "ran. Keep the server running and create a new version to train again."
                ),
            )

    # -- dispatch -----------------------------------------------------------------------
    def _record(self, job_id: int, version_arn: str, outcome: dict[str, Any]) -> bool:
        """Records a job's outcome; on a full disk frees the reserve and tries again, else keeps it for
        later (the version stays in progress only until the disk has room). False if it is kept."""
        for attempt in range(2):
            try:
                if not apply_outcome(self.metadata, job_id, version_arn, outcome, owner=self.owner):
                    log.warning("job %s was taken over by another runner (this one's lease ran out): its "
                                "outcome here is dropped", job_id)
                return True
            except Exception as exc:
                if not is_disk_full(exc):
                    raise
                if attempt > 0 or not self.reserve.release():
                    break
        log.error("the data disk is full: the outcome of job %s waits until there is room", job_id)
        self._unrecorded.append((job_id, version_arn, outcome))
        return False

    def _retry_unrecorded(self) -> None:
        pending, self._unrecorded = self._unrecorded, []
        for job_id, version_arn, outcome in pending:
            try:
                self._record(job_id, version_arn, outcome)
            except Exception:
                log.exception("could not record the outcome of job %s", job_id)
        if not self._unrecorded:
            self.reserve.ensure()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=2.0)
            self._wake.clear()
            try:
                self._dispatch()
            except Exception:  # e.g. the database cannot be written (a full disk): try again later
                log.exception("the job runner could not dispatch jobs; trying again shortly")

    def _keep_leases(self) -> None:
        """Renews this runner's leases and recovers other runners' orphaned jobs, every RENEW_EVERY_S."""
        now = time.monotonic()
        if now - self._renewed < RENEW_EVERY_S:
            return
        self._renewed = now
        self.metadata.renew_leases(self.owner, LEASE_S)
        self.recover_interrupted()

    def _dispatch(self) -> None:
        self._keep_leases()
        if self._unrecorded:
            self._retry_unrecorded()
        while not self._stop.is_set() and self._slots.acquire(blocking=False):
            try:
                job = self.metadata.claim_next_job([TRAIN], self.owner, LEASE_S)
            except BaseException:
                self._slots.release()
                raise
            if job is None:
                self._slots.release()
                break
            self._submit(job.id, job.version_arn, job.payload)
        while self.inline and not self._stop.is_set() and self._inline_slots.acquire(blocking=False):
            try:
                job = self.metadata.claim_next_job(list(self.inline), self.owner, LEASE_S)
            except BaseException:
                self._inline_slots.release()
                raise
            if job is None:
                self._inline_slots.release()
                break
            try:
                self._threads.submit(self._run_inline, job.id, job.kind, job.payload)
            except RuntimeError:  # shutting down: recovery requeues it at the next start
                self._inline_slots.release()

    def _run_inline(self, job_id: int, kind: str, payload: dict[str, Any]) -> None:
        try:
            self.inline[kind].run(payload)
            self.metadata.finish_job(job_id, "done")
        except Exception as exc:
            log.exception("%s job %s failed", kind, job_id)
            try:
                self.inline[kind].give_up(payload, f"{type(exc).__name__}: {exc}")
                self.metadata.finish_job(job_id, "failed")
            except Exception:
                log.exception("could not record the failure of job %s", job_id)
        finally:
            self._inline_slots.release()
            self.wake()

    def _submit(self, job_id: int, version_arn: str, payload: dict[str, Any]) -> None:
        for _attempt in range(2):
            pool = self._pool
            assert pool is not None
            try:
                future = pool.submit(run_job, payload, self.location)
            except BrokenProcessPool:  # a worker died since the last job: replace the pool, try once more
                self._replace_broken(pool)
                continue
            except RuntimeError:  # pool shut down: the job stays RUNNING and is recovered at next start
                self._slots.release()
                return
            future.add_done_callback(lambda f, p=pool: self._finished(f, job_id, version_arn, p))
            return
        self.metadata.requeue_job(job_id, "no training worker could be started; queued again")
        self._slots.release()

    def _lost_worker_outcome(self, exc: BaseException, pool: Any, job_id: int) -> dict[str, Any] | None:
        """The outcome when `exc` says the worker itself was lost (not the job's own failure), else None."""
        if not isinstance(exc, BrokenProcessPool):
            return None
        self._replace_broken(pool)
        return {"status": VersionStatus.TRAINING_FAILED.value, "status_message": (
            "The training worker process died while it trained this version (killed by a signal: "
            "often the out-of-memory killer). The server started a new worker; create a new version "
            "to train again, with fewer or smaller images if memory ran out.")}

    def _finished(self, future: Future, job_id: int, version_arn: str, pool: Any) -> None:
        try:
            if future.cancelled() or self._stop.is_set() and future.exception() is not None:
                return  # server stopping: leave the job RUNNING, recovery requeues it
            exc = future.exception()
            lost = self._lost_worker_outcome(exc, pool, job_id) if exc is not None else None
            if lost is not None:
                outcome = lost
            elif exc is not None:
                outcome = {"status": VersionStatus.TRAINING_FAILED.value,
                           "status_message": f"The training worker stopped unexpectedly: {type(exc).__name__}: {exc}"}
            else:
                outcome = future.result()
            if self._record(job_id, version_arn, outcome):
                self.reserve.ensure()
        except Exception:
            log.exception("could not record the outcome of job %s", job_id)
        finally:
            self._slots.release()
            self.wake()
