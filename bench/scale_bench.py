"""Scale-out figures (issue 11): prints three tables and exits.

    .venv/bin/python bench/scale_bench.py [--parts a,b,c] [--jobs 8] [--clients 16] [--seconds 20]

(a) `--jobs` training jobs of ../shared/datasets/flowers_small, all created at once: wall time until every
    version is TRAINING_COMPLETED, on the local process pool (OPENREK_WORKERS=2) and on a two-node Ray
    cluster (two 1-CPU worker nodes, OPENREK_JOB_ENGINE=ray, two tasks at a time). Both servers use the
    embedded stores (SQLite and a directory: one machine), so only the engine differs.
(b) DetectCustomLabels under `--clients` concurrent client processes for `--seconds`, on one of (a)'s Ray
    versions started with 1 and then 2 inference units (MinInferenceUnits, one 1-CPU replica per node), and
    the in-process local host for reference: requests per second, p50 and p99.
(c) control-plane p50/p99 (CreateProjectVersion, DescribeProjectVersions; 8 lean signed clients) with the
    metadata on SQLite and on PostgreSQL (pgserver's binaries, started here).

Everything runs on this machine: the clients share its cores with the servers, the Ray nodes and the
replicas, so (b) shows what one box sustains, not what more boxes would add.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.control_plane_bench import percentile  # noqa: E402
from bench.control_plane_bench import run as control_plane  # noqa: E402
from scripts.demo import dataset_items  # noqa: E402
from tests.support.clients import client  # noqa: E402
from tests.support.images import classification_line  # noqa: E402
from tests.support.ray_cluster import RayCluster  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

DONE = {"TRAINING_COMPLETED", "TRAINING_FAILED"}


def upload_flowers(endpoint: str) -> tuple[str, bytes]:
    """The flowers set into bucket `flowers`, with its manifest; returns the manifest key and one image."""
    s3 = client("s3", endpoint)
    items, what = dataset_items("flowers_small")
    s3.create_bucket(Bucket="flowers")
    lines = []
    for key, data, label in items:
        s3.put_object(Bucket="flowers", Key=f"data/{key}", Body=data)
        lines.append(classification_line("flowers", f"data/{key}", label))
    s3.put_object(Bucket="flowers", Key="train.manifest", Body="\n".join(lines).encode())
    print(f"   {what} uploaded")
    return "train.manifest", items[0][1]


def train_many(endpoint: str, jobs: int) -> tuple[float, list[dict], str]:
    """Creates `jobs` versions at once; returns the wall seconds to all done, the versions, the project."""
    rek = client("rekognition", endpoint)
    manifest, _ = upload_flowers(endpoint)
    project = rek.create_project(ProjectName="scale")["ProjectArn"]
    assets = {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "flowers", "Name": manifest}}}]}
    start = time.monotonic()
    for n in range(jobs):
        rek.create_project_version(ProjectArn=project, VersionName=f"v{n}", TrainingData=assets,
                                   OutputConfig={"S3Bucket": "flowers", "S3KeyPrefix": f"out/{n}/"},
                                   TestingData={"AutoCreate": True})
    while True:
        versions = [v for page in rek.get_paginator("describe_project_versions").paginate(ProjectArn=project)
                    for v in page["ProjectVersionDescriptions"]]
        if all(v["Status"] in DONE for v in versions):
            return time.monotonic() - start, versions, project
        time.sleep(1.0)


def _detect_client(endpoint: str, arn: str, image: bytes, seconds: float, barrier: Any) -> list[float]:
    rek = client("rekognition", endpoint)
    rek.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": image})  # warm the connection
    barrier.wait()
    latencies: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.perf_counter()
        rek.detect_custom_labels(ProjectVersionArn=arn, Image={"Bytes": image})
        latencies.append((time.perf_counter() - t0) * 1000)
    return latencies


def detect_load(endpoint: str, arn: str, image: bytes, clients: int, seconds: float) -> tuple[float, float, float]:
    """(requests per second, p50 ms, p99 ms) of `clients` client processes for `seconds`."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(clients)
        with ctx.Pool(clients) as pool:
            runs = pool.starmap(_detect_client, [(endpoint, arn, image, seconds, barrier)] * clients)
    latencies = [x for run in runs for x in run]
    return len(latencies) / seconds, percentile(latencies, 0.5), percentile(latencies, 0.99)


