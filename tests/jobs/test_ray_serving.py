"""Serving on a real Ray cluster (OPENREK_JOB_ENGINE=ray): two API servers share PostgreSQL, SeaweedFS and
the cluster; a version started through one is detected through the other, even after the first is killed;
its inference units scale from MinInferenceUnits up to MaxInferenceUnits under load and back when idle; a
bad image still gets AWS's error; stopping through either server ends the replicas."""

from __future__ import annotations

import base64
import os
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.support.backends import postgres, s3_credentials_env, s3_store_url, seaweed
from tests.support.clients import client
from tests.support.datasets import wait_version
from tests.support.images import shape_image, upload_classification_set
from tests.support.ray_cluster import RayCluster
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow

REPLICA = "ModelReplica"


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayCluster]:
    ray = RayCluster(head_cpus=0).start()  # the head runs no tasks: replicas land on the worker node
    try:
        ray.add_node(cpus=2)
        yield ray
    finally:
        ray.stop()


def _wait(what: str, check, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


def test_a_model_started_through_one_server_serves_through_the_other_and_scales(tmp_path: Path,
                                                                                cluster: RayCluster) -> None:
    shared = {"OPENREK_DATABASE_URL": postgres().database_for(f"rayserve-{uuid.uuid4()}"),
              "OPENREK_OBJECT_STORE": s3_store_url(seaweed(), f"rayserve-{uuid.uuid4()}"),
              "OPENREK_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(), **s3_credentials_env(seaweed()),
              "OPENREK_JOB_ENGINE": "ray", "RAY_ADDRESS": cluster.address,
              "OPENREK_SERVING_UPSCALE_S": "0.5", "OPENREK_SERVING_DOWNSCALE_S": "3"}
    first, second = ServerProcess(tmp_path / "a", env=shared), ServerProcess(tmp_path / "b", env=shared)
    second.log_path = tmp_path / "b.log"
    try:
        a, b = first.start(), second.start()
        rek_a, s3_a, rek_b = client("rekognition", a), client("s3", a), client("rekognition", b)
        s3_a.create_bucket(Bucket="serve")
        manifest = upload_classification_set(s3_a, "serve", "set/", ["red", "blue"], per_label=8, size=64)
        project = rek_a.create_project(ProjectName="serve")["ProjectArn"]
        arn = rek_a.create_project_version(
            ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": "serve", "S3KeyPrefix": "out/"},
            TrainingData={"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "serve", "Name": manifest}}}]},
            TestingData={"AutoCreate": True})["ProjectVersionArn"]
        version = wait_version(rek_b, project, "v1", {"TRAINING_COMPLETED", "TRAINING_FAILED"}, timeout=300)
        assert version["Status"] == "TRAINING_COMPLETED", version["StatusMessage"]

        # Started through A, with room to grow to two units; A is then killed: the model does not care.
        rek_a.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1, MaxInferenceUnits=2)
        rek_b.get_waiter("project_version_running").wait(ProjectArn=project, VersionNames=["v1"],
                                                        WaiterConfig={"Delay": 1, "MaxAttempts": 180})
        assert cluster.actor_processes(REPLICA) == 1
        first.kill()
        red = shape_image("red", 4242, size=64)
        labels = rek_b.detect_custom_labels(ProjectVersionArn=arn, MinConfidence=0, Image={"Bytes": red})
        assert labels["CustomLabels"] and labels["CustomLabels"][0]["Name"] == "red"
        with pytest.raises(ClientError) as bad:
            rek_b.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": b"\x89PNG\r\n\x1a\n" + b"x" * 64})
        assert bad.value.response["Error"]["Code"] == "InvalidImageFormatException"

        # 16 clients at once: a second unit starts; every answer stays right.
        stop = threading.Event()
        answers: list[str] = []

        def load() -> None:
            rek = client("rekognition", b)
            while not stop.is_set():
                got = rek.detect_custom_labels(ProjectVersionArn=arn, MinConfidence=0, Image={"Bytes": red})
                answers.append(got["CustomLabels"][0]["Name"])

        with ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(load) for _ in range(16)]
            try:
                _wait("a second inference unit", lambda: cluster.actor_processes(REPLICA) == 2, timeout=120)
                time.sleep(2)  # and it takes requests
            finally:
                stop.set()
            for future in futures:
                future.result()
        assert answers and set(answers) == {"red"}
        assert cluster.actor_processes(REPLICA) == 2  # never above MaxInferenceUnits

        # Idle: back to MinInferenceUnits.
        _wait("the scale-down to one unit", lambda: cluster.actor_processes(REPLICA) == 1, timeout=60)
        assert rek_b.detect_custom_labels(ProjectVersionArn=arn, MinConfidence=0,
                                          Image={"Bytes": red})["CustomLabels"][0]["Name"] == "red"

        # A comes back and stops it: the replicas end, and no server serves it any more.
        a = first.start()
        rek_a = client("rekognition", a)
        rek_a.stop_project_version(ProjectVersionArn=arn)
        wait_version(rek_b, project, "v1", {"STOPPED"}, timeout=60)
        _wait("the replicas to end", lambda: cluster.actor_processes(REPLICA) == 0, timeout=60)
        with pytest.raises(ClientError) as stopped:
            rek_b.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": red})
        assert stopped.value.response["Error"]["Code"] == "ResourceNotReadyException"
    finally:
        first.kill()
        second.stop()
