"""AWS's dataset workflow typed as `aws rekognition …` command lines (stock AWS CLI v1) against a real
server: TRAIN from a manifest, an empty TEST filled by distribute-dataset-entries, update-dataset-entries
from files, every list-dataset-entries filter with the CLI's own paging (--page-size, --max-items,
--starting-token), labels and stats, training from the datasets with the stock waiter, serving,
copy-project-version, project policies, deletion in AWS's order, and AWS's error lines with exit code 255.

How v1 treats the blob `Changes.GroundTruth` (checked here): `GroundTruth=fileb://changes.jsonl` sends
the 21 characters of the path, not the file (shorthand reads files only after `@=`);
`GroundTruth@=fileb://changes.jsonl` sends the file's bytes, and a JSON `file://` argument holding the
lines as a string sends that string's bytes (v1 never base64-decodes blob input), each base64-encoded once.
"""

from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.cli.oracle import AWS, cli_env
from tests.support.images import classification_line, shape_image

pytestmark = pytest.mark.slow

LABELS = ["red", "blue", "green"]
PER_LABEL = 10
SETTLED = {"CREATE_COMPLETE", "CREATE_FAILED", "UPDATE_COMPLETE", "UPDATE_FAILED"}
FAST_WAITER = json.dumps({"WaiterConfig": {"Delay": 1, "MaxAttempts": 240}})


