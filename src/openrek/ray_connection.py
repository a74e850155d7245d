"""Connecting this process to the Ray cluster at RAY_ADDRESS, once, for the training runner and the model host.

Ray workers do not inherit a server's environment, so what tasks and actors need is handed over explicitly
in the job's runtime environment: the object store's credentials (`PASSED_ON`, when set here) and whatever
the caller adds (the master key). Everything openrek places on the cluster lives in one namespace, so a
model placed through one API server is found by name through any other.
"""

from __future__ import annotations

import os
import signal
import threading

NAMESPACE = "openrek"

# What a task's or actor's environment carries over from this server's, besides what `connect` is given.
PASSED_ON = ("OPENREK_S3_ACCESS_KEY_ID", "OPENREK_S3_SECRET_ACCESS_KEY", "OPENREK_S3_SESSION_TOKEN",
             "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
             "OPENREK_TRAINING_DEVICE")

_lock = threading.Lock()


def worker_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment tasks and actors get: `PASSED_ON` from this process, then `extra`."""
    return {**{k: os.environ[k] for k in PASSED_ON if os.environ.get(k)}, **extra}


def connect(address: str, env: dict[str, str]) -> None:
    """Joins the cluster at `address` (idempotent, thread-safe); `env` is the workers' environment."""
    import ray

    with _lock:
        if ray.is_initialized():
            return
        # ray.init replaces the SIGTERM handler with one that exits at once (status 15); the server's own
        # handler (uvicorn's graceful shutdown) is put back.
        main = threading.current_thread() is threading.main_thread()
        kept = signal.getsignal(signal.SIGTERM) if main else None
        try:
            ray.init(address=address, namespace=NAMESPACE, log_to_driver=False,
                     runtime_env={"env_vars": env}, configure_logging=False)
        finally:
            if main and kept is not None:
                signal.signal(signal.SIGTERM, kept)


def disconnect() -> None:
    import ray

    with _lock:
        if ray.is_initialized():
            ray.shutdown()
