"""A loopback HTTP server that records each request and answers with canned Rekognition responses.

Canned answers depend on ``X-Amz-Target`` and a few magic values in the body, so that the same
argument list gives the same output from ``aws`` and ``openrek``: a name ``dup`` or ``in-use`` gives
``ResourceInUseException``; DescribeProjects and ListDatasetEntries page with ``NextToken``.
"""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ARN = "arn:aws:rekognition:us-east-1:000000000000:project/my-project/1700000000000"
VERSION_ARN = "arn:aws:rekognition:us-east-1:000000000000:project/my-project/version/v1/1700000000001"


def _projects(page: int) -> dict[str, Any]:
    if page == 1:
        return {
            "ProjectDescriptions": [
                {
                    "ProjectArn": ARN,
                    "CreationTimestamp": 1700000000.123,
                    "Status": "CREATED",
                    "Datasets": [
                        {"CreationTimestamp": 1700000001.5, "DatasetType": "TRAIN", "DatasetArn": ARN + "/d/t",
                         "Status": "CREATE_COMPLETE", "StatusMessage": "ok", "StatusMessageCode": "SUCCESS"},
                        {"CreationTimestamp": 1700000002, "DatasetType": "TEST", "DatasetArn": ARN + "/d/s",
                         "Status": "CREATE_COMPLETE", "StatusMessage": "ok", "StatusMessageCode": "SUCCESS"},
                    ],
                    "Feature": "CUSTOM_LABELS",
                    "AutoUpdate": "DISABLED",
                },
                {"ProjectArn": ARN.replace("my-project", "other"), "CreationTimestamp": 1700000100,
                 "Status": "CREATING", "Feature": "CONTENT_MODERATION"},
            ],
            "NextToken": "page2",
        }
    return {
        "ProjectDescriptions": [
            {"ProjectArn": ARN.replace("my-project", "third-é"), "CreationTimestamp": 1700000200,
             "Status": "CREATED"},
        ]
    }


def _versions(body: dict[str, Any]) -> dict[str, Any]:
    status = "TRAINING_COMPLETED"
    if "failing" in body.get("ProjectArn", ""):
        status = "TRAINING_FAILED"
    return {
        "ProjectVersionDescriptions": [
            {
                "ProjectVersionArn": VERSION_ARN,
                "CreationTimestamp": 1700000000.25,
                "Status": status,
                "StatusMessage": "The model is ready to run.",
                "BillableTrainingTimeInSeconds": 1899,
                "TrainingEndTimestamp": 1700001899.5,
                "OutputConfig": {"S3Bucket": "bucket", "S3KeyPrefix": "my-model-output"},
                "TrainingDataResult": {"Input": {}},
                "TestingDataResult": {"Input": {"AutoCreate": False}},
                "EvaluationResult": {"F1Score": 0.9, "Summary": {"S3Object": {"Bucket": "bucket", "Name": "s.json"}}},
                "MinInferenceUnits": 1,
                "Feature": "CUSTOM_LABELS",
            }
        ]
    }


def _entries(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("NextToken"):
        return {"DatasetEntries": ['{"source-ref": "s3://b/3.jpg"}']}
    return {"DatasetEntries": ['{"source-ref": "s3://b/1.jpg"}', '{"source-ref": "s3://b/2.jpg"}'], "NextToken": "e2"}


def _error(code: str, message: str, status: int = 400) -> tuple[int, dict[str, Any]]:
    return status, {"__type": code, "Message": message, "Code": code, "Logref": "req-1"}


def canned(target: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    op = target.split(".", 1)[-1]
    names = [str(body.get(k, "")) for k in ("VersionName", "ProjectName", "ProjectArn")]
    if any(n in ("dup", "in-use") or n.endswith("/in-use") for n in names):
        return _error("ResourceInUseException", "The project version name already exists.")
    if "missing" in names:
        return _error("ResourceNotFoundException", "The resource does not exist.")
    if op == "CreateProjectVersion":
        return 200, {"ProjectVersionArn": VERSION_ARN}
    if op == "CreateProject":
        return 200, {"ProjectArn": ARN}
    if op == "DescribeProjects":
        return 200, _projects(2 if body.get("NextToken") else 1)
    if op == "DescribeProjectVersions":
        return 200, _versions(body)
    if op == "ListDatasetEntries":
        return 200, _entries(body)
    if op in ("StartProjectVersion", "StopProjectVersion"):
        return 200, {"Status": "STARTING" if op.startswith("Start") else "STOPPING"}
    if op == "DeleteProject":
        return 200, {"Status": "DELETING"}
    if op == "DeleteProjectVersion":
        return 200, {"Status": "DELETING"}
    if op == "DetectCustomLabels":
        return 200, {
            "CustomLabels": [
                {"Name": "cat", "Confidence": 98.5,
                 "Geometry": {"BoundingBox": {"Width": 0.5, "Height": 0.25, "Left": 0.1, "Top": 0.2},
                              "Polygon": [{"X": 0.1, "Y": 0.2}, {"X": 0.6, "Y": 0.45}]}},
                {"Name": "dog", "Confidence": 51.0},
            ]
        }
    if op == "ListTagsForResource":
        return 200, {"Tags": {"team": "vision", "env": "dev"}}
    if op == "CreateDataset":
        return 200, {"DatasetArn": ARN + "/dataset/train/1700000000002"}
    if op == "DescribeDataset":
        return 200, {"DatasetDescription": {"CreationTimestamp": 1700000000, "Status": "CREATE_COMPLETE",
                                            "DatasetStats": {"LabeledEntries": 10, "TotalEntries": 12,
                                                             "TotalLabels": 2, "ErrorEntries": 0}}}
    if op == "ListDatasetLabels":
        return 200, {"DatasetLabelDescriptions": [{"LabelName": "cat", "LabelStats": {"EntryCount": 5}}]}
    return 200, {}


class Recorder:
    """Start with ``with Recorder() as rec:``; ``rec.url``, ``rec.requests``, ``rec.clear()``."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                # A parameter value given as an http:// URL is fetched by both CLIs.
                data = b"fetched description" if self.path == "/text" else b"no"
                self.send_response(200 if self.path == "/text" else 404)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {"__unparsable__": raw.decode("latin-1")}
                target = self.headers.get("X-Amz-Target", "")
                with recorder._lock:
                    recorder.requests.append(
                        {"target": target, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                    )
                status, payload = canned(target, body if isinstance(body, dict) else {})
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("x-amzn-RequestId", "req-1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def take(self) -> list[dict[str, Any]]:
        with self._lock:
            out = list(self.requests)
            self.requests.clear()
        return out