class Aws:
    """Runs `aws --endpoint-url … <args>` in a working folder, as a user at a shell would."""

    def __init__(self, endpoint: str, cwd: Path, home: Path) -> None:
        self.endpoint = endpoint
        self.cwd = cwd
        self.env = cli_env(home)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([AWS, "--endpoint-url", self.endpoint, *args], cwd=self.cwd, env=self.env,
                              capture_output=True, text=True, timeout=120)

    def ok(self, *args: str) -> str:
        """The command's output; fails the test on a non-zero exit."""
        proc = self.run(*args)
        assert proc.returncode == 0, f"aws {' '.join(args)} -> {proc.returncode}\n{proc.stderr}"
        return proc.stdout

    def fails(self, code: str, operation: str, *args: str) -> str:
        """Runs a command that must fail like AWS: exit 255 and the `An error occurred` line."""
        proc = self.run(*args)
        assert proc.returncode == 255, (proc.returncode, proc.stdout, proc.stderr)
        line = f"An error occurred ({code}) when calling the {operation} operation: "
        assert line in proc.stderr, proc.stderr
        return proc.stderr

    def rek(self, *args: str) -> Any:
        """An `aws rekognition` command's JSON output (None when it prints nothing)."""
        out = self.ok("rekognition", *args)
        return json.loads(out) if out.strip() else None

    def settle(self, arn: str, timeout: float = 120.0) -> dict[str, Any]:
        """describe-dataset until the dataset is no longer in progress (the CLI has no dataset waiter)."""
        deadline = time.monotonic() + timeout
        while True:
            desc = self.rek("describe-dataset", "--dataset-arn", arn)["DatasetDescription"]
            if desc["Status"] in SETTLED:
                return desc
            assert time.monotonic() < deadline, f"dataset {arn} still {desc['Status']}"
            time.sleep(0.2)

    def version(self, project: str, name: str, statuses: set[str], timeout: float = 300.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            desc = self.rek("describe-project-versions", "--project-arn", project, "--version-names", name)
            version = desc["ProjectVersionDescriptions"][0]
            if version["Status"] in statuses:
                return version
            assert time.monotonic() < deadline, f"version {name} still {version['Status']}"
            time.sleep(0.5)

    def entries(self, arn: str, *options: str) -> list[dict[str, Any]]:
        """list-dataset-entries (the CLI follows NextToken itself) as parsed JSON Lines."""
        out = self.rek("list-dataset-entries", "--dataset-arn", arn, *options)
        return [json.loads(line) for line in out["DatasetEntries"]]

    def entries_each(self, arn: str, queries: dict[str, list[str]]) -> dict[str, list[dict[str, Any]]]:
        """Several independent list-dataset-entries commands at once, by name."""
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = {key: pool.submit(self.entries, arn, *options) for key, options in queries.items()}
        return {key: future.result() for key, future in futures.items()}


def _refs(entries: list[dict[str, Any]]) -> list[str]:
    return [e["source-ref"] for e in entries]


def _write_dataset(root: Path, bucket: str) -> None:
    """images/ and train.manifest (uploaded to set/), new/ images for the update."""
    (root / "set" / "images").mkdir(parents=True)
    (root / "new").mkdir()
    lines = []
    for n, label in enumerate(LABELS):
        for i in range(PER_LABEL):
            (root / "set" / "images" / f"{label}-{i}.jpg").write_bytes(shape_image(label, 100 * n + i, size=64))
            lines.append(classification_line(bucket, f"set/images/{label}-{i}.jpg", label))
    (root / "set" / "train.manifest").write_text("\n".join(lines) + "\n")
    for i, label in enumerate(["red", "blue"]):
        (root / "new" / f"{label}-{i}.jpg").write_bytes(shape_image(label, 900 + i, size=64))
    (root / "new" / "unlabelled.jpg").write_bytes(shape_image("green", 950, size=64))
    (root / "new" / "broken.jpg").write_bytes(b"not an image at all")
    (root / "probe.jpg").write_bytes(shape_image("blue", 4242, size=64))


def test_dataset_workflow_through_the_aws_cli(openrek_server: str, tmp_path: Path, unique: str) -> None:
    bucket, name, name2 = f"dscli-{unique}", f"dscli-{unique}", f"dscli2-{unique}"
    work = tmp_path / "work"
    _write_dataset(work, bucket)
    aws = Aws(openrek_server, work, tmp_path)
    aws.ok("s3", "mb", f"s3://{bucket}")
    aws.ok("s3", "cp", "--recursive", "--quiet", ".", f"s3://{bucket}/")

    project = aws.rek("create-project", "--project-name", name)["ProjectArn"]
    described = aws.rek("describe-projects", "--project-names", name)["ProjectDescriptions"]
    assert described[0]["Datasets"] == []

    # TRAIN from a manifest (shorthand); a second TRAIN is refused while the first is still being created.
    train = aws.rek("create-dataset", "--project-arn", project, "--dataset-type", "TRAIN", "--dataset-source",
                    f"GroundTruthManifest={{S3Object={{Bucket={bucket},Name=set/train.manifest}}}}",
                    "--tags", "team=vision")["DatasetArn"]
    assert f":project/{name}/dataset/train/" in train
    aws.fails("ResourceAlreadyExistsException", "CreateDataset", "rekognition", "create-dataset", "--project-arn",
              project, "--dataset-type", "TRAIN")
    desc = aws.settle(train)
    assert (desc["Status"], desc["StatusMessageCode"]) == ("CREATE_COMPLETE", "SUCCESS"), desc
    assert desc["DatasetStats"] == {"LabeledEntries": 30, "TotalEntries": 30, "TotalLabels": 3, "ErrorEntries": 0}
    assert aws.rek("list-tags-for-resource", "--resource-arn", train)["Tags"] == {"team": "vision"}

    # TEST created empty, then filled by distribute-dataset-entries (a shorthand list of structures).
    test = aws.rek("create-dataset", "--project-arn", project, "--dataset-type", "TEST")["DatasetArn"]
    assert aws.settle(test)["DatasetStats"]["TotalEntries"] == 0
    assert aws.rek("distribute-dataset-entries", "--datasets", f"Arn={train}", f"Arn={test}") is None  # v1 prints nothing for {}
    train_desc, test_desc = aws.settle(train), aws.settle(test)
    assert train_desc["Status"] == test_desc["Status"] == "UPDATE_COMPLETE"
    assert (train_desc["DatasetStats"]["TotalEntries"], test_desc["DatasetStats"]["TotalEntries"]) == (24, 6)
    test_labels = aws.rek("list-dataset-labels", "--dataset-arn", test)["DatasetLabelDescriptions"]
    assert {d["LabelName"]: d["LabelStats"] for d in test_labels} == {
        label: {"EntryCount": 2, "BoundingBoxCount": 0} for label in LABELS}
    datasets = aws.rek("describe-projects", "--project-names", name)["ProjectDescriptions"][0]["Datasets"]
    by_type = {d["DatasetType"]: d for d in datasets}
    assert (by_type["TRAIN"]["DatasetArn"], by_type["TEST"]["DatasetArn"]) == (train, test)
    assert by_type["TRAIN"]["Status"] == "UPDATE_COMPLETE" and "CreationTimestamp" in by_type["TRAIN"]

    # A project with datasets trains from them; manifests are refused.
    aws.fails("InvalidParameterException", "CreateProjectVersion", "rekognition", "create-project-version",
              "--project-arn", project, "--version-name", "manifests", "--output-config", f"S3Bucket={bucket}",
              "--training-data",
              f"Assets=[{{GroundTruthManifest={{S3Object={{Bucket={bucket},Name=set/train.manifest}}}}}}]",
              "--testing-data", "AutoCreate=true")

    # update-dataset-entries: two new labelled images, one relabelled, one unlabelled, one broken.
    relabelled = _refs(aws.entries(train, "--contains-labels", "green", "--max-items", "1"))[0]
    rel_key = relabelled.removeprefix(f"s3://{bucket}/")
    changes = [
        classification_line(bucket, "new/red-0.jpg", "red"),
        classification_line(bucket, "new/blue-1.jpg", "blue"),
        classification_line(bucket, rel_key, "yellow"),
        json.dumps({"source-ref": f"s3://{bucket}/new/unlabelled.jpg"}),
        classification_line(bucket, "new/broken.jpg", "red"),
    ]
    (work / "changes.jsonl").write_text("\n".join(changes) + "\n")
    # `=` does not read files in shorthand: v1 sends the path itself. openrek refuses that text at once and
    # names the spelling that works, instead of accepting a "change" that changes nothing.
    refused = aws.fails("InvalidParameterException", "UpdateDatasetEntries", "rekognition",
                        "update-dataset-entries", "--dataset-arn", train,
                        "--changes", "GroundTruth=fileb://changes.jsonl")
    assert "GroundTruth@=fileb://changes.jsonl" in refused
    assert aws.settle(train)["DatasetStats"] == train_desc["DatasetStats"]
    aws.rek("update-dataset-entries", "--dataset-arn", train, "--changes", "GroundTruth@=fileb://changes.jsonl")
    desc = aws.settle(train)
    assert desc["Status"] == "UPDATE_COMPLETE", desc
    stats = desc["DatasetStats"]
    assert stats == {"LabeledEntries": 27, "TotalEntries": 28, "TotalLabels": 4, "ErrorEntries": 1}, stats

    # list-dataset-entries: the CLI pages by itself (default page, --page-size), and by hand.
    everything = aws.entries(train)
    assert len(everything) == 28 and len(set(_refs(everything))) == 28
    assert aws.entries(train, "--page-size", "5") == everything
    first = aws.rek("list-dataset-entries", "--dataset-arn", train, "--page-size", "4", "--max-items", "10")
    second = aws.rek("list-dataset-entries", "--dataset-arn", train, "--page-size", "4", "--max-items", "10",
                     "--starting-token", first["NextToken"])
    rest = aws.rek("list-dataset-entries", "--dataset-arn", train, "--page-size", "4",
                   "--starting-token", second["NextToken"])
    assert len(first["DatasetEntries"]) == len(second["DatasetEntries"]) == 10 and "NextToken" not in rest
    by_hand = first["DatasetEntries"] + second["DatasetEntries"] + rest["DatasetEntries"]
    assert [json.loads(line) for line in by_hand] == everything

    # Every filter, alone and together (independent commands, run side by side to save wall time).
    found = aws.entries_each(train, {
        "unlabelled": ["--no-labeled"], "labeled": ["--labeled"], "broken": ["--has-errors"],
        "clean": ["--no-has-errors", "--page-size", "10"], "yellow": ["--contains-labels", "yellow"],
        "reds": ["--contains-labels", "red", "yellow"], "new": ["--source-ref-contains", "new/"],
        "NEW": ["--source-ref-contains", "NEW/"],
        "all four": ["--source-ref-contains", "new/", "--labeled", "--no-has-errors", "--contains-labels", "blue"]})
    assert _refs(found["unlabelled"]) == [f"s3://{bucket}/new/unlabelled.jpg"]
    assert len(found["labeled"]) == stats["LabeledEntries"]
    broken = found["broken"]
    assert _refs(broken) == [f"s3://{bucket}/new/broken.jpg"] and len(broken) == stats["ErrorEntries"]
    assert broken[0].get("errors") or broken[0].get("label-metadata", {}).get("errors")
    assert len(found["clean"]) == stats["TotalEntries"] - stats["ErrorEntries"]
    yellow = found["yellow"]
    assert _refs(yellow) == [relabelled] and yellow[0]["label-metadata"]["class-name"] == "yellow"
    reds = found["reds"]
    assert {e["label-metadata"]["class-name"] for e in reds} == {"red", "yellow"} and len(reds) == 11
    assert set(_refs(found["new"])) == {
        f"s3://{bucket}/new/{n}" for n in ("red-0.jpg", "blue-1.jpg", "unlabelled.jpg", "broken.jpg")}
    assert found["NEW"] == []  # S3 keys are case-sensitive, and so is "part of the source-ref"
    assert _refs(found["all four"]) == [f"s3://{bucket}/new/blue-1.jpg"]

    # list-dataset-labels (paged by the CLI, and by hand); the stats add up.
    labels = aws.rek("list-dataset-labels", "--dataset-arn", train, "--page-size", "3")["DatasetLabelDescriptions"]
    counts = {d["LabelName"]: d["LabelStats"]["EntryCount"] for d in labels}
    assert counts == {"red": 10, "blue": 9, "green": 7, "yellow": 1}, counts
    assert len(counts) == stats["TotalLabels"]
    assert stats["TotalEntries"] == len(everything) == stats["LabeledEntries"] + 1
    assert sum(counts.values()) == stats["LabeledEntries"]  # one label per classification entry
    page = aws.rek("list-dataset-labels", "--dataset-arn", train, "--max-items", "3")
    assert len(page["DatasetLabelDescriptions"]) == 3 and page["NextToken"]

    # Train from the datasets: no --training-data / --testing-data. An edit made meanwhile (a JSON
    # file:// argument this time) changes no trained version: the job trains on a snapshot.
    version = aws.rek("create-project-version", "--project-arn", project, "--version-name", "v1",
                      "--output-config", f"S3Bucket={bucket},S3KeyPrefix=out/")["ProjectVersionArn"]
    (work / "changes.json").write_text(json.dumps(
        {"GroundTruth": classification_line(bucket, "new/red-0.jpg", "green")}))
    aws.rek("update-dataset-entries", "--dataset-arn", train, "--changes", "file://changes.json")
    aws.rek("wait", "project-version-training-completed", "--project-arn", project, "--version-names", "v1",
            "--cli-input-json", FAST_WAITER)
    described = aws.rek("describe-project-versions", "--project-arn", project)["ProjectVersionDescriptions"][0]
    assert described["Status"] == "TRAINING_COMPLETED", described["StatusMessage"]
    assert described["TrainingDataResult"]["Input"] == {}
    assert described["TestingDataResult"]["Input"] == {"AutoCreate": False}
    assert described["EvaluationResult"]["F1Score"] > 0.5
    summary_ref = described["EvaluationResult"]["Summary"]["S3Object"]
    summary = aws.ok("s3", "cp", f"s3://{summary_ref['Bucket']}/{summary_ref['Name']}", "-")
    details = json.loads(summary)["EvaluationDetails"]
    assert (details["NumberOfTrainingImages"], details["NumberOfTestingImages"]) == (26, 6)
    assert aws.settle(train)["Status"] == "UPDATE_COMPLETE"
    assert aws.entries(train, "--source-ref-contains", "new/red-0")[0]["label-metadata"]["class-name"] == "green"

    # Serve it.
    aws.rek("start-project-version", "--project-version-arn", version, "--min-inference-units", "1")
    aws.rek("wait", "project-version-running", "--project-arn", project, "--version-names", "v1",
            "--cli-input-json", FAST_WAITER)
    found = aws.rek("detect-custom-labels", "--project-version-arn", version, "--min-confidence", "0",
                    "--image-bytes", "fileb://probe.jpg")["CustomLabels"]
    assert found and {f["Name"] for f in found} <= {*LABELS, "yellow"}
    aws.rek("stop-project-version", "--project-version-arn", version)
    aws.version(project, "v1", {"STOPPED"})

    # A project policy (file://, a valid IAM document), revised with its revision id; a stale id is refused.
    other = aws.rek("create-project", "--project-name", name2)["ProjectArn"]
    (work / "policy.json").write_text(json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "AllowCopy", "Effect": "Allow",
                       "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                       "Action": "rekognition:CopyProjectVersion", "Resource": version}]}))
    rev1 = aws.rek("put-project-policy", "--project-arn", project, "--policy-name", "copy",
                   "--policy-document", "file://policy.json")["PolicyRevisionId"]
    rev2 = aws.rek("put-project-policy", "--project-arn", project, "--policy-name", "copy",
                   "--policy-revision-id", rev1, "--policy-document", "file://policy.json")["PolicyRevisionId"]
    assert rev2 != rev1
    aws.fails("InvalidPolicyRevisionIdException", "PutProjectPolicy", "rekognition", "put-project-policy",
              "--project-arn", project, "--policy-name", "copy", "--policy-revision-id", rev1,
              "--policy-document", "file://policy.json")
    policies = aws.rek("list-project-policies", "--project-arn", project)["ProjectPolicies"]
    assert [(p["PolicyName"], p["PolicyRevisionId"]) for p in policies] == [("copy", rev2)]
    assert json.loads(policies[0]["PolicyDocument"]) == json.loads((work / "policy.json").read_text())

    # Copy the version into the second project.
    copy = aws.rek("copy-project-version", "--source-project-arn", project, "--source-project-version-arn",
                   version, "--destination-project-arn", other, "--version-name", "copied", "--output-config",
                   f"S3Bucket={bucket},S3KeyPrefix=copy/", "--tags", "copied=yes")["ProjectVersionArn"]
    assert f":project/{name2}/version/copied/" in copy
    copied = aws.version(other, "copied", {"COPYING_COMPLETED", "COPYING_FAILED"})
    assert copied["Status"] == "COPYING_COMPLETED", copied["StatusMessage"]
    assert copied["SourceProjectVersionArn"] == version
    assert copied["EvaluationResult"]["F1Score"] == described["EvaluationResult"]["F1Score"]
    aws.fails("InvalidPolicyRevisionIdException", "DeleteProjectPolicy", "rekognition", "delete-project-policy",
              "--project-arn", project, "--policy-name", "copy", "--policy-revision-id", rev1)
    aws.rek("delete-project-policy", "--project-arn", project, "--policy-name", "copy", "--policy-revision-id", rev2)
    assert aws.rek("list-project-policies", "--project-arn", project)["ProjectPolicies"] == []

    # Delete in AWS's order: models, then datasets, then projects.
    aws.fails("ResourceInUseException", "DeleteProject", "rekognition", "delete-project", "--project-arn", project)
    for arn in (version, copy):
        assert aws.rek("delete-project-version", "--project-version-arn", arn)["Status"] == "DELETING"
    for arn in (train, test):
        assert aws.rek("delete-dataset", "--dataset-arn", arn) is None
    assert aws.rek("describe-projects", "--project-names", name)["ProjectDescriptions"][0]["Datasets"] == []
    for arn in (project, other):
        assert aws.rek("delete-project", "--project-arn", arn)["Status"] == "DELETING"
    assert aws.rek("describe-projects", "--project-names", name, name2)["ProjectDescriptions"] == []
