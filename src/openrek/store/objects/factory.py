"""Opening an object store from where it lives: `open_object_store(url)` picks the implementation by the
location's form: a directory (a plain path or a `file://` URL) or a remote S3-compatible store (`s3://`)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from urllib.request import url2pathname

from openrek.store.objects.directory import DirectoryObjectStore
from openrek.store.objects.interface import ObjectStore
from openrek.store.sealed_files import DataKeys

_ACCEPTED = ("a filesystem path (e.g. /var/lib/openrek/s3), a file:// URL (e.g. file:///var/lib/openrek/s3) or "
             "an s3:// URL (e.g. s3://openrek?endpoint_url=http://127.0.0.1:8333)")
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def open_object_store(url: str, *, keys: DataKeys | None = None) -> ObjectStore:
    """The object store at `url`: a plain filesystem path or a `file://` URL opens a `DirectoryObjectStore`
    there, an `s3://<prefix>?endpoint_url=...` URL an `S3ObjectStore` (see `remote`); either seals objects
    at rest when given `keys`. Any other scheme raises `ValueError`."""
    if not url:
        raise ValueError(f"No object store location was given: give {_ACCEPTED}.")
    m = _SCHEME_RE.match(url)
    if m is None:
        return DirectoryObjectStore(url, keys=keys)
    scheme = m.group(1).lower()
    if scheme == "s3":
        from openrek.store.objects.remote import S3ObjectStore  # botocore only when asked for

        return S3ObjectStore.from_url(url, keys=keys)
    if scheme != "file":
        raise ValueError(f"Unsupported object store location {url!r}: the scheme {scheme + '://'!r} is not "
                         f"supported; give {_ACCEPTED}.")
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"Unsupported object store location {url!r}: a file:// URL must name a local path "
                         f"(file:///path or file://localhost/path), not the host {parts.netloc!r}.")
    path = url2pathname(parts.path)
    if not path:
        raise ValueError(f"The object store location {url!r} names no path: give {_ACCEPTED}.")
    return DirectoryObjectStore(path, keys=keys)
