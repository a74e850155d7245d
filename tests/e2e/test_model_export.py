"""Model export through a real server: a version trained through the server, exported with the `openrek`
CLI (and the HTTP endpoint behind it), run with plain onnxruntime by the snippet of docs/model-export.md,
gives DetectCustomLabels' labels and confidences; errors for versions without a model; the models bucket
stays out of reach of Image.S3Object and CopyObject even where the real model files lie."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from tests.support.clients import client, signed
from tests.support.exported_model import assert_same_labels, snippet
from tests.support.images import shape_image, upload_classification_set
from tests.support.server import ServerProcess
from tests.support.stores import server_objects

FAST = {"Delay": 1, "MaxAttempts": 300}
MODELS = ".openrek-models"
EXPORT = "/_openrek/model-export"
LABELS = ["red", "blue", "green"]


def _assets(bucket: str, key: str) -> dict:
    return {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": key}}}]}


@pytest.fixture(scope="module")
def trained(server_process: ServerProcess) -> Iterator[dict[str, Any]]:
    """A classification version trained through the server and RUNNING."""
    rek, s3 = client("rekognition", server_process.endpoint), client("s3", server_process.endpoint)
    bucket = project_name = "export-flow"
    s3.create_bucket(Bucket=bucket)
    manifest = upload_classification_set(s3, bucket, "set/", LABELS, per_label=12, size=64)
    project = rek.create_project(ProjectName=project_name)["ProjectArn"]
    arn = rek.create_project_version(
        ProjectArn=project, VersionName="v1", OutputConfig={"S3Bucket": bucket, "S3KeyPrefix": "out/"},
        TrainingData=_assets(bucket, manifest), TestingData={"AutoCreate": True})["ProjectVersionArn"]
    rek.get_waiter("project_version_training_completed").wait(ProjectArn=project, VersionNames=["v1"],
                                                             WaiterConfig=FAST)
    rek.start_project_version(ProjectVersionArn=arn, MinInferenceUnits=1)
    rek.get_waiter("project_version_running").wait(ProjectArn=project, VersionNames=["v1"], WaiterConfig=FAST)
    yield {"arn": arn, "project": project, "project_name": project_name, "bucket": bucket,
           "endpoint": server_process.endpoint, "rek": rek, "s3": s3,
           "store": server_objects(server_process.data_dir)}
    rek.stop_project_version(ProjectVersionArn=arn)


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENREK_NO_PROGRESS": "1"}
    return subprocess.run([sys.executable, "-m", "openrek.cli.main", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


def _rgba_png(label: str, seed: int) -> bytes:
    """A shape image whose background is partly transparent (the server composites it onto white)."""
    img = Image.open(io.BytesIO(shape_image(label, seed, size=80))).convert("RGBA")
    alpha = Image.new("L", img.size, 255)
    ImageDraw.Draw(alpha).rectangle([0, 0, 79, 25], fill=0)
    img.putalpha(alpha)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _rotated_jpeg(label: str, seed: int) -> bytes:
    """A non-square JPEG whose EXIF orientation says 'rotate 90° clockwise to view'."""
    img = Image.open(io.BytesIO(shape_image(label, seed, size=96))).crop((0, 10, 96, 74))
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def _probe_images() -> list[tuple[str, bytes]]:
    images = [(f"{label}-{i}.jpg", shape_image(label, 9000 + i, size=64)) for i, label in enumerate(LABELS * 2)]
    images.append(("blue-big.png", shape_image("blue", 9100, size=300, fmt="PNG")))
    images.append(("green-rgba.png", _rgba_png("green", 9200)))
    images.append(("red-rotated.jpg", _rotated_jpeg("red", 9300)))
    return images


def test_cli_export_runs_with_plain_onnxruntime_like_detect_custom_labels(trained: dict[str, Any],
                                                                            tmp_path: Path) -> None:
    target = tmp_path / "exported" / "model.onnx"
    # Global options before and after the command both work; after `models`, --output is the file.
    done = _cli("--endpoint-url", trained["endpoint"], "models", "export",
                "--project-version-arn", trained["arn"], "--output", str(target))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    metadata_path = tmp_path / "exported" / "model.json"
    assert summary == {"ProjectVersionArn": trained["arn"], "ModelFile": str(target),
                       "ModelBytes": target.stat().st_size, "MetadataFile": str(metadata_path),
                       "Labels": summary["Labels"]}
    assert sorted(summary["Labels"]) == sorted(LABELS)
    meta = json.loads(metadata_path.read_text())
    assert meta["format"] == "openrek-onnx/1" and meta["task"] == "classification"
    assert meta["labels"] == summary["Labels"] and set(meta["thresholds"]) == set(LABELS)
    assert meta["project_version_arn"] == trained["arn"]
    assert not [p.name for p in target.parent.iterdir() if p.name.endswith(".part")]

    # The HTTP endpoint behind the CLI serves the same bytes.
    http = signed("GET", trained["endpoint"] + EXPORT, params={"ProjectVersionArn": trained["arn"]}, timeout=60)
    assert http.status_code == 200 and http.headers["content-type"] == "application/octet-stream"
    assert http.content == target.read_bytes()
    http_json = signed("GET", trained["endpoint"] + EXPORT, timeout=60,
                             params={"ProjectVersionArn": trained["arn"], "File": "model.json"})
    assert http_json.status_code == 200 and http_json.json() == meta

    code = snippet()
    session, loaded = code["load_model"](str(target), str(metadata_path))
    assert loaded == meta
    rek = trained["rek"]
    for name, data in _probe_images():
        every = rek.detect_custom_labels(ProjectVersionArn=trained["arn"], MinConfidence=0,
                                         Image={"Bytes": data})["CustomLabels"]
        local = code["detect_custom_labels"](session, meta, io.BytesIO(data), min_confidence=0)
        assert_same_labels(every, local, f"{name}, MinConfidence=0")
        assert len(every) == len(LABELS)
        default = rek.detect_custom_labels(ProjectVersionArn=trained["arn"], Image={"Bytes": data})["CustomLabels"]
        assert_same_labels(default, code["detect_custom_labels"](session, meta, io.BytesIO(data)),
                           f"{name}, the assumed thresholds")
        some = rek.detect_custom_labels(ProjectVersionArn=trained["arn"], MinConfidence=30,
                                        Image={"Bytes": data})["CustomLabels"]
        assert_same_labels(some, code["detect_custom_labels"](session, meta, io.BytesIO(data), min_confidence=30),
                           f"{name}, MinConfidence=30")


def test_cli_metadata_output_and_options_after_the_command(trained: dict[str, Any], tmp_path: Path) -> None:
    done = _cli("models", "export", "--project-version-arn", trained["arn"], "--output", "m.onnx",
                "--metadata-output", "meta/labels.json", "--endpoint-url", trained["endpoint"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "m.onnx").stat().st_size == json.loads(done.stdout)["ModelBytes"] > 0
    assert json.loads((tmp_path / "meta" / "labels.json").read_text())["project_version_arn"] == trained["arn"]
    assert not (tmp_path / "m.json").exists()


def test_cli_help_and_usage_errors(tmp_path: Path) -> None:
    for args in (["models", "help"], ["models", "export", "help"], ["models", "--help"]):
        done = _cli(*args)
        assert done.returncode == 0 and "--project-version-arn" in done.stdout, args
    missing = _cli("models", "export", "--output", str(tmp_path / "m.onnx"))
    assert missing.returncode == 2 and "--project-version-arn" in missing.stderr
    unknown = _cli("models", "export", "--project-version-arn", "x", "--output", "m.onnx", "--bogus")
    assert unknown.returncode == 255 and "Unknown options: --bogus" in unknown.stderr
    bad = _cli("models", "import")
    assert bad.returncode == 2 and "Invalid choice" in bad.stderr


def _failed_version(rek, s3, name: str) -> str:  # type: ignore[no-untyped-def]
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="broken.manifest", Body=b"not json\n")
    project = rek.create_project(ProjectName=name)["ProjectArn"]
    arn = rek.create_project_version(ProjectArn=project, VersionName="bad", OutputConfig={"S3Bucket": name},
                                     TrainingData=_assets(name, "broken.manifest"),
                                     TestingData={"AutoCreate": True})["ProjectVersionArn"]
    with pytest.raises(Exception, match="TRAINING_FAILED"):
        rek.get_waiter("project_version_training_completed").wait(ProjectArn=project, VersionNames=["bad"],
                                                                 WaiterConfig=FAST)
    return arn


def test_errors_of_the_endpoint_and_the_cli(openrek_server: str, rekognition, s3, unique: str,  # type: ignore[no-untyped-def]
                                           tmp_path: Path) -> None:
    failed = _failed_version(rekognition, s3, f"export-bad-{unique}")
    unknown = failed.replace(f"export-bad-{unique}", f"nothing-{unique}")

    def get(params: dict[str, str] | None, path: str = EXPORT, method: str = "GET") -> tuple[int, dict]:
        response = signed(method, openrek_server + path, params=params, timeout=30)
        assert response.headers["content-type"] == "application/json" and response.headers["x-amzn-requestid"]
        return response.status_code, response.json()

    status, body = get({"ProjectVersionArn": failed, "File": "model.onnx"})
    assert (status, body["__type"]) == (400, "ResourceNotReadyException")
    assert "training failed" in body["Message"] and "CreateProjectVersion" in body["Message"]
    status, body = get({"ProjectVersionArn": unknown})
    assert (status, body["__type"]) == (404, "ResourceNotFoundException") and "DescribeProjectVersions" in body["Message"]
    for bad in ({"ProjectVersionArn": "not-an-arn"}, {}, {"ProjectVersionArn": failed, "File": "../../etc/passwd"}):
        status, body = get(bad)
        assert (status, body["__type"]) == (400, "ValidationException"), bad
    status, body = get({"ProjectVersionArn": failed}, method="POST")
    assert (status, body["__type"]) == (400, "ValidationException") and "GET" in body["Message"]
    status, body = get(None, path="/_openrek/nothing-here")
    assert (status, body["__type"]) == (404, "UnknownOperationException") and EXPORT in body["Message"]

    done = _cli("--endpoint-url", openrek_server, "models", "export", "--project-version-arn", failed,
                "--output", str(tmp_path / "model.onnx"))
    assert done.returncode == 255
    assert done.stderr.startswith("\nAn error occurred (ResourceNotReadyException) when calling the ExportModel "
                                  f"operation: The project version {failed} has no model to export")
    assert list(tmp_path.iterdir()) == []
    gone = _cli("--endpoint-url", openrek_server, "models", "export", "--project-version-arn", unknown,
                "--output", str(tmp_path / "model.onnx"))
    assert gone.returncode == 255 and "(ResourceNotFoundException)" in gone.stderr


def test_an_object_key_under_openrek_stays_an_object_in_virtual_host_style(openrek_server: str, s3,  # type: ignore[no-untyped-def]
                                                                            unique: str) -> None:
    bucket = f"vhost-{unique}"
    s3.create_bucket(Bucket=bucket)
    host = {"Host": f"{bucket}.s3.localhost"}
    assert signed("PUT", f"{openrek_server}{EXPORT}", service="s3", data=b"mine", headers=host,
                  timeout=10).status_code == 200
    assert signed("GET", f"{openrek_server}{EXPORT}", service="s3", headers=host, timeout=10).content == b"mine"
    assert s3.get_object(Bucket=bucket, Key=EXPORT[1:])["Body"].read() == b"mine"


def test_the_real_model_files_are_out_of_reach(trained: dict[str, Any]) -> None:
    rek, s3 = trained["rek"], trained["s3"]
    prefix = f"{trained['project_name']}/v1/"
    everything = [o.key for o in trained["store"].list_objects(MODELS, prefix=prefix)]
    # Beside the model, the job's own copies of its training images (in images/ under the version's prefix).
    keys = [k for k in everything if k.count("/") == prefix.count("/") + 1]
    assert {k.rsplit("/", 1)[-1] for k in keys} == {"model.onnx", "model.json"}
    assert any("/images/" in k for k in everything)
    keys.append(next(k for k in everything if "/images/" in k))

    def refused(bucket: str, key: str) -> str:
        with pytest.raises(rek.exceptions.InvalidS3ObjectException) as err:
            rek.detect_custom_labels(ProjectVersionArn=trained["arn"], Image={"S3Object": {"Bucket": bucket,
                                                                                         "Name": key}})
        return err.value.response["Error"]["Message"]

    for key in keys:
        message = refused(MODELS, key)
        assert message == refused(".no-such-bucket", key).replace(".no-such-bucket", MODELS)
        assert "NoSuchBucket" in message
        with pytest.raises(s3.exceptions.ClientError) as err:
            s3.copy_object(Bucket=trained["bucket"], Key="copied", CopySource={"Bucket": MODELS, "Key": key})
        assert err.value.response["Error"]["Code"] == "NoSuchBucket"
