"""`open_object_store`: a plain path or a file:// URL opens a DirectoryObjectStore; other schemes are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from openrek.store.objects import DirectoryObjectStore, ObjectStore, open_object_store


def test_a_plain_path_opens_a_directory_store(tmp_path: Path) -> None:
    store = open_object_store(str(tmp_path / "root"))
    assert isinstance(store, DirectoryObjectStore)
    assert store.root == tmp_path / "root"
    assert (tmp_path / "root" / ".meta").is_dir()


def test_a_file_url_opens_a_directory_store_that_keeps_objects(tmp_path: Path) -> None:
    root = tmp_path / "with space"
    store = open_object_store(root.as_uri())
    assert isinstance(store, ObjectStore) and isinstance(store, DirectoryObjectStore)
    assert store.root == root
    store.create_bucket("bucket")
    store.put_object("bucket", "a/b.txt", b"hello", content_type="text/plain")
    assert store.get_bytes("bucket", "a/b.txt") == b"hello"
    # Another store opened on the same URL sees the object.
    again = open_object_store(root.as_uri())
    assert again.head_object("bucket", "a/b.txt").content_type == "text/plain"
    assert again.get_bytes("bucket", "a/b.txt") == b"hello"


def test_a_file_url_naming_localhost_is_local(tmp_path: Path) -> None:
    store = open_object_store(f"file://localhost{tmp_path / 'root'}")
    assert isinstance(store, DirectoryObjectStore) and store.root == tmp_path / "root"


@pytest.mark.parametrize("url", ["http://example.com/objects", "gs://bucket"])
def test_an_unknown_scheme_is_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"file://") as info:
        open_object_store(url)
    assert url in str(info.value)
    assert "filesystem path" in str(info.value) and "s3://" in str(info.value)


def test_an_s3_location_with_a_path_is_refused_before_anything_is_reached() -> None:
    """s3:// names a bucket prefix for openrek's buckets, not one bucket and a key prefix."""
    with pytest.raises(ValueError, match="does not name a bucket prefix") as info:
        open_object_store("s3://bucket/prefix")
    assert "s3://bucket/prefix" in str(info.value)


def test_a_file_url_on_another_host_and_an_empty_location_are_refused() -> None:
    with pytest.raises(ValueError, match="local path"):
        open_object_store("file://otherhost/srv/objects")
    with pytest.raises(ValueError, match="No object store location"):
        open_object_store("")
