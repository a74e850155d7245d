"""The embedded job runner: claims queued jobs from the database and runs them in a process pool.

Job state lives in the database, so a restarted server finds every job: one that was running when
the server stopped is queued again (resumed from the start) once, and failed with a reason after that —
never left in progress forever.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from openrek.jobs.outcome import apply_outcome
from openrek.jobs.worker import die_with_parent, run_job
from openrek.store.metadata import MetadataStore

log = logging.getLogger("openrek.jobs")
MAX_ATTEMPTS = 2


class LocalJobRunner:
    def __init__(self, metadata: MetadataStore, objects_root: str, workers: int = 1) -> None:
        self.metadata = metadata
        self.objects_root = objects_root
        self.workers = max(1, workers)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._slots = threading.Semaphore(self.workers)
        self._pool: ProcessPoolExecutor | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        self.recover_interrupted()
        ctx = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx, initializer=die_with_parent,
                                         initargs=(os.getpid(),))
        self._thread = threading.Thread(target=self._loop, name="openrek-jobs", daemon=True)
        self._thread.start()
        self.wake()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def wake(self) -> None:
        if not self._wake.is_set():
            self._wake.set()

    def recover_interrupted(self) -> None:
        """Jobs left RUNNING by a server that stopped: queue them again once, then fail them."""
        for job in self.metadata.jobs_in_state("RUNNING"):
            if job.attempts < MAX_ATTEMPTS:
                self.metadata.requeue_job(job.id, "interrupted by a server stop; queued again")
                self.metadata.update_version(
                    job.version_arn,
                    status_message="The model is being trained (restarted after the openrek server restarted).",
                )
                continue
            self.metadata.finish_job(job.id, "interrupted too often")
            self.metadata.transition_version(
                job.version_arn,
                ["TRAINING_IN_PROGRESS"],
                "TRAINING_FAILED",
                status_message=(
                    f"Training was interrupted {job.attempts} times because the openrek server stopped while it "
                    "ran. Keep the server running and create a new version to train again."
                ),
            )

    # -- dispatch -----------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=2.0)
            self._wake.clear()
            while not self._stop.is_set() and self._slots.acquire(blocking=False):
                job = self.metadata.claim_next_job()
                if job is None:
                    self._slots.release()
                    break
                self._submit(job.id, job.version_arn, job.payload)

    def _submit(self, job_id: int, version_arn: str, payload: dict[str, Any]) -> None:
        assert self._pool is not None
        try:
            future = self._pool.submit(run_job, payload, self.objects_root)
        except RuntimeError:  # pool shut down: the job stays RUNNING and is recovered at next start
            self._slots.release()
            return
        future.add_done_callback(lambda f: self._finished(f, job_id, version_arn))

    def _finished(self, future: Future, job_id: int, version_arn: str) -> None:
        try:
            if future.cancelled() or self._stop.is_set() and future.exception() is not None:
                return  # server stopping: leave the job RUNNING, recovery requeues it
            exc = future.exception()
            if exc is not None:
                outcome = {"status": "TRAINING_FAILED",
                           "status_message": f"The training worker stopped unexpectedly: {type(exc).__name__}: {exc}"}
            else:
                outcome = future.result()
            apply_outcome(self.metadata, job_id, version_arn, outcome)
        except Exception:
            log.exception("could not record the outcome of job %s", job_id)
        finally:
            self._slots.release()
            self.wake()
