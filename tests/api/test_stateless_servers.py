"""Two openrek servers, each with its own data dir, sharing one PostgreSQL database, one S3-compatible store
(SeaweedFS) and one master key: each serves what the other wrote, and killing one under load loses no write
it acknowledged."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.backends import postgres, s3_credentials_env, s3_store_url, seaweed
from tests.support.clients import client
from tests.support.server import ServerProcess


def _servers(tmp_path: Path) -> tuple[ServerProcess, ServerProcess]:
    shared = {"OPENREK_DATABASE_URL": postgres().database_for(f"stateless-{uuid.uuid4()}"),
              "OPENREK_OBJECT_STORE": s3_store_url(seaweed(), f"stateless-{uuid.uuid4()}"),
              "OPENREK_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(), **s3_credentials_env(seaweed())}
    first = ServerProcess(tmp_path / "a", env=shared)
    second = ServerProcess(tmp_path / "b", env=shared)
    second.log_path = tmp_path / "b.log"
    return first, second


def test_two_servers_share_everything_and_one_killed_under_load_loses_no_acknowledged_write(
        tmp_path: Path) -> None:
    first, second = _servers(tmp_path)
    try:
        endpoints = [first.start(), second.start()]
        rek = [client("rekognition", e) for e in endpoints]
        s3 = [client("s3", e) for e in endpoints]
        # What one writes, the other serves at once.
        s3[0].create_bucket(Bucket="shared")
        s3[1].put_object(Bucket="shared", Key="from/b.txt", Body=b"written through b")
        assert s3[0].get_object(Bucket="shared", Key="from/b.txt")["Body"].read() == b"written through b"
        project = rek[1].create_project(ProjectName="made-on-b")["ProjectArn"]
        assert [p["ProjectArn"] for p in rek[0].describe_projects()["ProjectDescriptions"]] == [project]

        acknowledged: list[tuple[str, str]] = []  # (kind, name) the servers answered with success
        failed_sides: list[int] = []
        sides: list[int] = []  # which server acknowledged each object
        lock = threading.Lock()
        killed = threading.Event()

        def work(n: int) -> None:
            side = n % 2
            body = hashlib.sha256(str(n).encode()).digest() * 64
            try:
                s3[side].put_object(Bucket="shared", Key=f"load/{n:04d}", Body=body)
                with lock:
                    acknowledged.append(("object", f"load/{n:04d}"))
                    sides.append(side)
                rek[side].create_project(ProjectName=f"load-{n:04d}")
                with lock:
                    acknowledged.append(("project", f"load-{n:04d}"))
            except Exception:  # the killed server's requests fail; they were never acknowledged
                with lock:
                    failed_sides.append(side)

            if n == 60:
                killed.set()
                first.kill()  # kill -9, mid-load

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(work, range(160)))
        assert killed.is_set() and set(failed_sides) <= {0}  # the survivor failed nothing
        objects = {k for kind, k in acknowledged if kind == "object"}
        projects = {k for kind, k in acknowledged if kind == "project"}
        assert sides.count(0) >= 10 and sides.count(1) == 80  # both served; the survivor all of its share

        # Every acknowledged write is there, whole, through the survivor.
        listed = set()
        for page in s3[1].get_paginator("list_objects_v2").paginate(Bucket="shared", Prefix="load/"):
            listed |= {o["Key"] for o in page.get("Contents", [])}
        assert objects <= listed
        for key in sorted(objects):
            n = int(key.split("/")[1])
            assert s3[1].get_object(Bucket="shared", Key=key)["Body"].read() == \
                hashlib.sha256(str(n).encode()).digest() * 64
        names = set()
        for page in rek[1].get_paginator("describe_projects").paginate():
            names |= {p["ProjectArn"].split("/")[1] for p in page["ProjectDescriptions"]}
        assert projects <= names

        # The killed server comes back and serves the same data.
        first.proc = None
        revived = client("s3", first.start())
        assert revived.get_object(Bucket="shared", Key="from/b.txt")["Body"].read() == b"written through b"
    finally:
        for server in (first, second):
            if server.proc is not None and server.proc.poll() is None:
                server.kill()
