"""Stock boto3 clients pointed at an openrek endpoint."""

from __future__ import annotations

import boto3
from botocore.config import Config

CREDENTIALS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "secret"}


def client(service: str, endpoint: str, region: str = "us-east-1"):  # type: ignore[no-untyped-def]
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"})
    return boto3.client(service, endpoint_url=endpoint, region_name=region, config=config, **CREDENTIALS)
