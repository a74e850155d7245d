"""Test helpers for servers that verify signatures (the default): stock boto3 clients under given keys, and a
further account made through the server's own endpoint, signed by its root."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from tests.support.server import ServerProcess


def keyed_client(service: str, endpoint: str, key: str, secret: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))


@contextmanager
def secured_server(data_dir: Path, root_key: str, root_secret: str) -> Iterator[str]:
    """A server as started by default (signatures verified) whose root keys are `root_key`/`root_secret`;
    yields its endpoint."""
    server = ServerProcess(data_dir, env={"OPENREK_ROOT_ACCESS_KEY_ID": root_key,
                                          "OPENREK_ROOT_SECRET_ACCESS_KEY": root_secret})
    with server:
        yield server.endpoint


def create_account(endpoint: str, root_key: str, root_secret: str, name: str) -> dict[str, str]:
    """{"AccountId", "Name", "AccessKeyId", "SecretAccessKey"} of a new account (POST /_openrek/accounts)."""
    body = json.dumps({"Name": name}).encode()
    signed = AWSRequest(method="POST", url=f"{endpoint}/_openrek/accounts", data=body,
                        headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(root_key, root_secret), "rekognition", "us-east-1").add_auth(signed)
    answer = requests.post(f"{endpoint}/_openrek/accounts", data=body, headers=dict(signed.headers), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()
