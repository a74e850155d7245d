"""A training worker process killed mid-job (what the out-of-memory killer does) fails that version with a
reason, and the next job trains and completes on a new worker without a server restart."""

from __future__ import annotations

import os
import signal
import time

from tests.support.clients import client
from tests.support.datasets import wait_version
from tests.support.images import upload_classification_set
from tests.support.server import ServerProcess, worker_pids


def test_a_killed_worker_fails_its_version_and_the_next_job_trains(fresh_server: ServerProcess) -> None:
    endpoint = fresh_server.start()
    rek, s3 = client("rekognition", endpoint), client("s3", endpoint)
    s3.create_bucket(Bucket="oom")
    manifest = upload_classification_set(s3, "oom", "set/", ["red", "blue"], per_label=6, size=64)
    project = rek.create_project(ProjectName="oom")["ProjectArn"]

    def train(name: str) -> None:
        rek.create_project_version(
            ProjectArn=project, VersionName=name, OutputConfig={"S3Bucket": "oom", "S3KeyPrefix": f"{name}/"},
            TrainingData={"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "oom", "Name": manifest}}}]},
            TestingData={"AutoCreate": True})

    train("killed")
    assert fresh_server.proc is not None
    deadline = time.monotonic() + 60
    while not (workers := worker_pids(fresh_server.proc.pid)):
        assert time.monotonic() < deadline, "no training worker process started"
        time.sleep(0.1)
    time.sleep(1.0)  # let it get into the job
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    killed = wait_version(rek, project, "killed", {"TRAINING_COMPLETED", "TRAINING_FAILED"}, timeout=120)
    assert killed["Status"] == "TRAINING_FAILED" and "worker process died" in killed["StatusMessage"]

    train("after")
    after = wait_version(rek, project, "after", {"TRAINING_COMPLETED", "TRAINING_FAILED"}, timeout=600)
    assert after["Status"] == "TRAINING_COMPLETED", after["StatusMessage"]
    assert fresh_server.proc.poll() is None  # the same server, never restarted
