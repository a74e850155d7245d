"""A real uvicorn server on a free loopback port, serving the S3 endpoint over a DirectoryObjectStore.

Self-contained for now; the shared server fixture will replace it.
"""

from __future__ import annotations

import ipaddress
import itertools
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
import uvicorn
from botocore.config import Config
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from openrek.api.s3.handler import handle_s3
from openrek.store.objects import DirectoryObjectStore
from tests.support.stores import sealed_store


@dataclass
class S3Server:
    endpoint: str
    root: Path
    store: DirectoryObjectStore


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app(store: DirectoryObjectStore) -> Starlette:
    async def endpoint(request: Request) -> Response:
        return await handle_s3(request, store, uuid.uuid4().hex[:16].upper())

    methods = ["GET", "PUT", "POST", "DELETE", "HEAD"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])


@contextmanager
def _serve(store: DirectoryObjectStore, root: Path, certs: tuple[Path, Path] | None = None) -> Iterator[S3Server]:
    port = _free_port()
    ssl = {"ssl_certfile": str(certs[0]), "ssl_keyfile": str(certs[1])} if certs else {}
    config = uvicorn.Config(_app(store), host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                            timeout_graceful_shutdown=1, **ssl)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the S3 test server did not start")
        time.sleep(0.02)
    scheme = "https" if certs else "http"
    try:
        yield S3Server(endpoint=f"{scheme}://127.0.0.1:{port}", root=root, store=store)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    root = tmp_path_factory.mktemp("objects")
    with _serve(sealed_store(root, tmp_path_factory.mktemp("keys")), root) as server:
        yield server


def _self_signed_cert(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="session")
def s3_tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """The same endpoint over HTTPS, where botocore sends aws-chunked bodies with trailing checksums."""
    root = tmp_path_factory.mktemp("tls-objects")
    certs = _self_signed_cert(tmp_path_factory.mktemp("certs"))
    with _serve(sealed_store(root, tmp_path_factory.mktemp("tls-keys")), root, certs) as server:
        yield server


@pytest.fixture(scope="session")
def s3_client(s3_server: S3Server):
    return boto3.client(
        "s3", endpoint_url=s3_server.endpoint, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


_counter = itertools.count()


@pytest.fixture
def bucket(s3_client) -> str:
    name = f"test-bucket-{next(_counter)}-{uuid.uuid4().hex[:8]}"
    s3_client.create_bucket(Bucket=name)
    return name
