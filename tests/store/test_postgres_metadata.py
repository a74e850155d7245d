"""The metadata store on a real PostgreSQL server (started by the tests): the same migrations, job claims
that never hand one job to two workers, and one winner among concurrent creates of one name from two API
servers sharing the database."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import inspect

from openrek.service.rekognition.base import queued_job
from openrek.store.database import migrate, open_engine
from openrek.store.metadata import MetadataStore
from openrek.store.schema import ProjectRow, VersionRow
from tests.support.backends import postgres
from tests.support.clients import client
from tests.support.images import upload_classification_set
from tests.support.server import ServerProcess

PROJECT = "arn:aws:rekognition:us-east-1:000000000000:project/p/1"


@pytest.fixture
def database_url() -> str:
    return postgres().database_for(f"metadata-{uuid.uuid4()}")


def _store(url: str) -> MetadataStore:
    engine = open_engine(url)
    migrate(engine)
    return MetadataStore(engine)


def test_the_migrations_build_the_schema_on_postgresql_and_are_idempotent(database_url: str) -> None:
    store = _store(database_url)
    migrate(store.engine)  # the second server to start finds the schema current
    tables = set(inspect(store.engine).get_table_names())
    assert {"projects", "project_versions", "jobs", "datasets", "kms_keys", "iam_users"} <= tables
    assert store.is_local is False


def test_two_workers_never_claim_the_same_job(database_url: str) -> None:
    """Two worker processes' stores (engines of their own), eight claimers each, racing over 200 jobs."""
    first, second = _store(database_url), MetadataStore(open_engine(database_url))
    first.add_project(ProjectRow(arn=PROJECT, name="p", account="000000000000", region="us-east-1",
                                 created_ms=1, status="CREATED", feature="CUSTOM_LABELS", auto_update=None))
    for i in range(200):
        first.add_version(VersionRow(arn=f"{PROJECT}/version/v{i}/1", project_arn=PROJECT, name=f"v{i}",
                                     created_ms=1, status="TRAINING_IN_PROGRESS", status_message="",
                                     output_config={"S3Bucket": "b"}),
                          job=queued_job(f"{PROJECT}/version/v{i}/1", "train", {"i": i}))
    claimed: list[int] = []
    lock = threading.Lock()

    def claim_all(store: MetadataStore) -> None:
        while (job := store.claim_next_job(["train"])) is not None:
            with lock:
                claimed.append(job.payload["i"])

    with ThreadPoolExecutor(16) as pool:
        for future in [pool.submit(claim_all, store) for store in [first, second] * 8]:
            future.result(timeout=120)
    assert sorted(claimed) == list(range(200)), Counter(claimed).most_common(3)
    assert first.jobs_in_state("QUEUED") == []


def test_fifty_concurrent_creates_of_one_name_from_two_servers_have_one_winner(tmp_path: Path) -> None:
    url = postgres().database_for(f"servers-{uuid.uuid4()}")
    env = {"OPENREK_DATABASE_URL": url}
    servers = [ServerProcess(tmp_path / "data", env=env), ServerProcess(tmp_path / "data", env=env)]
    servers[1].log_path = tmp_path / "second-server.log"
    try:
        endpoints = [server.start() for server in servers]
        rek = [client("rekognition", endpoint) for endpoint in endpoints]
        project = rek[0].create_project(ProjectName="race")["ProjectArn"]
        assert [p["ProjectArn"] for p in rek[1].describe_projects()["ProjectDescriptions"]] == [project]
        s3 = client("s3", endpoints[1])
        s3.create_bucket(Bucket="race")
        manifest = upload_classification_set(s3, "race", "", ["red", "blue"], per_label=2, size=32)

        def create(n: int) -> str:
            try:
                rek[n % 2].create_project_version(
                    ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": "race"},
                    TrainingData={"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "race",
                                                                                   "Name": manifest}}}]},
                    TestingData={"AutoCreate": True})
                return "created"
            except ClientError as exc:
                return exc.response["Error"]["Code"]

        with ThreadPoolExecutor(50) as pool:
            results = Counter(pool.map(create, range(50)))
        assert results == {"created": 1, "ResourceInUseException": 49}, results
        for one in rek:
            versions = one.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"]
            assert [v["ProjectVersionArn"].split("/")[-2] for v in versions] == ["v1"]
    finally:
        for server in servers:
            if server.proc is not None and server.proc.poll() is None:
                server.kill()
