"""Stock boto3 clients pointed at an openrek endpoint, and hand-built HTTP requests signed like theirs."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

import boto3
import requests
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from tests.support.server import ROOT_KEY, ROOT_SECRET

CREDENTIALS = {"aws_access_key_id": ROOT_KEY, "aws_secret_access_key": ROOT_SECRET}  # the test servers' root


def client(service: str, endpoint: str, region: str = "us-east-1"):  # type: ignore[no-untyped-def]
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"})
    return boto3.client(service, endpoint_url=endpoint, region_name=region, config=config, **CREDENTIALS)


def signed(method: str, url: str, *, service: str = "rekognition", data: bytes = b"",
           headers: Mapping[str, str] | None = None, params: Mapping[str, str] | None = None,
           key: str = ROOT_KEY, secret: str = ROOT_SECRET, region: str = "us-east-1",
           timeout: float = 30) -> requests.Response:
    """`requests.request`, SigV4-signed for `service` (S3's flavour for "s3") with the test servers' root keys:
    for the raw requests (odd bodies, headers, routes) that a stock client would not send."""
    if params:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
    url = requests.Request(method, url).prepare().url or url  # signed as sent (requests requotes the URL)
    request = AWSRequest(method=method, url=url, data=data, headers=dict(headers or {}))
    (S3SigV4Auth if service == "s3" else SigV4Auth)(Credentials(key, secret), service, region).add_auth(request)
    return requests.request(method, url, data=data, headers=dict(request.headers), timeout=timeout)
