"""Job leases on a shared database: a starting runner leaves the jobs of live runners alone and recovers
those of runners that are gone (lease run out, or a process of this host that no longer runs)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from openrek.jobs.leases import is_orphaned, new_owner
from openrek.jobs.runner import LocalJobRunner
from openrek.service.rekognition.base import queued_job
from openrek.store.database import migrate, open_engine
from openrek.store.metadata import MetadataStore
from openrek.store.schema import ProjectRow, VersionRow
from openrek.stores import StoreLocation
from tests.support.backends import postgres

PROJECT = "arn:aws:rekognition:us-east-1:000000000000:project/p/1"


def test_a_job_is_orphaned_when_its_owner_is_gone() -> None:
    me = new_owner()
    host = me.split(":")[0]
    now = time.time()
    assert not is_orphaned(me, now - 100, me, now)  # a runner never recovers its own jobs
    assert is_orphaned(None, None, me, now)  # claimed before leases existed
    assert is_orphaned("elsewhere:1:abc", now - 1, me, now)  # the lease ran out
    assert not is_orphaned("elsewhere:1:abc", now + 30, me, now)  # another machine, lease current
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert is_orphaned(f"{host}:{dead.pid}:abc", now + 30, me, now)  # this host, process gone
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert not is_orphaned(f"{host}:{alive.pid}:abc", now + 30, me, now)
    finally:
        alive.kill()
        alive.wait()
    my_pid = me.split(":")[1]
    assert is_orphaned(f"{host}:{my_pid}:earlier", now + 30, me, now)  # this pid, an earlier process


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'openrek.db'}"
    return postgres().database_for(f"leases-{uuid.uuid4()}")


def _runner(url: str, data_dir: Path) -> LocalJobRunner:
    engine = open_engine(url)
    migrate(engine)
    return LocalJobRunner(MetadataStore(engine), StoreLocation(str(data_dir), url, str(data_dir / "s3")))


def test_a_starting_runner_recovers_only_the_jobs_of_runners_that_are_gone(database_url: str,
                                                                           tmp_path: Path) -> None:
    first, second = _runner(database_url, tmp_path), _runner(database_url, tmp_path)
    first.owner = "another-machine:4242:token"  # the first runner's server runs on another machine
    store = first.metadata
    store.add_project(ProjectRow(arn=PROJECT, name="p", account="000000000000", region="us-east-1",
                                 created_ms=1, status="CREATED", feature="CUSTOM_LABELS", auto_update=None))
    for name in ("a", "b"):
        arn = f"{PROJECT}/version/{name}/1"
        store.add_version(VersionRow(arn=arn, project_arn=PROJECT, name=name, created_ms=1,
                                     status="TRAINING_IN_PROGRESS", status_message="",
                                     output_config={"S3Bucket": "b"}), job=queued_job(arn, "train", {}))
    held = store.claim_next_job(["train"], first.owner, 60)
    assert held is not None and held.owner == first.owner

    second.recover_interrupted()  # the first runner lives and holds its lease
    assert [(j.id, j.owner) for j in store.jobs_in_state("RUNNING")] == [(held.id, first.owner)]

    assert store.renew_leases(first.owner, -1) == 1  # its lease runs out: the first runner is gone
    second.recover_interrupted()
    _runner(database_url, tmp_path).recover_interrupted()  # a second recoverer finds nothing left to do
    assert store.jobs_in_state("RUNNING") == []
    queued = {j.id: j for j in store.jobs_in_state("QUEUED")}
    assert len(queued) == 2 and queued[held.id].attempts == 1 and queued[held.id].owner is None
    version = store.get_version(held.version_arn)
    assert version is not None and "restarted" in (version.status_message or "")

    # The first runner comes back late with an outcome: the job is no longer its own, so nothing is recorded.
    from openrek.jobs.outcome import apply_outcome

    late = {"status": "TRAINING_COMPLETED", "status_message": "late", "f1_score": 1.0}
    assert not apply_outcome(store, held.id, held.version_arn, late, owner=first.owner)
    version = store.get_version(held.version_arn)
    assert version is not None and version.status == "TRAINING_IN_PROGRESS"
    # The runner that holds it now records its outcome.
    again = store.claim_next_job(["train"], second.owner, 60)
    assert again is not None
    assert apply_outcome(store, again.id, again.version_arn, {**late, "status_message": "on time"},
                         owner=second.owner)
    version = store.get_version(again.version_arn)
    assert version is not None and version.status == "TRAINING_COMPLETED" and version.status_message == "on time"
