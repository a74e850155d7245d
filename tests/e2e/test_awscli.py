"""The stock `aws` CLI (v1) against a real openrek server: S3 copies and create-project-version shorthand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.images import classification_line, shape_image

AWS = str(Path(sys.executable).with_name("aws"))


def aws(endpoint: str, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(home / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(home / "none")}
    return subprocess.run([AWS, "--endpoint-url", endpoint, *args], capture_output=True, text=True, env=env, timeout=120)


def test_aws_cli_copies_a_dataset_and_creates_a_version(openrek_server: str, tmp_path: Path, unique: str) -> None:
    bucket = f"cli-{unique}"
    data = tmp_path / "dataset"
    (data / "images").mkdir(parents=True)
    lines = []
    for label in ("red", "blue"):
        for i in range(4):
            (data / "images" / f"{label}{i}.jpg").write_bytes(shape_image(label, i))
            lines.append(classification_line(bucket, f"ds/images/{label}{i}.jpg", label))
    (data / "train.manifest").write_text("\n".join(lines))
    (data / "big.bin").write_bytes(os.urandom(9 * 1024 * 1024))  # multipart through `aws s3 cp`

    assert aws(openrek_server, "s3", "mb", f"s3://{bucket}", home=tmp_path).returncode == 0
    copied = aws(openrek_server, "s3", "cp", "--recursive", str(data), f"s3://{bucket}/ds/", home=tmp_path)
    assert copied.returncode == 0, copied.stderr
    listed = aws(openrek_server, "s3", "ls", "--recursive", f"s3://{bucket}/ds/", home=tmp_path)
    assert listed.returncode == 0 and listed.stdout.count("\n") == 10, listed.stdout
    back = tmp_path / "back"
    pulled = aws(openrek_server, "s3", "cp", "--recursive", f"s3://{bucket}/ds/", str(back), home=tmp_path)
    assert pulled.returncode == 0, pulled.stderr
    assert (back / "big.bin").read_bytes() == (data / "big.bin").read_bytes()

    project = aws(openrek_server, "rekognition", "create-project", "--project-name", f"cli-{unique}", home=tmp_path)
    assert project.returncode == 0, project.stderr
    project_arn = json.loads(project.stdout)["ProjectArn"]
    created = aws(
        openrek_server, "rekognition", "create-project-version",
        "--project-arn", project_arn,
        "--version-name", "v1",
        "--output-config", f"S3Bucket={bucket},S3KeyPrefix=out/",
        "--training-data", f"Assets=[{{GroundTruthManifest={{S3Object={{Bucket={bucket},Name=ds/train.manifest}}}}}}]",
        "--testing-data", "AutoCreate=true",
        "--tags", "team=vision,stage=dev",
        "--version-description", "from the aws cli",
        home=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    version_arn = json.loads(created.stdout)["ProjectVersionArn"]
    assert version_arn.startswith(f"arn:aws:rekognition:us-east-1:000000000000:project/cli-{unique}/version/v1/")

    described = aws(openrek_server, "rekognition", "describe-project-versions", "--project-arn", project_arn,
                    "--query", "ProjectVersionDescriptions[0].[OutputConfig.S3KeyPrefix,VersionDescription]",
                    "--output", "text", home=tmp_path)
    assert described.stdout.split() == ["out/", "from", "the", "aws", "cli"]
    tags = aws(openrek_server, "rekognition", "list-tags-for-resource", "--resource-arn", version_arn, home=tmp_path)
    assert json.loads(tags.stdout)["Tags"] == {"team": "vision", "stage": "dev"}

    duplicate = aws(openrek_server, "rekognition", "create-project-version", "--project-arn", project_arn,
                    "--version-name", "v1", "--output-config", f"S3Bucket={bucket}",
                    "--training-data",
                    f"Assets=[{{GroundTruthManifest={{S3Object={{Bucket={bucket},Name=ds/train.manifest}}}}}}]",
                    "--testing-data", "AutoCreate=true", home=tmp_path)
    assert duplicate.returncode == 255
    assert "An error occurred (ResourceInUseException) when calling the CreateProjectVersion operation" in duplicate.stderr
