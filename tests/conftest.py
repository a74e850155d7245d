"""Fixtures: a real openrek server on loopback (one per session, and fresh ones on demand), stock clients."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.backends import stop_ray_models
from tests.support.clients import client
from tests.support.server import ServerProcess

os.environ.setdefault("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "secret")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(autouse=True, scope="module")
def _no_models_left_on_ray() -> Iterator[None]:
    """On the Ray engine, a model a module left running (its server gone) does not serve on into the next."""
    yield
    stop_ray_models()


@pytest.fixture(scope="session")
def server_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("openrek-session") / "data"
    with ServerProcess(data_dir) as server:
        yield server


@pytest.fixture(scope="session")
def openrek_server(server_process: ServerProcess) -> str:
    """The endpoint URL of the session's openrek server."""
    return server_process.endpoint


@pytest.fixture
def rekognition(openrek_server: str):  # type: ignore[no-untyped-def]
    return client("rekognition", openrek_server)


@pytest.fixture
def s3(openrek_server: str):  # type: ignore[no-untyped-def]
    return client("s3", openrek_server)


@pytest.fixture
def unique() -> str:
    """A short unique suffix, so tests sharing the session server never collide."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of its own (for restart tests); started by the test."""
    server = ServerProcess(tmp_path / "data")
    yield server
    if server.proc is not None and server.proc.poll() is None:
        server.proc.kill()
        server.proc.wait(timeout=10)
