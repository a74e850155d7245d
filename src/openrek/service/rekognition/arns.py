"""ARNs exactly as AWS forms them for Custom Labels projects, versions and datasets, and their parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PROJECT = re.compile(r"^arn:([a-z\d-]+):rekognition:([a-z\d-]+):(\d{12}):project/([a-zA-Z0-9_.\-]{1,255})/(\d+)$")
_VERSION = re.compile(
    r"^arn:([a-z\d-]+):rekognition:([a-z\d-]+):(\d{12}):project/([a-zA-Z0-9_.\-]{1,255})"
    r"/version/([a-zA-Z0-9_.\-]{1,255})/(\d+)$"
)

_DATASET = re.compile(
    r"^arn:([a-z\d-]+):rekognition:([a-z\d-]+):(\d{12}):project/([a-zA-Z0-9_.\-]{1,255})"
    r"/dataset/(train|test)/(\d+)$"
)


def project_arn(region: str, account: str, name: str, created_ms: int) -> str:
    return f"arn:aws:rekognition:{region}:{account}:project/{name}/{created_ms}"


def version_arn(region: str, account: str, project: str, version: str, created_ms: int) -> str:
    return f"arn:aws:rekognition:{region}:{account}:project/{project}/version/{version}/{created_ms}"


def dataset_arn(region: str, account: str, project: str, dataset_type: str, created_ms: int) -> str:
    return f"arn:aws:rekognition:{region}:{account}:project/{project}/dataset/{dataset_type.lower()}/{created_ms}"


@dataclass(frozen=True)
class ParsedArn:
    kind: str  # "project" | "version" | "dataset"
    region: str
    account: str
    project: str
    version: str | None  # the version name, or the dataset type (train | test)


def parse_arn(arn: str) -> ParsedArn | None:
    m = _VERSION.match(arn)
    if m:
        return ParsedArn("version", m.group(2), m.group(3), m.group(4), m.group(5))
    m = _DATASET.match(arn)
    if m:
        return ParsedArn("dataset", m.group(2), m.group(3), m.group(4), m.group(5))
    m = _PROJECT.match(arn)
    if m:
        return ParsedArn("project", m.group(2), m.group(3), m.group(4), None)
    return None

