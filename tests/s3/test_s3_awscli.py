"""The S3 endpoint through the stock `aws s3` commands (awscli v1): mb, cp --recursive, ls, sync, rb --force."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.s3.conftest import S3Server

AWS = Path(sys.executable).parent / "aws"

pytestmark = pytest.mark.skipif(not AWS.exists(), reason="awscli is not installed in this environment")


def aws(server: S3Server, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_MAX_ATTEMPTS": "1"}
    result = subprocess.run([str(AWS), "--endpoint-url", server.endpoint, *args], env=env, capture_output=True,
                            text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_aws_s3_round_trip(s3_server: S3Server, tmp_path: Path) -> None:
    source = tmp_path / "source"
    files = {
        "manifest.json": b'{"source-ref": "s3://cli-bucket/images/a.jpg"}\n',
        "images/a.jpg": os.urandom(1000),
        "images/b c.jpg": os.urandom(70_000),
        "images/nested/deep/ü.png": b"",
        "big/large.bin": os.urandom(11 * 1024 * 1024 + 7),  # above awscli's 8 MB multipart threshold
    }
    for name, data in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)

    aws(s3_server, "s3", "mb", "s3://cli-bucket")
    assert "cli-bucket" in aws(s3_server, "s3", "ls").stdout
    failed = aws(s3_server, "s3", "mb", "s3://cli-bucket", check=False)
    assert failed.returncode != 0 and "BucketAlreadyOwnedByYou" in failed.stderr

    aws(s3_server, "s3", "cp", "--recursive", str(source), "s3://cli-bucket/data/")
    top = aws(s3_server, "s3", "ls", "s3://cli-bucket/data/").stdout
    assert "PRE images/" in top and "PRE big/" in top and "manifest.json" in top
    listing = aws(s3_server, "s3", "ls", "--recursive", "s3://cli-bucket").stdout
    for name, data in files.items():
        assert f"{len(data)} data/{name}" in " ".join(listing.split()), name

    back = tmp_path / "back"
    aws(s3_server, "s3", "cp", "--recursive", "s3://cli-bucket/data/", str(back))
    assert _tree(back) == _tree(source)
    single = tmp_path / "single.bin"
    aws(s3_server, "s3", "cp", "s3://cli-bucket/data/big/large.bin", str(single))
    assert single.read_bytes() == files["big/large.bin"]

    # sync uploads only what changed, and --delete removes what is gone locally.
    (source / "images" / "a.jpg").write_bytes(b"changed and longer")
    (source / "manifest.json").unlink()
    out = aws(s3_server, "s3", "sync", "--delete", str(source), "s3://cli-bucket/data/").stdout
    assert "upload:" in out and "images/a.jpg" in out and "delete:" in out and "manifest.json" in out
    assert "large.bin" not in out
    mirror = tmp_path / "mirror"
    aws(s3_server, "s3", "sync", "s3://cli-bucket/data/", str(mirror))
    assert _tree(mirror) == _tree(source)

    failed = aws(s3_server, "s3", "rb", "s3://cli-bucket", check=False)
    assert failed.returncode != 0 and "BucketNotEmpty" in failed.stderr
    aws(s3_server, "s3", "rb", "--force", "s3://cli-bucket")
    assert "cli-bucket" not in aws(s3_server, "s3", "ls").stdout
    missing = aws(s3_server, "s3", "ls", "s3://cli-bucket", check=False)
    assert missing.returncode != 0 and "NoSuchBucket" in missing.stderr


def test_aws_s3api_errors(s3_server: S3Server) -> None:
    result = aws(s3_server, "s3api", "get-object", "--bucket", "no-such-cli-bucket", "--key", "k", os.devnull,
                 check=False)
    assert result.returncode != 0 and "NoSuchBucket" in result.stderr
