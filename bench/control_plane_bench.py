"""Control-plane latency: p50/p99 of CreateProjectVersion and DescribeProjectVersions under 8 concurrent
stock boto3 clients against a real `openrek server`, and the server's idle RSS. Prints a table and exits.

    .venv/bin/python bench/control_plane_bench.py [--clients 8] [--calls 50] [--lean] [--open]

Signatures are verified (the server's default; the clients sign with the root keys tests/support/server.py
gives it); --open runs the server with --auth off for the comparison.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.clients import client  # noqa: E402
from tests.support.server import ROOT_KEY, ROOT_SECRET, ServerProcess  # noqa: E402


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


_BARRIER = None


def _init(barrier) -> None:  # type: ignore[no-untyped-def]
    global _BARRIER
    _BARRIER = barrier


def client_process(n: int, calls: int, endpoint: str, project: str, assets: dict) -> tuple[list[float], list[float]]:
    """One client in its own process (so clients do not share a GIL), like 8 separate users."""
    rek = client("rekognition", endpoint)
    rek.describe_projects()  # warm the connection
    _BARRIER.wait()  # type: ignore[union-attr]
    creates, describes = [], []
    for i in range(calls):
        t0 = time.perf_counter()
        rek.create_project_version(ProjectArn=project, VersionName=f"c{n}-{i}", OutputConfig={"S3Bucket": "bench"},
                                   TrainingData=assets, TestingData={"AutoCreate": True})
        t1 = time.perf_counter()
        rek.describe_project_versions(ProjectArn=project, MaxResults=10)
        t2 = time.perf_counter()
        creates.append((t1 - t0) * 1000)
        describes.append((t2 - t1) * 1000)
    return creates, describes


class RawClient:
    """A lean client: SigV4-signed JSON 1.1 over one keep-alive connection, so that the figures show the
    server rather than boto3's own per-call CPU on the same two cores."""

    def __init__(self, endpoint: str) -> None:
        import http.client
        from urllib.parse import urlparse

        from botocore.auth import SigV4Auth
        from botocore.credentials import Credentials

        url = urlparse(endpoint)
        self.endpoint = endpoint
        self.conn = http.client.HTTPConnection(url.hostname, url.port)
        self.auth = SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), "rekognition", "us-east-1")

    def call(self, operation: str, params: dict) -> dict:
        import json

        from botocore.awsrequest import AWSRequest

        body = json.dumps(params)
        request = AWSRequest(method="POST", url=self.endpoint + "/", data=body, headers={
            "X-Amz-Target": f"RekognitionService.{operation}", "Content-Type": "application/x-amz-json-1.1"})
        self.auth.add_auth(request)
        self.conn.request("POST", "/", body=body, headers=dict(request.headers.items()))
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"{operation}: {response.status} {data[:200]!r}")
        return json.loads(data)


def raw_client_process(n: int, calls: int, endpoint: str, project: str, assets: dict) -> tuple[list[float], list[float]]:
    rek = RawClient(endpoint)
    rek.call("DescribeProjects", {})
    _BARRIER.wait()  # type: ignore[union-attr]
    creates, describes = [], []
    for i in range(calls):
        t0 = time.perf_counter()
        rek.call("CreateProjectVersion", {"ProjectArn": project, "VersionName": f"r{n}-{i}",
                                          "OutputConfig": {"S3Bucket": "bench"}, "TrainingData": assets,
                                          "TestingData": {"AutoCreate": True}})
        t1 = time.perf_counter()
        rek.call("DescribeProjectVersions", {"ProjectArn": project, "MaxResults": 10})
        t2 = time.perf_counter()
        creates.append((t1 - t0) * 1000)
        describes.append((t2 - t1) * 1000)
    return creates, describes


def run(clients: int, calls: int, lean: bool = False, open_mode: bool = False,
        env: dict[str, str] | None = None) -> dict[str, list[float]]:
    """Prints the table; returns each operation's latencies (ms). `env` configures the server (its stores)."""
    # The server verifies every signature (its root keys are the clients' CREDENTIALS) unless open_mode.
    auth = ["--auth", "off" if open_mode else "on"]
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(Path(tmp) / "data", args=auth, env=env) as server:
        time.sleep(1.0)
        idle = rss_mib(server.proc.pid)  # type: ignore[union-attr]
        setup_rek = client("rekognition", server.endpoint)
        s3 = client("s3", server.endpoint)
        s3.create_bucket(Bucket="bench")
        s3.put_object(Bucket="bench", Key="m.manifest", Body=b"")
        project = setup_rek.create_project(ProjectName="bench")["ProjectArn"]
        assets = {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "bench", "Name": "m.manifest"}}}]}
        timings: dict[str, list[float]] = {"CreateProjectVersion": [], "DescribeProjectVersions": []}
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(clients)
        server_cpu0 = cpu_seconds(server.proc.pid)  # type: ignore[union-attr]
        start = time.perf_counter()
        with ctx.Pool(clients, initializer=_init, initargs=(barrier,)) as pool:
            jobs = [(n, calls, server.endpoint, project, assets) for n in range(clients)]
            for creates, describes in pool.starmap(raw_client_process if lean else client_process, jobs):
                timings["CreateProjectVersion"] += creates
                timings["DescribeProjectVersions"] += describes
        wall = time.perf_counter() - start
        server_cpu = cpu_seconds(server.proc.pid) - server_cpu0  # type: ignore[union-attr]
        busy = rss_mib(server.proc.pid)  # type: ignore[union-attr]

    kind = ("lean SigV4 (http.client)" if lean else "boto3") + (", open" if open_mode else ", signatures verified")
    print(f"{clients} concurrent {kind} client processes x {calls} calls each, {wall:.1f} s wall")
    print(f"{'operation':<26}{'calls':>7}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    for op, values in timings.items():
        print(f"{op:<26}{len(values):>7}{percentile(values, 0.5):>9.1f}{percentile(values, 0.99):>9.1f}"
              f"{statistics.fmean(values):>9.1f}")
    print(f"server CPU: {server_cpu:.1f} s of {wall:.1f} s wall on {os.cpu_count()} cores, "
          f"{server_cpu / (2 * clients * calls) * 1000:.2f} ms per call")
    print(f"server RSS: idle {idle:.0f} MiB, after the run {busy:.0f} MiB")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--lean", action="store_true", help="lean signed HTTP clients instead of boto3")
    parser.add_argument("--open", action="store_true", help="server with --auth off (no signature verified)")
    args = parser.parse_args()
    run(args.clients, args.calls, args.lean, args.open)


if __name__ == "__main__":
    main()
