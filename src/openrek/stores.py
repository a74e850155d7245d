"""Opens the stores one process needs (metadata, KMS keys, the sealed object store) from where they live.

The server and each training worker process open them the same way, so both seal and unseal objects with
the same master key and KMS keys. `StoreLocation` pickles, to cross into a worker process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openrek.security.kms_keys import KmsKeys
from openrek.security.master_key import load_master_key
from openrek.security.object_keys import ObjectKeys
from openrek.store.database import migrate, open_engine
from openrek.store.metadata import MetadataStore
from openrek.store.objects import ObjectStore, open_object_store


@dataclass(frozen=True)
class StoreLocation:
    data_dir: str  # holds master.key unless OPENREK_MASTER_KEY(_FILE) names another
    database_url: str
    objects_dir: str  # a directory, or any location `open_object_store` takes (s3://...)


@dataclass
class Stores:
    metadata: MetadataStore
    kms_keys: KmsKeys
    objects: ObjectStore


def open_stores(location: StoreLocation, *, migrate_schema: bool = False) -> Stores:
    """The stores at `location`; `migrate_schema` brings the database to the newest schema first (the
    server does; a worker relies on it)."""
    Path(location.data_dir).mkdir(parents=True, exist_ok=True)
    engine = open_engine(location.database_url)
    if migrate_schema:
        migrate(engine)
    metadata = MetadataStore(engine)
    master_key = load_master_key(Path(location.data_dir))
    kms_keys = KmsKeys(metadata, master_key)
    objects = open_object_store(location.objects_dir, keys=ObjectKeys(kms_keys, master_key))
    return Stores(metadata=metadata, kms_keys=kms_keys, objects=objects)
