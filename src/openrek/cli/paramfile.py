"""Parameter values read from files and URLs: ``file://`` (text), ``fileb://`` (bytes), ``http(s)://``.

As in AWS CLI v1, a value that starts with one of these prefixes is replaced by what it points at.
"""

from __future__ import annotations

import os


class ResourceLoadingError(Exception):
    """A ``file://``/``fileb://``/URL value could not be read."""


def _read_file(prefix: str, value: str, binary: bool) -> str | bytes:
    path = os.path.expandvars(os.path.expanduser(value[len(prefix) :]))
    try:
        if binary:
            with open(path, "rb") as f:
                return f.read()
        with open(path, encoding=os.environ.get("AWS_CLI_FILE_ENCODING") or None) as f:
            return f.read()
    except UnicodeDecodeError:
        raise ResourceLoadingError(
            f"Unable to load paramfile ({path}), text contents could not be decoded.  If this is a "
            "binary file, please use the fileb:// prefix instead of the file:// prefix."
        ) from None
    except OSError as e:
        raise ResourceLoadingError(f"Unable to load paramfile {value}: {e}") from None


def _read_url(value: str) -> str:
    import urllib.error
    import urllib.request

    try:
        try:
            with urllib.request.urlopen(value) as resp:  # noqa: S310 - the user asked for this URL
                status = resp.status
                body = resp.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, b""
        if status != 200:
            raise ResourceLoadingError(f"received non 200 status code of {status}")
        return body.decode("utf-8")
    except Exception as e:
        raise ResourceLoadingError(f"Unable to retrieve {value}: {e}") from None


def load_local(value: object) -> str | bytes | None:
    """The contents behind a ``file://`` or ``fileb://`` value, else ``None``."""
    if isinstance(value, str):
        if value.startswith("file://"):
            return _read_file("file://", value, binary=False)
        if value.startswith("fileb://"):
            return _read_file("fileb://", value, binary=True)
    return None


def load(value: object, follow_urls: bool = True) -> str | bytes | None:
    """Like :func:`load_local`, and also fetches ``http://``/``https://`` values when allowed."""
    local = load_local(value)
    if local is not None:
        return local
    if follow_urls and isinstance(value, str) and value.startswith(("http://", "https://")):
        return _read_url(value)
    return None
