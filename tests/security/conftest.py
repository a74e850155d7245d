"""Fixtures for the KMS core: a real SQLite file and master key file in a data dir, and a way to "restart"
(new engine, store, master key and service over the same files)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine

from openrek.security.kms_keys import KmsKeys
from openrek.security.master_key import load_master_key
from openrek.store.database import migrate, open_engine
from openrek.store.metadata import MetadataStore

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
REGION = "us-east-1"
OTHER_REGION = "eu-west-1"


class Clock:
    """A settable clock, so deletion dates can come without waiting a week."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance_days(self, days: float) -> None:
        self.now += days * 86_400


@dataclass
class KmsHarness:
    data_dir: Path
    clock: Clock = field(default_factory=Clock)
    engines: list[Engine] = field(default_factory=list)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "openrek.db"

    def start(self, env: dict[str, str] | None = None) -> KmsKeys:
        """A KmsKeys as a freshly started server would build it over the data dir's files."""
        engine = open_engine(f"sqlite:///{self.db_path}")
        migrate(engine)
        self.engines.append(engine)
        return KmsKeys(MetadataStore(engine), load_master_key(self.data_dir, env={} if env is None else env),
                       clock=self.clock)

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[KmsHarness]:
    h = KmsHarness(tmp_path / "data")
    yield h
    h.close()


@pytest.fixture
def kms(harness: KmsHarness) -> KmsKeys:
    return harness.start()
