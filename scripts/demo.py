"""End-to-end demo on the embedded default: start `openrek server`, upload a real dataset through S3,
create a project, its TRAIN dataset from the manifest and a TEST dataset by DistributeDatasetEntries (AWS's
recommended path; `--manifests` trains from the manifest with AutoCreate instead), train a version, print
the evaluation, start the model, detect labels on a few images, stop it, and export the model. Uses only
stock boto3 (and the `openrek models export` command) against the local endpoint, signed with the root keys
the server generates on first start into <data-dir>/credentials (profile openrek), as a newcomer's would be.

    make demo            (or: .venv/bin/python scripts/demo.py [--dataset flowers_small] [--manifests] [--keep])
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.images import classification_line, shape_image  # noqa: E402
from tests.support.server import ROOT_ENV, ServerProcess  # noqa: E402

SHARED = ROOT.parent / "shared" / "datasets"


def dataset_items(name: str) -> tuple[list[tuple[str, bytes, str]], str]:
    """(key, bytes, label) triples from a shared classification set, or generated shapes if it is absent."""
    folder = SHARED / name
    if (folder / "labels.jsonl").exists():
        items = []
        for line in (folder / "labels.jsonl").read_text().splitlines():
            entry = json.loads(line)
            if len(entry.get("labels", [])) != 1:
                continue
            items.append((entry["image"], (folder / entry["image"]).read_bytes(), entry["labels"][0]))
        return items, f"shared dataset {name} ({len(items)} images)"
    items = [(f"images/{label}-{i}.jpg", shape_image(label, i, size=128), label)
             for label in ("red", "green", "blue") for i in range(30)]
    return items, f"generated shapes ({len(items)} images; ../shared/datasets/{name} not found)"


def _datasets(rek, project: str, manifest: dict) -> None:  # type: ignore[no-untyped-def]
    """TRAIN from the manifest, an empty TEST, then DistributeDatasetEntries (20 % per label)."""
    train = rek.create_dataset(ProjectArn=project, DatasetType="TRAIN",
                               DatasetSource={"GroundTruthManifest": manifest})["DatasetArn"]
    test = rek.create_dataset(ProjectArn=project, DatasetType="TEST")["DatasetArn"]
    _settle(rek, train)
    rek.distribute_dataset_entries(Datasets=[{"Arn": train}, {"Arn": test}])
    for arn in (train, test):
        desc = _settle(rek, arn)
        print(f"   dataset {arn.split('/')[-2].upper():<5} {desc['Status']}: {desc['DatasetStats']}")


def _settle(rek, arn: str) -> dict:  # type: ignore[no-untyped-def]
    while True:
        desc = rek.describe_dataset(DatasetArn=arn)["DatasetDescription"]
        if "IN_PROGRESS" not in desc["Status"]:
            if desc["Status"].endswith("FAILED"):
                raise SystemExit(f"dataset {arn} {desc['Status']}: {desc['StatusMessage']}")
            return desc
        time.sleep(0.5)


def profile_env(data_dir: Path) -> dict[str, str]:
    """The environment of a stock AWS client using the server's generated root keys: profile openrek of
    <data-dir>/credentials (and none of the caller's own AWS credentials)."""
    own = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
    env = {k: v for k, v in os.environ.items() if k not in own}
    return env | {"AWS_SHARED_CREDENTIALS_FILE": str(data_dir / "credentials"), "AWS_PROFILE": "openrek"}


def client(service: str, endpoint: str, data_dir: Path):  # type: ignore[no-untyped-def]
    """A stock boto3 client signing with profile openrek of <data-dir>/credentials."""
    import boto3
    import botocore.session
    from botocore.config import Config

    core = botocore.session.Session()
    core.set_config_variable("credentials_file", str(data_dir / "credentials"))
    core.set_config_variable("profile", "openrek")
    return boto3.Session(botocore_session=core).client(service, endpoint_url=endpoint, region_name="us-east-1",
                                                       config=Config(s3={"addressing_style": "path"}))


def main() -> int:
    parser = argparse.ArgumentParser(description="openrek end-to-end demo")
    parser.add_argument("--dataset", default="flowers_small")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and print its path")
    parser.add_argument("--manifests", action="store_true",
                        help="train from the manifest (TestingData AutoCreate) instead of the project's datasets")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="openrek-demo-")
    server = ServerProcess(Path(tmp) / "data")
    for name in ROOT_ENV:  # no preset root keys: the server generates its own, as on a first `openrek server`
        server.env.pop(name, None)
    with server:
        print(f"1. openrek server started at {server.endpoint} (data dir {server.data_dir})")
        print(f"   {server.output[0].strip()}")
        s3, rek = client("s3", server.endpoint, server.data_dir), client("rekognition", server.endpoint, server.data_dir)
        items, what = dataset_items(args.dataset)
        s3.create_bucket(Bucket="demo")
        lines = []
        for key, data, label in items:
            s3.put_object(Bucket="demo", Key=f"data/{key}", Body=data)
            lines.append(classification_line("demo", f"data/{key}", label))
        s3.put_object(Bucket="demo", Key="data/train.manifest", Body="\n".join(lines).encode())
        print(f"2. uploaded {what} and a Ground Truth manifest to s3://demo/data/")

        project = rek.create_project(ProjectName="demo")["ProjectArn"]
        manifest = {"S3Object": {"Bucket": "demo", "Name": "data/train.manifest"}}
        data: dict = {"TrainingData": {"Assets": [{"GroundTruthManifest": manifest}]},
                      "TestingData": {"AutoCreate": True}}
        if not args.manifests:
            data = {}
            _datasets(rek, project, manifest)
        started = time.monotonic()
        version = rek.create_project_version(
            ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": "demo", "S3KeyPrefix": "output/"},
            **data)["ProjectVersionArn"]
        print(f"3. created project version {version}")
        status = "TRAINING_IN_PROGRESS"
        desc: dict = {}
        last_print = 0.0
        while status == "TRAINING_IN_PROGRESS":
            time.sleep(1)
            desc = rek.describe_project_versions(ProjectArn=project)["ProjectVersionDescriptions"][0]
            status = desc["Status"]
            elapsed = time.monotonic() - started
            if elapsed - last_print >= 10 or status != "TRAINING_IN_PROGRESS":
                print(f"   {elapsed:6.1f} s  {status}", flush=True)
                last_print = elapsed
        print(f"4. {status}: {desc.get('StatusMessage')}")
        if status != "TRAINING_COMPLETED":
            print("   Training did not complete; the message above says why.")
            return 1

        evaluation = desc["EvaluationResult"]
        summary_ref = evaluation["Summary"]["S3Object"]
        summary = json.loads(s3.get_object(Bucket=summary_ref["Bucket"], Key=summary_ref["Name"])["Body"].read())
        print(f"5. F1 {evaluation['F1Score']:.3f} on the held-out 20% "
              f"(training took {time.monotonic() - started:.0f} s wall)")
        print(f"   {'label':<20}{'F1':>7}{'precision':>11}{'recall':>8}{'threshold':>11}{'images':>8}")
        for entry in summary.get("LabelEvaluationResults", []):
            m = entry["Metrics"]
            print(f"   {entry['Label']:<20}{m['F1Score']:>7.3f}{m['Precision']:>11.3f}{m['Recall']:>8.3f}"
                  f"{m['Threshold']:>11.3f}{entry['NumberOfTestingImages']:>8}")
        listing = s3.list_objects_v2(Bucket="demo", Prefix="output/")
        print("   output files: " + ", ".join(o["Key"] for o in listing.get("Contents", [])))

        rek.start_project_version(ProjectVersionArn=version, MinInferenceUnits=1)
        rek.get_waiter("project_version_running").wait(ProjectArn=project, VersionNames=["v1"],
                                                      WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        print("6. model RUNNING; DetectCustomLabels on a few images:")
        for key, data, label in items[:: max(1, len(items) // 5)][:5]:
            found = rek.detect_custom_labels(ProjectVersionArn=version, Image={"Bytes": data}, MinConfidence=0)
            top = found["CustomLabels"][0] if found["CustomLabels"] else {"Name": "-", "Confidence": 0}
            print(f"   {key:<40} truth {label:<12} predicted {top['Name']:<12} {top['Confidence']:.1f}%")
        rek.stop_project_version(ProjectVersionArn=version)
        print("7. model stopped.")
        exported = subprocess.run(
            [sys.executable, "-m", "openrek.cli.main", "--endpoint-url", server.endpoint, "models", "export",
             "--project-version-arn", version, "--output", str(Path(tmp) / "model" / "model.onnx")],
            capture_output=True, text=True, env=profile_env(server.data_dir))
        if exported.returncode == 0:
            info = json.loads(exported.stdout)
            print(f"8. exported the model: {info['ModelFile']} ({info['ModelBytes'] / 1e6:.1f} MB) and "
                  f"{info['MetadataFile']}; run it anywhere with onnxruntime (docs/model-export.md). Done.")
        else:
            print(f"8. model export failed: {exported.stderr.strip()}")
            return 1
    if args.keep:
        print(f"data kept in {tmp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
