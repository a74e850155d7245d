"""Training on a real two-node Ray cluster (OPENREK_JOB_ENGINE=ray), with PostgreSQL and SeaweedFS behind the
server: a version trains as a Ray task on a worker node and is then served; a worker node killed while it
trains leaves the version trained (Ray's retry on a node that is left) or failed with a reason, never stuck;
a job no node could ever take fails with the reason after the placement deadline instead of waiting forever."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.backends import postgres, s3_credentials_env, s3_store_url, seaweed
from tests.support.clients import client
from tests.support.datasets import wait_version
from tests.support.images import shape_image, upload_classification_set
from tests.support.ray_cluster import RayCluster
from tests.support.server import ServerProcess, worker_pids

pytestmark = pytest.mark.slow

DONE = {"TRAINING_COMPLETED", "TRAINING_FAILED"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayCluster]:
    ray = RayCluster(head_cpus=0).start()  # the head runs no tasks: training lands on worker nodes
    try:
        ray.add_node(cpus=1)
        yield ray
    finally:
        ray.stop()


def _server(tmp_path: Path, cluster: RayCluster, **extra: str) -> ServerProcess:
    env = {**extra, "OPENREK_DATABASE_URL": postgres().database_for(f"ray-{uuid.uuid4()}"),
           "OPENREK_OBJECT_STORE": s3_store_url(seaweed(), f"ray-{uuid.uuid4()}"), **s3_credentials_env(seaweed()),
           "OPENREK_JOB_ENGINE": "ray", "RAY_ADDRESS": cluster.address, "OPENREK_WORKERS": "2"}
    return ServerProcess(tmp_path / "data", env=env)


def _train(rek, s3, name: str, per_label: int) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    s3.create_bucket(Bucket=name)
    manifest = upload_classification_set(s3, name, "set/", ["red", "blue", "green"], per_label=per_label, size=64)
    project = rek.create_project(ProjectName=name)["ProjectArn"]
    arn = rek.create_project_version(
        ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": name, "S3KeyPrefix": "out/"},
        TrainingData={"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": name, "Name": manifest}}}]},
        TestingData={"AutoCreate": True})["ProjectVersionArn"]
    return project, arn


def test_a_version_trains_as_a_ray_task_on_a_worker_node_and_serves(tmp_path: Path, cluster: RayCluster) -> None:
    with _server(tmp_path, cluster) as server:
        endpoint = server.endpoint
        rek, s3 = client("rekognition", endpoint), client("s3", endpoint)
        project, arn = _train(rek, s3, "ray-flow", per_label=10)
        seen_on_node = False
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            seen_on_node = seen_on_node or cluster.running_task(cluster.nodes[0], "openrek-train-")
            status = rek.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"][0]["Status"]
            if status in DONE:
                break
            time.sleep(0.2)
        version = wait_version(rek, project, "v1", DONE, timeout=5)
        assert version["Status"] == "TRAINING_COMPLETED", version["StatusMessage"]
        assert seen_on_node  # it ran on the worker node, as a Ray task
        assert server.proc is not None and worker_pids(server.proc.pid) == []  # and not in a local pool
        rek.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)
        rek.get_waiter("project_version_running").wait(ProjectArn=project, VersionNames=["v1"],
                                                      WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        labels = rek.detect_custom_labels(ProjectVersionArn=arn, MinConfidence=0,
                                          Image={"Bytes": shape_image("red", 4242, size=64)})["CustomLabels"]
        assert labels and labels[0]["Name"] in {"red", "blue", "green"}
        rek.stop_project_version(ProjectVersionArn=arn)  # its replica holds the node's CPU until then
        wait_version(rek, project, "v1", {"STOPPED"}, timeout=60)


def test_a_job_no_node_can_take_fails_with_the_reason_instead_of_waiting_forever(tmp_path: Path,
                                                                                 cluster: RayCluster) -> None:
    with _server(tmp_path, cluster, OPENREK_RAY_NUM_CPUS="64", OPENREK_RAY_PLACEMENT_TIMEOUT_S="3") as server:
        rek, s3 = client("rekognition", server.endpoint), client("s3", server.endpoint)
        project, _ = _train(rek, s3, "ray-too-big", per_label=4)
        version = wait_version(rek, project, "v1", DONE, timeout=120)
        assert version["Status"] == "TRAINING_FAILED"
        assert "No node of the Ray cluster has 64 CPUs" in version["StatusMessage"], version["StatusMessage"]
        assert not any(cluster.running_task(ip, "openrek-train-") for ip in cluster.nodes)


def test_a_worker_node_killed_mid_training_never_leaves_the_version_stuck(tmp_path: Path,
                                                                          cluster: RayCluster) -> None:
    with _server(tmp_path, cluster) as server:
        endpoint = server.endpoint
        rek, s3 = client("rekognition", endpoint), client("s3", endpoint)
        project, _ = _train(rek, s3, "ray-fault", per_label=16)
        doomed = cluster.nodes[-1]
        deadline = time.monotonic() + 180
        while not cluster.running_task(doomed, "openrek-train-"):
            assert time.monotonic() < deadline, "the training task never started on the worker node"
            time.sleep(0.2)
        cluster.add_node(cpus=1)  # somewhere for Ray to retry
        cluster.kill_node(doomed)
        version = wait_version(rek, project, "v1", DONE, timeout=420)
        if version["Status"] == "TRAINING_FAILED":
            assert "lost" in version["StatusMessage"], version["StatusMessage"]
        else:
            assert version["Status"] == "TRAINING_COMPLETED"

