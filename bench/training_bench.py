"""Benchmark: the shared datasets through `run_training`, with a linear-probe baseline on the same split.

Run by hand (not in CI): `.venv/bin/python bench/training_bench.py [dataset ...] [--budget S]`.
Each dataset is turned into Ground Truth manifests in a temporary DirectoryObjectStore (images are read
from ../shared/datasets and uploaded there, never copied into the repository). Prints one table:
dataset, task, images, seconds to TRAINING_COMPLETED, F1, per-label F1, mAP (detection) and, for
image-level sets, the linear-probe baseline (frozen torchvision MobileNetV2 + logistic regression)
measured in the same run on the same split. Timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from openrek.manifests import load_datasets, load_rgb_image
from openrek.store.objects import DirectoryObjectStore
from openrek.training.classifier import linear_probe_baseline
from openrek.training.data import Example
from openrek.training.device import configure_threads
from openrek.training.metrics import aggregate, image_level_metrics
from openrek.training.pipeline import run_training
from openrek.training.request import S3Ref, TrainingOptions, TrainingRequest

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
DEFAULT_SETS = ["flowers_small", "l4v_cookies", "aws_a2i_logos", "coco128_multilabel", "sign_digits",
                "magnetic_tiles", "raccoon", "playing_cards", "coco128"]


def _line(bucket: str, key: str, row: dict[str, Any], labels: list[str], detection: bool) -> dict[str, Any]:
    line: dict[str, Any] = {"source-ref": f"s3://{bucket}/{key}"}
    meta = {"human-annotated": "yes", "creation-date": "2024-01-01T00:00:00"}
    if detection:
        line["bounding-box"] = {
            "image_size": [{"width": row["width"], "height": row["height"], "depth": 3}],
            "annotations": [
                {
                    "class_id": labels.index(b["label"]),
                    "left": b["left"],
                    "top": b["top"],
                    "width": b["width"],
                    "height": b["height"],
                }
                for b in row["boxes"]
            ],
        }
        line["bounding-box-metadata"] = {
            **meta,
            "objects": [{"confidence": 1} for _ in row["boxes"]],
            "class-map": {str(i): n for i, n in enumerate(labels)},
            "type": "groundtruth/object-detection",
            "job-name": "labeling-job/bench",
        }
    else:
        for k, lab in enumerate(row["labels"]):
            attr = "label" if k == 0 else f"label-{k}"
            line[attr] = labels.index(lab)
            line[f"{attr}-metadata"] = {
                **meta,
                "confidence": 1,
                "class-name": lab,
                "type": "groundtruth/image-classification",
                "job-name": "labeling-job/bench",
            }
    return line


def stage(objects: DirectoryObjectStore, name: str) -> tuple[list[S3Ref], list[S3Ref], bool, bool, int]:
    """Upload a dataset's images and manifests; returns (train refs, test refs, autocreate, detection, n)."""
    root = DATASETS / name
    rows = [json.loads(t) for t in (root / "labels.jsonl").read_text().splitlines() if t.strip()]
    detection = "boxes" in rows[0]
    labels = sorted(
        {b["label"] for r in rows for b in r["boxes"]}
        if detection
        else {lab for r in rows for lab in r["labels"]}
    )
    bucket = "bench-data"
    if not objects.bucket_exists(bucket):
        objects.create_bucket(bucket)
    parts: dict[str, list[str]] = {"train": [], "test": []}
    for r in rows:
        key = f"{name}/{r['image']}"
        objects.put_object(bucket, key, (root / r["image"]).read_bytes())
        parts[r.get("split", "train")].append(json.dumps(_line(bucket, key, r, labels, detection)))
    refs: dict[str, list[S3Ref]] = {}
    for part, lines in parts.items():
        if lines:
            key = f"{name}/{part}.manifest"
            objects.put_object(bucket, key, ("\n".join(lines) + "\n").encode())
            refs[part] = [S3Ref(bucket, key)]
    autocreate = "test" not in refs
    return refs["train"], refs.get("test", []), autocreate, detection, len(rows)


