"""The stores a server opens, opened by a test: the sealed object store of a data dir, readable with its keys."""

from __future__ import annotations

from pathlib import Path

from openrek.store.objects import DirectoryObjectStore, ObjectStore
from openrek.stores import StoreLocation, Stores, open_stores
from tests.support.backends import database_url, object_store_url


def server_stores(data_dir: Path) -> Stores:
    """The metadata, KMS keys and object store of a server's data dir (as the server opens them)."""
    data_dir = Path(data_dir)
    return open_stores(StoreLocation(data_dir=str(data_dir), database_url=database_url(data_dir),
                                     objects_dir=object_store_url(data_dir)), migrate_schema=True)


def server_objects(data_dir: Path) -> ObjectStore:
    """A server's object store, able to read its sealed objects."""
    return server_stores(data_dir).objects


def sealed_store(root: Path, key_dir: Path) -> DirectoryObjectStore:
    """A sealing store at `root` whose master key and KMS database live in `key_dir`."""
    key_dir.mkdir(parents=True, exist_ok=True)
    objects = open_stores(StoreLocation(data_dir=str(key_dir), database_url=f"sqlite:///{key_dir / 'keys.db'}",
                                        objects_dir=str(root)), migrate_schema=True).objects
    assert isinstance(objects, DirectoryObjectStore)
    return objects
