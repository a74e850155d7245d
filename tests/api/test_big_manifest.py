"""A big manifest through CreateProjectVersion: the worker reads it as a stream, so its memory grows by
far less than the manifest's size (it used to grow by several times it), and every line still gets its
validation line."""

from __future__ import annotations

import json
import time

from tests.support.clients import client
from tests.support.datasets import wait_version
from tests.support.server import ServerProcess, peak_memory_kib, worker_pids

LINES = 12_000
PAD = "n" * 2_500  # ~2.7 KB a line: a 32 MB manifest


def _line(i: int) -> str:
    return json.dumps({"source-ref": f"s3://bigm/missing/{i:05d}.jpg", "label": 0, "notes": PAD,
                       "label-metadata": {"class-name": "cat" if i % 2 else "dog", "confidence": 1,
                                          "type": "groundtruth/image-classification", "human-annotated": "yes",
                                          "creation-date": "2024-01-01T00:00:00", "job-name": "j"}})


def test_a_32_mb_manifest_is_validated_in_bounded_memory(fresh_server: ServerProcess) -> None:
    endpoint = fresh_server.start()
    rek, s3 = client("rekognition", endpoint), client("s3", endpoint)
    s3.create_bucket(Bucket="bigm")
    body = "".join(_line(i) + "\n" for i in range(LINES)).encode()
    s3.put_object(Bucket="bigm", Key="big.manifest", Body=body)
    s3.put_object(Bucket="bigm", Key="empty.manifest", Body=b"\n")
    project = rek.create_project(ProjectName="bigm")["ProjectArn"]

    def train(name: str, manifest: str) -> dict:
        rek.create_project_version(
            ProjectArn=project, VersionName=name, OutputConfig={"S3Bucket": "bigm", "S3KeyPrefix": f"{name}/"},
            TrainingData={"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "bigm", "Name": manifest}}}]},
            TestingData={"AutoCreate": True})
        return wait_version(rek, project, name, {"TRAINING_COMPLETED", "TRAINING_FAILED"}, timeout=300)

    # A first job that fails at once starts the worker, whose peak memory is then the baseline.
    assert "ERROR_EMPTY_MANIFEST" in train("warm", "empty.manifest")["StatusMessage"]
    assert fresh_server.proc is not None
    deadline = time.monotonic() + 30
    while not (workers := worker_pids(fresh_server.proc.pid)):
        assert time.monotonic() < deadline, "no worker process"
        time.sleep(0.1)
    before = {pid: peak_memory_kib(pid) for pid in workers}

    version = train("big", "big.manifest")
    assert version["Status"] == "TRAINING_FAILED"
    assert "ERROR_TOO_MANY_INVALID_ROWS_IN_MANIFEST" in version["StatusMessage"], version["StatusMessage"]
    grown_mib = max(peak_memory_kib(pid) - before[pid] for pid in worker_pids(fresh_server.proc.pid)
                    if pid in before) / 1024
    # Reading it whole grew the worker by 214 MiB (6.7 times the manifest); streamed, by 22 MiB.
    assert grown_mib < len(body) / 2**20, f"the worker grew by {grown_mib:.0f} MiB for a " \
                                          f"{len(body) / 2**20:.0f} MiB manifest"

    validation = s3.get_object(Bucket="bigm", Key="big/TrainingManifestWithValidation-bigm-big.json")
    lines = validation["Body"].read().decode().splitlines()
    assert len(lines) == LINES
    first = json.loads(lines[0])
    assert first["notes"] == PAD and first["errors"][0]["code"] == "ERROR_INVALID_IMAGE"
