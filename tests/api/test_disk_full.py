"""A full data disk (a small tmpfs as data dir, with room for a few ~50 MB models): training fails with
a message about space instead of hanging in progress, and everything stored before stays intact."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.clients import client
from tests.support.datasets import wait_version
from tests.support.images import upload_classification_set
from tests.support.server import ServerProcess


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if done.returncode != 0:  # loud, with the reason: mounting needs root (CI runs as root)
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(disk: Path, leave: int) -> Path:
    """Fills the disk but for `leave` bytes."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free - leave
    with open(filler, "wb") as f:
        chunk = b"\0" * (1 << 20)
        while free > 0:
            f.write(chunk[:min(len(chunk), free)])
            free -= len(chunk)
    return filler


def test_training_on_a_full_disk_fails_saying_so_and_loses_nothing(small_disk: Path) -> None:
    server = ServerProcess(small_disk / "data")
    endpoint = server.start()
    try:
        rek, s3 = client("rekognition", endpoint), client("s3", endpoint)
        s3.create_bucket(Bucket="full")
        manifest = upload_classification_set(s3, "full", "set/", ["red", "blue"], per_label=6, size=64)
        s3.put_object(Bucket="full", Key="kept.txt", Body=b"stored before the disk filled")
        project = rek.create_project(ProjectName="full")["ProjectArn"]
        filler = _fill(small_disk, leave=2 * 1024 * 1024)
        rek.create_project_version(
            ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": "full", "S3KeyPrefix": "out/"},
            TrainingData={"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "full", "Name": manifest}}}]},
            TestingData={"AutoCreate": True})
        version = wait_version(rek, project, "v1", {"TRAINING_COMPLETED", "TRAINING_FAILED"}, timeout=600)
        assert version["Status"] == "TRAINING_FAILED"
        assert "disk" in version["StatusMessage"] and "full" in version["StatusMessage"], version["StatusMessage"]
        assert s3.get_object(Bucket="full", Key="kept.txt")["Body"].read() == b"stored before the disk filled"
        assert s3.get_object(Bucket="full", Key=manifest)["Body"].read().count(b"\n") == 11
        assert [p["ProjectArn"] for p in rek.describe_projects()["ProjectDescriptions"]] == [project]
        os.unlink(filler)
        # With room again, the same server trains.
        rek.create_project_version(
            ProjectArn=project, VersionName="v2", OutputConfig={"S3Bucket": "full", "S3KeyPrefix": "out2/"},
            TrainingData={"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "full", "Name": manifest}}}]},
            TestingData={"AutoCreate": True})
        again = wait_version(rek, project, "v2", {"TRAINING_COMPLETED", "TRAINING_FAILED"}, timeout=600)
        assert again["Status"] == "TRAINING_COMPLETED", again["StatusMessage"]
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.kill()
