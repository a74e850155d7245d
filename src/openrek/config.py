"""Configuration in one place: data dir, endpoint, account, backends.

Environment variables override the embedded defaults; nothing here imports heavy modules.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4599
DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"


def default_data_dir() -> Path:
    return Path(os.environ.get("OPENREK_DATA_DIR") or Path.home() / ".openrek").expanduser()


def default_port() -> int:
    return int(os.environ.get("OPENREK_PORT") or DEFAULT_PORT)


AUTH_OFF = ("off", "0", "false")


def auth_from_env() -> bool:
    """False only for OPENREK_AUTH=off|0|false; anything else (unset included) verifies signatures."""
    return (os.environ.get("OPENREK_AUTH") or "on").strip().lower() not in AUTH_OFF


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


@dataclass
class Settings:
    """Everything a server needs to start; defaults are the embedded ones."""

    data_dir: Path = field(default_factory=default_data_dir)
    host: str = DEFAULT_HOST
    port: int = field(default_factory=default_port)
    account_id: str = field(default_factory=lambda: os.environ.get("OPENREK_ACCOUNT_ID") or DEFAULT_ACCOUNT)
    default_region: str = field(default_factory=lambda: os.environ.get("OPENREK_REGION") or DEFAULT_REGION)
    # SQLAlchemy URL; empty means SQLite in the data dir.
    database_url: str = field(default_factory=lambda: os.environ.get("OPENREK_DATABASE_URL", ""))
    # Object store location (see `object_store_url`); empty means a directory in the data dir.
    object_store: str = field(default_factory=lambda: os.environ.get("OPENREK_OBJECT_STORE", ""))
    # Where training jobs run: "local" (a process pool on this machine) or "ray" (tasks on the Ray cluster at
    # RAY_ADDRESS, each asking for OPENREK_RAY_NUM_CPUS / OPENREK_RAY_NUM_GPUS).
    job_engine: str = field(default_factory=lambda: (os.environ.get("OPENREK_JOB_ENGINE") or "local").strip().lower())
    ray_address: str = field(default_factory=lambda: os.environ.get("RAY_ADDRESS", ""))
    ray_num_cpus: float = field(default_factory=lambda: float(os.environ.get("OPENREK_RAY_NUM_CPUS") or 1))
    ray_num_gpus: float = field(default_factory=lambda: float(os.environ.get("OPENREK_RAY_NUM_GPUS") or 0))
    # Where started models run: "local" (ONNX sessions in this server) or "ray" (a deployment of Ray actors,
    # MinInferenceUnits..MaxInferenceUnits replicas of OPENREK_RAY_REPLICA_CPUS each, that every server
    # reaches). Follows OPENREK_JOB_ENGINE unless OPENREK_SERVING_ENGINE says otherwise.
    serving_engine: str = field(default_factory=lambda: (
        os.environ.get("OPENREK_SERVING_ENGINE") or os.environ.get("OPENREK_JOB_ENGINE") or "local").strip().lower())
    ray_replica_cpus: float = field(default_factory=lambda: float(os.environ.get("OPENREK_RAY_REPLICA_CPUS") or 1))
    # Training jobs at a time: worker processes on the embedded default, concurrent Ray tasks on Ray.
    workers: int = field(default_factory=lambda: int(os.environ.get("OPENREK_WORKERS") or 1))
    # Upper bound on one training job's wall-clock seconds (early stopping usually ends it sooner).
    training_budget_s: float = field(
        default_factory=lambda: float(os.environ.get("OPENREK_TRAINING_BUDGET_S") or 600)
    )
    # Training tuning knobs (JSON object; see training/pipeline.py PipelineOptions), e.g. smaller detector
    # images for quick experiments: OPENREK_TRAINING_OPTIONS='{"detector_image_size": 256}'.
    training_options: dict = field(
        default_factory=lambda: json.loads(os.environ.get("OPENREK_TRAINING_OPTIONS") or "{}")
    )

    # Verify every request's SigV4 signature against the server's accounts. On unless OPENREK_AUTH is
    # off/0/false (or the server's --auth off): the open mode, for throwaway local use, where every request
    # acts as the first account whatever it is signed with.
    auth: bool = field(default_factory=auth_from_env)
    # TLS (the server's flags --tls, --tls-cert, --tls-key override these): "self-signed" makes and reuses a
    # certificate in <data-dir>/tls; a certificate and key path serve HTTPS with those; nothing is plain HTTP.
    tls_mode: str = field(default_factory=lambda: os.environ.get("OPENREK_TLS", "").strip().lower())
    tls_cert: Path | None = field(default_factory=lambda: _env_path("OPENREK_TLS_CERT"))
    tls_key: Path | None = field(default_factory=lambda: _env_path("OPENREK_TLS_KEY"))

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'openrek.db'}"

    @property
    def object_store_url(self) -> str:
        """Where objects live: OPENREK_OBJECT_STORE (a directory, file:// or s3://<prefix>?endpoint_url=...),
        else the directory s3/ in the data dir."""
        return self.object_store or str(self.data_dir / "s3")
