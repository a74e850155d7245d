"""Dataset throughput and latency against a real `openrek server`, through stock boto3: a generated
5,000-entry manifest (real small JPEGs, several labels, some unlabelled lines, some with errors) made
into a dataset (CreateDataset to CREATE_COMPLETE, every image checked), UpdateDatasetEntries of 500 lines,
ListDatasetEntries pages of 100 unfiltered and with each filter, ListDatasetLabels, DescribeDataset.
Prints a table and exits.

    .venv/bin/python bench/dataset_bench.py [--entries 5000] [--update 500] [--samples 40]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.control_plane_bench import cpu_seconds, percentile, rss_mib  # noqa: E402
from tests.support.clients import client  # noqa: E402
from tests.support.images import classification_line, shape_image  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

LABELS = ["red", "green", "blue", "yellow", "black"]
BUCKET = "bench"
SETTLED = {"CREATE_COMPLETE", "CREATE_FAILED", "UPDATE_COMPLETE", "UPDATE_FAILED"}
TARGET_CREATE_S = 30.0
TARGET_PAGE_MS = 50.0


def _kind(i: int) -> str:
    """What line i of the manifest is: 2 % unlabelled, 2 % with an error (three kinds), the rest labelled."""
    if i % 50 == 7:
        return "unlabelled"
    if i % 150 == 13:
        return "broken"  # not an image
    if i % 150 == 63:
        return "tiny"  # 32 px: under Custom Labels' 64 px minimum
    if i % 150 == 113:
        return "missing"  # no such object
    return "labelled"


def build_manifest(s3: Any, n: int, size: int) -> tuple[str, dict[str, int]]:
    """Uploads n images and a manifest of n lines; returns its key and how many lines of each kind."""
    lines, uploads, kinds = [], [], dict.fromkeys(["labelled", "unlabelled", "broken", "tiny", "missing"], 0)
    for i in range(n):
        kind = _kind(i)
        kinds[kind] += 1
        label = LABELS[i % len(LABELS)]
        key = f"images/{i // 1000:02d}/{label}-{i:05d}.jpg"
        if kind == "broken":
            uploads.append((key, b"this is not a jpeg"))
        elif kind == "tiny":
            uploads.append((key, shape_image(label, i, size=32)))
        elif kind != "missing":
            uploads.append((key, shape_image(label, i, size=size)))
        if kind == "unlabelled":
            lines.append(json.dumps({"source-ref": f"s3://{BUCKET}/{key}"}))
        else:
            lines.append(classification_line(BUCKET, key, label))
    put_all(s3, uploads)
    s3.put_object(Bucket=BUCKET, Key="train.manifest", Body="\n".join(lines).encode())
    return "train.manifest", kinds


def put_all(s3: Any, uploads: list[tuple[str, bytes]]) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda kv: s3.put_object(Bucket=BUCKET, Key=kv[0], Body=kv[1]), uploads))


def build_changes(s3: Any, n: int, total: int, size: int) -> bytes:
    """n lines: half new images (uploaded now), half relabelled existing entries."""
    new = n // 2
    uploads = [(f"new/{LABELS[i % len(LABELS)]}-{i:05d}.jpg", shape_image(LABELS[i % len(LABELS)], 10**6 + i,
                                                                         size=size)) for i in range(new)]
    put_all(s3, uploads)
    lines = [classification_line(BUCKET, key, key.split("/")[1].split("-")[0]) for key, _ in uploads]
    relabel = [i for i in range(total) if _kind(i) == "labelled"][: n - new]
    for i in relabel:
        label = LABELS[i % len(LABELS)]
        lines.append(classification_line(BUCKET, f"images/{i // 1000:02d}/{label}-{i:05d}.jpg",
                                         LABELS[(i + 1) % len(LABELS)]))
    return "\n".join(lines).encode()


def wait_dataset(rek: Any, arn: str, timeout: float = 600.0) -> tuple[dict[str, Any], float]:
    """Polls DescribeDataset every 50 ms; the description and when (perf_counter) it settled."""
    deadline = time.perf_counter() + timeout
    while True:
        desc = rek.describe_dataset(DatasetArn=arn)["DatasetDescription"]
        if desc["Status"] in SETTLED:
            return desc, time.perf_counter()
        if time.perf_counter() > deadline:
            raise RuntimeError(f"dataset still {desc['Status']} after {timeout} s")
        time.sleep(0.05)


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = call()
    return out, (time.perf_counter() - t0) * 1000


def page_through(rek: Any, arn: str, filters: dict[str, Any]) -> tuple[list[float], int, float]:
    """Every page of 100 of one listing: per-page ms, entries seen, total ms."""
    times, seen, token = [], 0, None
    t0 = time.perf_counter()
    while True:
        kwargs = dict(filters, DatasetArn=arn, MaxResults=100, **({"NextToken": token} if token else {}))
        page, ms = timed(lambda kw=kwargs: rek.list_dataset_entries(**kw))  # type: ignore[misc]
        times.append(ms)
        seen += len(page["DatasetEntries"])
        token = page.get("NextToken")
        if not token:
            return times, seen, (time.perf_counter() - t0) * 1000


def run(entries: int, update: int, samples: int, size: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(Path(tmp) / "data") as server:
        pid = server.proc.pid  # type: ignore[union-attr]
        rek, s3 = client("rekognition", server.endpoint), client("s3", server.endpoint)
        s3.create_bucket(Bucket=BUCKET)
        t0 = time.perf_counter()
        manifest, kinds = build_manifest(s3, entries, size)
        changes = build_changes(s3, update, entries, size)
        setup_s = time.perf_counter() - t0
        project = rek.create_project(ProjectName="bench")["ProjectArn"]
        rows: list[tuple[str, str]] = []

        # CreateDataset → CREATE_COMPLETE (validation reads and checks every image).
        cpu0 = cpu_seconds(pid)
        t0 = time.perf_counter()
        arn = rek.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource={
            "GroundTruthManifest": {"S3Object": {"Bucket": BUCKET, "Name": manifest}}})["DatasetArn"]
        desc, t1 = wait_dataset(rek, arn)
        create_s, create_cpu = t1 - t0, cpu_seconds(pid) - cpu0
        if desc["Status"] != "CREATE_COMPLETE":
            raise RuntimeError(f"CreateDataset ended {desc['Status']}: {desc.get('StatusMessage')}")
        stats = desc["DatasetStats"]
        mark = "met" if create_s < TARGET_CREATE_S else "MISSED"
        rows.append(("CreateDataset → CREATE_COMPLETE",
                     f"{create_s:.2f} s, {entries / create_s:,.0f} entries/s, server CPU {create_cpu:.1f} s "
                     f"(target < {TARGET_CREATE_S:.0f} s: {mark})"))

        # UpdateDatasetEntries of `update` lines → UPDATE_COMPLETE.
        cpu0 = cpu_seconds(pid)
        t0 = time.perf_counter()
        rek.update_dataset_entries(DatasetArn=arn, Changes={"GroundTruth": changes})
        desc, t1 = wait_dataset(rek, arn)
        update_s, update_cpu = t1 - t0, cpu_seconds(pid) - cpu0
        if desc["Status"] != "UPDATE_COMPLETE":
            raise RuntimeError(f"UpdateDatasetEntries ended {desc['Status']}: {desc.get('StatusMessage')}")
        after = desc["DatasetStats"]
        rows.append((f"UpdateDatasetEntries ({update} lines) → UPDATE_COMPLETE",
                     f"{update_s:.2f} s, {update / update_s:,.0f} entries/s, server CPU {update_cpu:.1f} s"))

        # ListDatasetEntries, pages of 100: every page of each listing, repeated to `samples` pages at least.
        filters: list[tuple[str, dict[str, Any]]] = [
            ("unfiltered", {}),
            ("ContainsLabels=[red]", {"ContainsLabels": ["red"]}),
            ("ContainsLabels=[red, blue]", {"ContainsLabels": ["red", "blue"]}),
            ("Labeled=true", {"Labeled": True}),
            ("Labeled=false", {"Labeled": False}),
            ("SourceRefContains=/01/", {"SourceRefContains": "/01/"}),
            ("HasErrors=true", {"HasErrors": True}),
            ("HasErrors=false", {"HasErrors": False}),
            ("all four", {"ContainsLabels": ["green"], "Labeled": True, "SourceRefContains": "images/",
                          "HasErrors": False}),
        ]
        rek.list_dataset_entries(DatasetArn=arn, MaxResults=100)  # warm the connection and the caches
        listing: list[tuple[str, int, int, float, float, float]] = []
        cpu0 = cpu_seconds(pid)
        calls = 0
        for name, f in filters:
            page_ms, full_ms = [], []
            seen = pages = 0
            while len(page_ms) < samples:
                times, seen, total_ms = page_through(rek, arn, f)
                pages = len(times)
                page_ms += times
                full_ms.append(total_ms)
            calls += len(page_ms)
            listing.append((name, seen, pages, percentile(page_ms, 0.5), percentile(page_ms, 0.95),
                            statistics.median(full_ms)))
        list_cpu_ms = (cpu_seconds(pid) - cpu0) / calls * 1000

        others: list[tuple[str, float, float]] = []
        for name, call in (("ListDatasetLabels", lambda: rek.list_dataset_labels(DatasetArn=arn)),
                           ("DescribeDataset", lambda: rek.describe_dataset(DatasetArn=arn)),
                           ("DescribeProjects (baseline)", lambda: rek.describe_projects(ProjectNames=["bench"]))):
            ms = [timed(call)[1] for _ in range(samples)]
            others.append((name, percentile(ms, 0.5), percentile(ms, 0.95)))
        labels = rek.list_dataset_labels(DatasetArn=arn)["DatasetLabelDescriptions"]
        rss = rss_mib(pid)

    print(f"machine: {os.cpu_count()} cores; setup (generate + upload {entries + update // 2} JPEGs of {size} px) "
          f"{setup_s:.1f} s")
    print(f"manifest: {entries} lines = " + ", ".join(f"{v} {k}" for k, v in kinds.items()))
    print(f"after create: {stats}")
    print(f"after update: {after}; labels: "
          + ", ".join(f"{d['LabelName']} {d['LabelStats']['EntryCount']}" for d in labels))
    print()
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print()
    print(f"ListDatasetEntries, MaxResults=100 (target: a page < {TARGET_PAGE_MS:.0f} ms); "
          f"server CPU {list_cpu_ms:.2f} ms per page")
    print(f"{'filter':<28}{'entries':>9}{'pages':>7}{'p50 ms':>9}{'p95 ms':>9}{'all pages ms':>14}")
    for name, seen, pages, p50, p95, full in listing:
        flag = "" if p50 < TARGET_PAGE_MS else "  MISSED"
        print(f"{name:<28}{seen:>9}{pages:>7}{p50:>9.1f}{p95:>9.1f}{full:>14.0f}{flag}")
    print()
    print(f"{'operation':<28}{'p50 ms':>9}{'p95 ms':>9}")
    for name, p50, p95 in others:
        print(f"{name:<28}{p50:>9.1f}{p95:>9.1f}")
    print(f"server RSS after the run: {rss:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--update", type=int, default=500)
    parser.add_argument("--samples", type=int, default=40, help="pages (calls) measured per listing, at least")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels")
    args = parser.parse_args()
    run(args.entries, args.update, args.samples, args.size)


if __name__ == "__main__":
    main()