def serve(endpoint: str, project: str, arn: str, units: int, image: bytes, clients: int,
          seconds: float) -> tuple[float, float, float]:
    rek = client("rekognition", endpoint)
    rek.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=units)
    name = arn.split("/")[-2]
    rek.get_waiter("project_version_running").wait(ProjectArn=project, VersionNames=[name],
                                                  WaiterConfig={"Delay": 1, "MaxAttempts": 300})
    figures = detect_load(endpoint, arn, image, clients, seconds)
    rek.stop_project_version(ProjectVersionArn=arn)
    while rek.describe_project_versions(ProjectArn=project, VersionNames=[name])[
            "ProjectVersionDescriptions"][0]["Status"] != "STOPPED":
        time.sleep(0.5)
    return figures


def part_a_b(parts: set[str], jobs: int, clients: int, seconds: float) -> None:
    rows_a: list[tuple[str, float, list[dict]]] = []
    rows_b: list[tuple[str, tuple[float, float, float]]] = []
    image = dataset_items("flowers_small")[0][0][1]
    with tempfile.TemporaryDirectory() as tmp:
        print("(a) local process pool (OPENREK_WORKERS=2)")
        with ServerProcess(Path(tmp) / "local", env={"OPENREK_WORKERS": "2"}) as server:
            wall, versions, project = train_many(server.endpoint, jobs)
            rows_a.append(("local pool, 2 workers", wall, versions))
            if "b" in parts:
                done = [v for v in versions if v["Status"] == "TRAINING_COMPLETED"]
                rows_b.append(("local host (in-process ONNX)",
                               serve(server.endpoint, project, done[0]["ProjectVersionArn"], 1, image, clients,
                                     seconds)))
        print("(a) Ray: head with 0 CPUs + two 1-CPU worker nodes")
        cluster = RayCluster(head_cpus=0).start()
        try:
            cluster.add_node(cpus=1)
            cluster.add_node(cpus=1)
            env = {"OPENREK_JOB_ENGINE": "ray", "RAY_ADDRESS": cluster.address, "OPENREK_WORKERS": "2"}
            with ServerProcess(Path(tmp) / "ray", env=env) as server:
                wall, versions, project = train_many(server.endpoint, jobs)
                rows_a.append(("Ray, 2 nodes x 1 CPU", wall, versions))
                if "b" in parts:
                    arn = [v for v in versions if v["Status"] == "TRAINING_COMPLETED"][0]["ProjectVersionArn"]
                    for units in (1, 2):
                        rows_b.append((f"Ray, {units} inference unit(s)",
                                       serve(server.endpoint, project, arn, units, image, clients, seconds)))
        finally:
            cluster.stop()
    print(f"\n(a) {jobs} flowers_small training jobs created at once, wall time to all done")
    print(f"{'engine':<28}{'wall s':>8}{'completed':>11}{'F1 mean':>9}")
    for name, wall, versions in rows_a:
        done = [v for v in versions if v["Status"] == "TRAINING_COMPLETED"]
        f1 = statistics.fmean(v["EvaluationResult"]["F1Score"] for v in done) if done else float("nan")
        print(f"{name:<28}{wall:>8.0f}{len(done):>7}/{len(versions):<3}{f1:>9.3f}")
    if rows_b:
        print(f"\n(b) DetectCustomLabels, {clients} concurrent boto3 client processes, {seconds:g} s each")
        print(f"{'host':<32}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}")
        for name, (rps, p50, p99) in rows_b:
            print(f"{name:<32}{rps:>8.1f}{p50:>9.0f}{p99:>9.0f}")


def part_c() -> None:
    from tests.support.backends import postgres

    figures = {}
    for name, env in (("SQLite", {}), ("PostgreSQL", {"OPENREK_DATABASE_URL": postgres().database_for("bench")})):
        print(f"\n(c) control plane on {name}")
        figures[name] = control_plane(8, 50, lean=True, env=env)
    print("\n(c) control-plane p50 / p99 ms, 8 lean signed clients x 50 calls")
    print(f"{'metadata':<12}{'Create p50':>12}{'Create p99':>12}{'Describe p50':>14}{'Describe p99':>14}")
    for name, timings in figures.items():
        create, describe = timings["CreateProjectVersion"], timings["DescribeProjectVersions"]
        print(f"{name:<12}{percentile(create, 0.5):>12.1f}{percentile(create, 0.99):>12.1f}"
              f"{percentile(describe, 0.5):>14.1f}{percentile(describe, 0.99):>14.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="a,b,c")
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB")
    if parts & {"a", "b"}:
        part_a_b(parts, args.jobs, args.clients, args.seconds)
    if "c" in parts:
        part_c()


if __name__ == "__main__":
    main()
