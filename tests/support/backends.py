"""Which backends the test servers run on: the embedded defaults (SQLite and a directory in the data dir,
the local process pool and in-process models), or, with OPENREK_TEST_DATABASE=postgresql, a PostgreSQL
server, with OPENREK_TEST_OBJECT_STORE=s3, a SeaweedFS S3 gateway and, with OPENREK_TEST_JOB_ENGINE=ray, a
Ray cluster (a head with no CPUs and two 1-CPU worker nodes) that trains and serves, each started once for
the test run and stopped when it ends.

Test code asks here for a data dir's database URL and object store location, so a test that opens a
server's stores itself reads what that server wrote, whichever backends it runs on. Each data dir gets its
own database and its own remote bucket prefix, so tests sharing one server never see each other's data.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import threading
from pathlib import Path

from tests.support.postgres import PostgresServer
from tests.support.ray_cluster import RayCluster
from tests.support.seaweedfs import SeaweedServer

_lock = threading.Lock()
_postgres: list[PostgresServer] = []
_seaweed: list[SeaweedServer] = []
_ray: list[RayCluster] = []


def _kind(variable: str, choices: tuple[str, str]) -> str:
    """The backend `variable` names (its first choice, the embedded default, when unset)."""
    kind = (os.environ.get(variable) or choices[0]).strip().lower()
    if kind not in choices:
        raise ValueError(f"{variable} must be {' or '.join(choices)}, not {kind!r}")
    return kind


def database_kind() -> str:
    return _kind("OPENREK_TEST_DATABASE", ("sqlite", "postgresql"))


def postgres() -> PostgresServer:
    """The run's PostgreSQL server, started on first use and stopped when the run ends."""
    with _lock:
        if not _postgres:
            server = PostgresServer().start()
            atexit.register(server.close)
            _postgres.append(server)
        return _postgres[0]


def database_url(data_dir: Path) -> str:
    """The metadata database of the server whose data dir is `data_dir`."""
    data_dir = Path(data_dir)
    if database_kind() == "postgresql":
        return postgres().database_for(str(data_dir.resolve()))
    return f"sqlite:///{data_dir / 'openrek.db'}"


def object_store_kind() -> str:
    return _kind("OPENREK_TEST_OBJECT_STORE", ("directory", "s3"))


def seaweed() -> SeaweedServer:
    """The run's SeaweedFS server, started on first use and stopped when the run ends. Its credentials go
    into this process's OPENREK_S3_* variables, which only openrek's object store reads."""
    with _lock:
        if not _seaweed:
            server = SeaweedServer()
            server.start()
            atexit.register(server.close)
            _seaweed.append(server)
            os.environ.update(s3_credentials_env(server))
        return _seaweed[0]


def s3_credentials_env(server: SeaweedServer) -> dict[str, str]:
    return {"OPENREK_S3_ACCESS_KEY_ID": server.access_key, "OPENREK_S3_SECRET_ACCESS_KEY": server.secret_key}


def s3_store_url(server: SeaweedServer, name: str) -> str:
    """An s3:// location on `server` whose bucket prefix is unique to `name`."""
    return f"s3://t{hashlib.sha1(name.encode()).hexdigest()[:12]}?endpoint_url={server.endpoint_url}"


def object_store_url(data_dir: Path) -> str:
    """The object store of the server whose data dir is `data_dir`."""
    data_dir = Path(data_dir)
    if object_store_kind() == "s3":
        return s3_store_url(seaweed(), str(data_dir.resolve()))
    return str(data_dir / "s3")


def job_engine_kind() -> str:
    return _kind("OPENREK_TEST_JOB_ENGINE", ("local", "ray"))


def ray_cluster() -> RayCluster:
    """The run's Ray cluster, started on first use and stopped when the run ends."""
    with _lock:
        if not _ray:
            cluster = RayCluster(head_cpus=0).start()
            atexit.register(cluster.stop)
            cluster.add_node(cpus=1)
            cluster.add_node(cpus=1)
            _ray.append(cluster)
        return _ray[0]


def stop_ray_models() -> None:
    """Ends the models the tests left running on the run's Ray cluster (if it was started)."""
    with _lock:
        clusters = list(_ray)
    for cluster in clusters:
        cluster.stop_models()


def server_env(data_dir: Path) -> dict[str, str]:
    """What a server process needs in its environment to use the run's backends (nothing for the default)."""
    env: dict[str, str] = {}
    if database_kind() == "postgresql":
        env["OPENREK_DATABASE_URL"] = database_url(data_dir)
    if object_store_kind() == "s3":
        env["OPENREK_OBJECT_STORE"] = object_store_url(data_dir)
        env.update(s3_credentials_env(seaweed()))
    if job_engine_kind() == "ray":
        # Replicas ask for no CPUs here: a model a test leaves running must not starve later tests' training.
        env.update({"OPENREK_JOB_ENGINE": "ray", "RAY_ADDRESS": ray_cluster().address,
                    "OPENREK_RAY_REPLICA_CPUS": "0"})
    return env
