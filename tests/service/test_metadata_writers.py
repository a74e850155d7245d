"""Writers of the metadata database on many threads: they take turns on the engine's lock (none waits out
SQLite's busy handler), a failed transaction hands the turn on, and the job runner's "anything queued?"
takes no write lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from openrek.service.rekognition.base import queued_job
from openrek.store.database import migrate, open_engine
from openrek.store.metadata import DuplicateError, MetadataStore
from openrek.store.schema import ProjectRow, VersionRow

PROJECT = "arn:aws:rekognition:us-east-1:000000000000:project/p/1"


@pytest.fixture
def metadata(tmp_path: Path) -> MetadataStore:
    engine = open_engine(f"sqlite:///{tmp_path / 'openrek.db'}")
    migrate(engine)
    store = MetadataStore(engine)
    store.add_project(ProjectRow(arn=PROJECT, name="p", account="000000000000", region="us-east-1",
                                 created_ms=1, status="CREATED", feature="CUSTOM_LABELS", auto_update=None))
    return store


def _version(name: str) -> VersionRow:
    return VersionRow(arn=f"{PROJECT}/version/{name}/1", project_arn=PROJECT, name=name, created_ms=1,
                      status="TRAINING_IN_PROGRESS", status_message="", output_config={"S3Bucket": "b"})


def test_concurrent_writers_all_commit_and_duplicates_hand_the_turn_on(metadata: MetadataStore) -> None:
    errors: list[BaseException] = []
    duplicates = []

    def write(n: int) -> None:
        try:
            for i in range(25):
                metadata.add_version(_version(f"v{n}-{i}"), job=queued_job("x", "train", {"i": i}),
                                     tags={"n": str(n)})
                try:  # refused by the database: its rollback must release the turn
                    metadata.add_version(_version(f"v{n}-{i}"))
                except DuplicateError:
                    duplicates.append(1)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and not any(t.is_alive() for t in threads)
    assert len(duplicates) == 150
    assert len(metadata.list_versions(PROJECT)) == 150
    assert len(metadata.jobs_in_state("QUEUED")) == 150
    assert metadata.get_tags(f"{PROJECT}/version/v3-7/1") == {"n": "3"}
    assert metadata.get_version(f"{PROJECT}/version/v0-0/1").details == {}  # the column default applied


def test_finding_no_queued_job_takes_no_write_lock(metadata: MetadataStore, tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "openrek.db", isolation_level=None)  # another process's writer
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        assert metadata.claim_next_job(["dataset", "copy"]) is None
        assert time.monotonic() - started < 5  # not the 30 s busy timeout
    finally:
        other.execute("ROLLBACK")
        other.close()
    metadata.add_version(_version("v"), job=queued_job("x", "dataset", {}))
    job = metadata.claim_next_job(["dataset"])
    assert job is not None and job.state == "RUNNING" and job.attempts == 1
    assert metadata.claim_next_job(["dataset"]) is None
