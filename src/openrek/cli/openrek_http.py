"""Signed HTTP calls to openrek's own endpoints (`/_openrek/…`), for the CLI commands that are not AWS ones.

Same endpoint, credentials, region, TLS, proxy and timeout resolution as ``openrek rekognition …``;
requests are SigV4-signed (service name ``rekognition``) unless ``--no-sign-request``. Errors come back as
``OpenrekHttpError`` worded like AWS CLI's service errors.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any
from urllib.parse import urlencode


class OpenrekHttpError(Exception):
    """The server refused the call; the message reads like AWS CLI's service errors."""


class OpenrekHttp:
    def __init__(self, g: argparse.Namespace, purpose: str) -> None:
        from botocore.httpsession import URLLib3Session
        from botocore.utils import get_environ_proxies

        from openrek import __version__
        from openrek.cli import client

        session = client.make_session(g)
        self.endpoint = client.resolve_endpoint(session, g.endpoint_url).rstrip("/")
        self.region = g.region or session.get_config_variable("region") or client.LOCAL_REGION
        self.credentials: Any = None
        if g.sign_request:
            from botocore.credentials import Credentials

            self.credentials = session.get_credentials() or Credentials(*client.local_credentials())
        # As botocore's endpoints: --no-verify-ssl / --ca-bundle / AWS_CA_BUNDLE, else REQUESTS_CA_BUNDLE.
        verify = g.verify_ssl if g.verify_ssl is not None else os.environ.get("REQUESTS_CA_BUNDLE", True)
        self.http = URLLib3Session(verify=verify, timeout=(g.connect_timeout, g.read_timeout),
                                   proxies=get_environ_proxies(self.endpoint))
        self.user_agent = f"openrek/{__version__} {purpose}"

    def send(self, method: str, path: str, operation: str, query: dict[str, str] | None = None,
             body: bytes = b"", stream: bool = False) -> Any:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        url = f"{self.endpoint}{path}" + (f"?{urlencode(query)}" if query else "")
        headers = {"User-Agent": self.user_agent}
        if body:
            headers["Content-Type"] = "application/json"
        request = AWSRequest(method=method, url=url, data=body, headers=headers)
        if self.credentials is not None:
            SigV4Auth(self.credentials.get_frozen_credentials(), "rekognition", self.region).add_auth(request)
        prepared = request.prepare()
        prepared.stream_output = stream
        response = self.http.send(prepared)
        if response.status_code != 200:
            raise OpenrekHttpError(error_message(response.content, response.status_code, operation))
        return response


def error_message(body: bytes, status: int, operation: str) -> str:
    try:
        error = json.loads(body)
        code, message = error["__type"], error["Message"]
    except (ValueError, KeyError, TypeError):
        text = body[:200].decode("utf-8", "replace").strip()
        return (f"The server answered HTTP {status} without an openrek error ({text or 'empty body'}); "
                "is the endpoint an openrek server?")
    return f"An error occurred ({code}) when calling the {operation} operation: {message}"
