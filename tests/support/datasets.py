"""Helpers for dataset tests: wait for a dataset to settle, read every entry through the paginator-free API."""

from __future__ import annotations

import json
import time
from typing import Any

SETTLED = {"CREATE_COMPLETE", "CREATE_FAILED", "UPDATE_COMPLETE", "UPDATE_FAILED"}


def wait_dataset(rekognition: Any, arn: str, timeout: float = 120.0) -> dict[str, Any]:
    """Polls DescribeDataset until the dataset is no longer in progress; returns its description."""
    deadline = time.monotonic() + timeout
    while True:
        desc = rekognition.describe_dataset(DatasetArn=arn)["DatasetDescription"]
        if desc["Status"] in SETTLED:
            return desc
        if time.monotonic() > deadline:
            raise AssertionError(f"dataset {arn} still {desc['Status']} after {timeout} s")
        time.sleep(0.2)


def all_entries(rekognition: Any, arn: str, page_size: int = 100, **filters: Any) -> list[dict[str, Any]]:
    """Every entry (parsed JSON Lines) passing `filters`, following NextToken."""
    out: list[dict[str, Any]] = []
    token = None
    while True:
        kwargs = dict(filters, DatasetArn=arn, MaxResults=page_size)
        if token:
            kwargs["NextToken"] = token
        page = rekognition.list_dataset_entries(**kwargs)
        out.extend(json.loads(e) for e in page["DatasetEntries"])
        token = page.get("NextToken")
        if not token:
            return out


def wait_version(rekognition: Any, project: str, name: str, statuses: set[str], timeout: float = 300.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        desc = rekognition.describe_project_versions(ProjectArn=project, VersionNames=[name])
        version = desc["ProjectVersionDescriptions"][0]
        if version["Status"] in statuses:
            return version
        if time.monotonic() > deadline:
            raise AssertionError(f"version {name} still {version['Status']} after {timeout} s")
        time.sleep(0.5)
