"""Control-plane latency: p50/p99 of CreateProjectVersion and DescribeProjectVersions under 8 concurrent
stock boto3 clients against a real `openrek server`, and the server's idle RSS. Prints a table and exits.

    .venv/bin/python bench/control_plane_bench.py [--clients 8] [--calls 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.clients import client  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(clients: int, calls: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(Path(tmp) / "data") as server:
        time.sleep(1.0)
        idle = rss_mib(server.proc.pid)  # type: ignore[union-attr]
        setup_rek = client("rekognition", server.endpoint)
        s3 = client("s3", server.endpoint)
        s3.create_bucket(Bucket="bench")
        s3.put_object(Bucket="bench", Key="m.manifest", Body=b"")
        project = setup_rek.create_project(ProjectName="bench")["ProjectArn"]
        assets = {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "bench", "Name": "m.manifest"}}}]}
        timings: dict[str, list[float]] = {"CreateProjectVersion": [], "DescribeProjectVersions": []}
        lock = threading.Lock()
        barrier = threading.Barrier(clients)

        def worker(n: int) -> None:
            rek = client("rekognition", server.endpoint)
            rek.describe_projects()  # warm the connection
            barrier.wait()
            for i in range(calls):
                t0 = time.perf_counter()
                rek.create_project_version(ProjectArn=project, VersionName=f"c{n}-{i}",
                                           OutputConfig={"S3Bucket": "bench"}, TrainingData=assets,
                                           TestingData={"AutoCreate": True})
                t1 = time.perf_counter()
                rek.describe_project_versions(ProjectArn=project, MaxResults=10)
                t2 = time.perf_counter()
                with lock:
                    timings["CreateProjectVersion"].append((t1 - t0) * 1000)
                    timings["DescribeProjectVersions"].append((t2 - t1) * 1000)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        busy = rss_mib(server.proc.pid)  # type: ignore[union-attr]

    print(f"{clients} concurrent boto3 clients x {calls} calls each, {wall:.1f} s wall")
    print(f"{'operation':<26}{'calls':>7}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    for op, values in timings.items():
        print(f"{op:<26}{len(values):>7}{percentile(values, 0.5):>9.1f}{percentile(values, 0.99):>9.1f}"
              f"{statistics.fmean(values):>9.1f}")
    print(f"server RSS: idle {idle:.0f} MiB, after the run {busy:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    run(args.clients, args.calls)


if __name__ == "__main__":
    main()