def probe_baseline(
    objects: DirectoryObjectStore,
    train_refs: list[S3Ref],
    test_refs: list[S3Ref],
    autocreate: bool,
    seed: int,
) -> tuple[float, dict[str, float]]:
    """The linear probe on the same split as `run_training` (same loader, same seed)."""
    data = load_datasets(objects, train_refs, test_refs, autocreate, seed)
    multi = any(len(r.labels) != 1 for r in data.train + data.test)
    train = [Example(load_rgb_image(objects, r), r.labels) for r in data.train]
    test = [Example(load_rgb_image(objects, r), r.labels) for r in data.test]
    scores = linear_probe_baseline(train, test, data.labels, multi)
    index = {n: i for i, n in enumerate(data.labels)}
    truth = np.zeros_like(scores, dtype=bool)
    for i, ex in enumerate(test):
        for lab in ex.labels:
            if lab in index:
                truth[i, index[lab]] = True
    lm = image_level_metrics(scores, truth, data.labels)
    return aggregate(lm)["F1Score"], {m.label: m.f1 for m in lm}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="*", default=DEFAULT_SETS)
    ap.add_argument("--budget", type=float, default=600.0, help="TrainingRequest.time_budget_s")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--options", default="{}", help="JSON TrainingRequest.options")
    args = ap.parse_args(argv)
    configure_threads()
    rows = []
    with tempfile.TemporaryDirectory(prefix="openrek-bench-") as tmp:
        objects = DirectoryObjectStore(Path(tmp) / "s3")
        for b in ("bench-out", "bench-models"):
            objects.create_bucket(b)
        for name in args.datasets:
            train_refs, test_refs, autocreate, detection, n = stage(objects, name)
            request = TrainingRequest(
                project_name=name,
                version_name="bench",
                feature="CUSTOM_LABELS",
                version_arn=f"arn:aws:rekognition:us-east-1:000000000000:project/{name}/version/bench/1",
                training_manifests=train_refs,
                testing_manifests=test_refs,
                testing_autocreate=autocreate,
                output_bucket="bench-out",
                output_prefix=f"{name}/",
                artifact_bucket="bench-models",
                artifact_prefix=f"{name}/",
                time_budget_s=args.budget,
                seed=args.seed,
                options=TrainingOptions.from_dict(json.loads(args.options)),
            )
            t0 = time.monotonic()
            outcome = run_training(
                request, objects, progress=lambda m, n=name: print(f"  [{n}] {m}", flush=True)
            )
            seconds = time.monotonic() - t0
            row: dict[str, Any] = {
                "dataset": name,
                "images": n,
                "seconds": seconds,
                "status": outcome.status,
                "task": outcome.task or "-",
                "f1": outcome.f1_score,
            }
            if outcome.status != "TRAINING_COMPLETED":
                row["note"] = outcome.status_message
                rows.append(row)
                continue
            assert outcome.evaluation_summary is not None
            summary = json.loads(
                objects.get_bytes(outcome.evaluation_summary.bucket, outcome.evaluation_summary.name)
            )
            row["per_label"] = {
                r["Label"]: r["Metrics"]["F1Score"] for r in summary["LabelEvaluationResults"]
            }
            extra = summary.get("OpenRekDetails", {})
            row["train_seconds"] = extra.get("train_seconds")
            if detection:
                row["won"] = (f"{extra.get('steps')}/{extra.get('planned_steps')} steps, best {extra.get('best_step')}"
                              f"{' (budget hit)' if extra.get('budget_hit') else ''}")
                second = extra.get("box_classifier") or {}
                if "validation" in second:
                    row["won"] += (f"; box classifier {'kept' if second.get('chosen') else 'not kept'}: val "
                                   f"{max(second['validation'].values())} vs {second['detector_validation_f1']}")
                elif second.get("skipped"):
                    row["won"] += f"; box classifier skipped ({second['skipped']})"
            else:
                row["won"] = f"{extra.get('candidate')} C={extra.get('c')} (val {extra.get('validation_f1')})"
                tuned = extra.get("fine_tune") or {}
                if "validation" in tuned:
                    row["won"] += "; fold 0: " + ", ".join(f"{n} {v['f1']}" for n, v in tuned["validation"].items())
                elif tuned.get("skipped"):
                    row["won"] += f"; fine-tune skipped ({tuned['skipped']})"
            if detection:
                row["map50"] = extra.get("MeanAveragePrecisionIoU50")
                row["map5095"] = extra.get("MeanAveragePrecisionIoU50To95")
            elif not args.no_baseline:
                t1 = time.monotonic()
                row["probe_f1"], row["probe_per_label"] = probe_baseline(
                    objects, train_refs, test_refs, autocreate, args.seed
                )
                row["probe_seconds"] = time.monotonic() - t1
            rows.append(row)
            print(
                f"  [{name}] {json.dumps({k: v for k, v in row.items() if 'per_label' not in k}, default=str)}",
                flush=True,
            )
    print()
    print(
        "| dataset | task | images | s to COMPLETED (train s) | F1 | probe F1 (s) | mAP@.5 / mAP@[.5:.95] | chosen "
        "| per-label F1 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        per = r.get("per_label", {})
        shown = ", ".join(f"{k} {v:.2f}" for k, v in list(per.items())[:8]) + (" …" if len(per) > 8 else "")
        probe = f"{r['probe_f1']:.3f} ({r['probe_seconds']:.0f})" if "probe_f1" in r else "-"
        maps = f"{r['map50']:.3f} / {r['map5095']:.3f}" if r.get("map50") is not None else "-"
        f1 = f"{r['f1']:.3f}" if r.get("f1") is not None else r.get("note", "-")[:80]
        print(
            f"| {r['dataset']} | {r['task']} | {r['images']} | {r['seconds']:.0f} ({r.get('train_seconds') or '-'}) "
            f"| {f1} | {probe} | {maps} | {r.get('won', '-')} | {shown} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
