"""``openrek datasets create-from-version``: the console's "create datasets from my manifests" step, explicit.

The AWS console, on a project trained from manifests, creates the project's TRAIN and TEST datasets from
the most recent version's manifests, after which the project trains only from datasets. openrek does
not do that behind a read; this command does it when asked, through the public API only:
CreateDataset from the version's training manifest, and for the test set CreateDataset from its
testing manifest — or, where the version used TestingData AutoCreate, an empty TEST dataset filled by
DistributeDatasetEntries (the same 20 % per label). It waits until both datasets are complete.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from openrek.cli.arguments import PROG, ArgParser, parse_subcommand

SUBCOMMANDS = ["create-from-version", "help"]
SETTLED = {"CREATE_COMPLETE", "CREATE_FAILED", "UPDATE_COMPLETE", "UPDATE_FAILED"}

HELP = f"""NAME
       datasets -

DESCRIPTION
       Commands of openrek itself, beside the AWS ones.

AVAILABLE COMMANDS
       o create-from-version

SYNOPSIS
          {PROG} datasets create-from-version
          --project-arn <value>
          [--version-name <value>]
          [--no-wait]

       Creates the project's TRAIN and TEST datasets from the manifests of one of its versions (by default
       the most recent one trained from manifests), as the Custom Labels console does when you first open
       a project's datasets. A TestingData AutoCreate version gets an empty TEST dataset and
       DistributeDatasetEntries. From then on the project trains from its datasets (CreateProjectVersion
       without TrainingData/TestingData) and refuses manifests. Prints both datasets' descriptions.
"""


class DatasetsCommandError(Exception):
    """A reason the command cannot go on, worded for a person."""


def parse(args: list[str], g: argparse.Namespace) -> argparse.Namespace:
    options = ArgParser()
    options.add_argument("--project-arn", required=True, dest="project_arn")
    options.add_argument("--version-name", dest="version_name")
    options.add_argument("--no-wait", action="store_true", dest="no_wait")
    sub, parsed = parse_subcommand(args, SUBCOMMANDS, options)
    if parsed is None:
        return argparse.Namespace(subcommand="help")
    return argparse.Namespace(subcommand=sub, project_arn=parsed.project_arn, version_name=parsed.version_name,
                              wait=not parsed.no_wait)


def _manifest_versions(client: Any, project_arn: str, name: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"ProjectArn": project_arn}
    if name:
        kwargs["VersionNames"] = [name]
    for page in client.get_paginator("describe_project_versions").paginate(**kwargs):
        for version in page["ProjectVersionDescriptions"]:  # newest first
            if (version.get("TrainingDataResult") or {}).get("Input", {}).get("Assets"):
                return version
    which = f"version {name}" if name else "version"
    raise DatasetsCommandError(f"The project {project_arn} has no {which} trained from manifests, so there are no "
                               "manifests to create datasets from. Use CreateDataset with your manifest instead.")


def _single_asset(assets: list[dict[str, Any]], role: str, version: str) -> dict[str, Any]:
    if len(assets) != 1:
        raise DatasetsCommandError(
            f"The version {version} lists {len(assets)} {role} manifests; a dataset is created from one. Join them "
            "into one manifest and use CreateDataset with it.")
    return {"GroundTruthManifest": assets[0]["GroundTruthManifest"]}


def _wait(client: Any, arns: list[str], timeout: float = 3600.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = [client.describe_dataset(DatasetArn=a)["DatasetDescription"] for a in arns]
        if all(d["Status"] in SETTLED for d in found) or time.monotonic() > deadline:
            return found
        time.sleep(1.0)


def run(args: argparse.Namespace, g: argparse.Namespace) -> int:
    if args.subcommand == "help":
        sys.stdout.write(HELP)
        return 0
    from openrek.cli import client as client_module

    client = client_module.create_client(client_module.make_session(g), g)
    project = args.project_arn
    described = client.describe_projects()["ProjectDescriptions"]
    match = next((p for p in described if p["ProjectArn"] == project), None)
    if match is not None and match.get("Datasets"):
        kinds = ", ".join(d["DatasetType"] for d in match["Datasets"])
        raise DatasetsCommandError(f"The project {project} already has datasets ({kinds}); nothing to create.")
    version = _manifest_versions(client, project, args.version_name)
    name = version["ProjectVersionArn"].split("/")[-2]
    train_source = _single_asset(version["TrainingDataResult"]["Input"]["Assets"], "training", name)
    testing_input = (version.get("TestingDataResult") or {}).get("Input") or {}
    train = client.create_dataset(ProjectArn=project, DatasetType="TRAIN", DatasetSource=train_source)["DatasetArn"]
    if testing_input.get("Assets"):
        test_source = _single_asset(testing_input["Assets"], "testing", name)
        test = client.create_dataset(ProjectArn=project, DatasetType="TEST", DatasetSource=test_source)["DatasetArn"]
    else:
        test = client.create_dataset(ProjectArn=project, DatasetType="TEST")["DatasetArn"]
        first = _wait(client, [train])[0]
        if first["Status"] != "CREATE_COMPLETE":
            raise DatasetsCommandError(f"The TRAIN dataset {train} is {first['Status']}: {first.get('StatusMessage')}")
        client.distribute_dataset_entries(Datasets=[{"Arn": train}, {"Arn": test}])
    descriptions = _wait(client, [train, test]) if args.wait else [
        client.describe_dataset(DatasetArn=a)["DatasetDescription"] for a in (train, test)]
    out = {"ProjectArn": project, "SourceProjectVersionArn": version["ProjectVersionArn"],
           "Datasets": [{"DatasetArn": arn, "DatasetType": kind, "Status": d["Status"],
                         "StatusMessage": d.get("StatusMessage"), "DatasetStats": d.get("DatasetStats")}
                        for arn, kind, d in zip((train, test), ("TRAIN", "TEST"), descriptions, strict=True)]}
    sys.stdout.write(json.dumps(out, indent=4) + "\n")
    failed = [d for d in descriptions if d["Status"].endswith("FAILED")]
    return 255 if failed else 0
