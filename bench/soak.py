"""Soak: minutes of mixed traffic from 8 clients against one real `openrek server` (signatures verified):
uploads, lists, detects on a running model, describes, trainings, and hostile requests mixed in. Prints
requests served, 5xx and dropped connections (target 0), p50/p99 per kind, and the server's RSS once the
model is loaded and at the end (target: growth under 50 MB).

    .venv/bin/python bench/soak.py [--minutes 20] [--clients 8]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from tests.support.clients import client, signed  # noqa: E402
from tests.support.datasets import wait_version  # noqa: E402
from tests.support.images import shape_image, upload_classification_set  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

HOSTILE_JSON = [b"[" * 5000, b"{\"ProjectName\": " + b"\"x\"" * 3 + b"}", b"\xff\xfe", b"{}", b"null",
                b"{\"MaxResults\": 1e309}", b"{\"ProjectArn\": 7}"]
HOSTILE_TARGETS = ["DescribeProjects", "CreateProject", "DetectCustomLabels", "DescribeProjectVersions",
                   "NoSuchOperation"]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def worker(n: int, endpoint: str, seconds: float, project: str, version: str, bucket: str,
           manifest: str) -> dict:
    rnd = random.Random(n)
    rek, s3 = client("rekognition", endpoint), client("s3", endpoint)
    images = [shape_image(rnd.choice(["red", "blue"]), seed=rnd.randrange(10_000), size=96) for _ in range(8)]
    stats: dict[str, list] = {}
    fivexx, dropped, served = 0, 0, 0
    deadline = time.monotonic() + seconds
    trained = 0
    while time.monotonic() < deadline:
        kind = rnd.choices(["upload", "list", "detect", "describe", "hostile", "train"],
                           weights=[25, 15, 25, 20, 14, 1 if n == 0 else 0])[0]
        t0 = time.perf_counter()
        status = 200
        try:
            if kind == "upload":
                s3.put_object(Bucket=bucket, Key=f"soak/{n}/{rnd.randrange(200)}.jpg", Body=rnd.choice(images))
            elif kind == "list":
                s3.list_objects_v2(Bucket=bucket, Prefix=f"soak/{n}/", MaxKeys=50)
            elif kind == "detect":
                rek.detect_custom_labels(ProjectVersionArn=version, Image={"Bytes": rnd.choice(images)})
            elif kind == "describe":
                rek.describe_project_versions(ProjectArn=project, MaxResults=5)
            elif kind == "train":
                trained += 1
                rek.create_project_version(
                    ProjectArn=project, VersionName=f"soak-{n}-{trained}-{int(time.time())}",
                    OutputConfig={"S3Bucket": bucket, "S3KeyPrefix": "soak-out/"}, TestingData={"AutoCreate": True},
                    TrainingData={"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": bucket,
                                                                                   "Name": manifest}}}]})
            else:
                if rnd.random() < 0.5:
                    answer = signed("POST", endpoint + "/", data=rnd.choice(HOSTILE_JSON), headers={
                        "X-Amz-Target": f"RekognitionService.{rnd.choice(HOSTILE_TARGETS)}",
                        "Content-Type": "application/x-amz-json-1.1"})
                else:
                    answer = signed("GET", f"{endpoint}/{bucket}/soak/{n}/0.jpg", service="s3",
                                    headers={"Range": "bytes=" + "9" * rnd.choice([3, 40, 400])})
                status = answer.status_code
        except ClientError as exc:
            status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
        except (requests.ConnectionError, ConnectionError, OSError):
            dropped += 1
            status = -1
        elapsed = (time.perf_counter() - t0) * 1000
        served += 1
        if status >= 500:
            fivexx += 1
            stats.setdefault(f"5xx:{kind}", []).append(status)
        stats.setdefault(kind, []).append(elapsed)
    return {"stats": stats, "5xx": fivexx, "dropped": dropped, "served": served}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(Path(tmp) / "data") as server:
        rek, s3 = client("rekognition", server.endpoint), client("s3", server.endpoint)
        bucket = "soak"
        s3.create_bucket(Bucket=bucket)
        manifest = upload_classification_set(s3, bucket, "set/", ["red", "blue"], per_label=8, size=64)
        project = rek.create_project(ProjectName="soak")["ProjectArn"]
        version = rek.create_project_version(
            ProjectArn=project, VersionName="base", OutputConfig={"S3Bucket": bucket, "S3KeyPrefix": "out/"},
            TrainingData={"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": manifest}}}]},
            TestingData={"AutoCreate": True})["ProjectVersionArn"]
        wait_version(rek, project, "base", {"TRAINING_COMPLETED"}, timeout=900)
        rek.start_project_version(ProjectVersionArn=version, MinInferenceUnits=1)
        wait_version(rek, project, "base", {"RUNNING"}, timeout=300)
        rek.detect_custom_labels(ProjectVersionArn=version, Image={"Bytes": shape_image("red", 1, size=96)})
        pid = server.proc.pid  # type: ignore[union-attr]
        rss_start = rss_mib(pid)
        ctx = multiprocessing.get_context("spawn")
        started = time.perf_counter()
        samples: list[tuple[float, float, int]] = []  # (minute, RSS MiB, threads)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(30):
                threads = len(list(Path(f"/proc/{pid}/task").iterdir()))
                samples.append(((time.perf_counter() - started) / 60, rss_mib(pid), threads))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        with ctx.Pool(args.clients) as pool:
            results = pool.starmap(worker, [(n, server.endpoint, args.minutes * 60, project, version, bucket,
                                             manifest) for n in range(args.clients)])
        wall = time.perf_counter() - started
        done.set()
        rss_end = rss_mib(pid)
    merged: dict[str, list[float]] = {}
    for r in results:
        for kind, values in r["stats"].items():
            merged.setdefault(kind, []).extend(values)
    served = sum(r["served"] for r in results)
    print(f"soak: {args.clients} clients, {wall / 60:.1f} min, {served} requests ({served / wall:.1f}/s), "
          f"5xx {sum(r['5xx'] for r in results)}, dropped connections {sum(r['dropped'] for r in results)}, "
          f"server RSS {rss_start:.0f} MiB with the model loaded -> {rss_end:.0f} MiB at the end "
          f"({rss_end - rss_start:+.0f} MiB), {os.cpu_count()} cores")
    print("RSS over time: " + ", ".join(f"{m:.1f} min {r:.0f} MiB ({t} threads)" for m, r, t in samples))
    print("| kind | requests | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for kind, values in sorted(merged.items()):
        if kind.startswith("5xx:"):
            print(f"| {kind} | {len(values)} | statuses {sorted(set(values))} | |")
            continue
        print(f"| {kind} | {len(values)} | {percentile(values, 0.5):.1f} | {percentile(values, 0.99):.1f} |")
    print(json.dumps({"served": served, "5xx": sum(r["5xx"] for r in results)}))


if __name__ == "__main__":
    main()
