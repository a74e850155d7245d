"""The server's master key: the one secret that wraps every KMS key's material, kept apart from the database.

Read from `OPENREK_MASTER_KEY` (32 bytes, base64) or the file `OPENREK_MASTER_KEY_FILE`, else generated
once into `<data-dir>/master.key` (mode 0600, written atomically). Never logged, never in a repr.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)

ENV_KEY = "OPENREK_MASTER_KEY"
ENV_KEY_FILE = "OPENREK_MASTER_KEY_FILE"
MASTER_KEY_FILE = "master.key"
KEY_BYTES = 32
NONCE_BYTES = 12
_WRAP_VERSION = 1
_WRAP_AAD = b"openrek/kms-key-material/v1\x00"


class MasterKeyError(Exception):
    """The master key is missing, malformed, or not the one that wrapped a blob; the message says which."""


class MasterKey:
    """AES-256-GCM wrapping of key material, each blob bound to its key id by associated data."""

    __slots__ = ("_aead", "_mac_root", "source")

    def __init__(self, key: bytes, source: str = "memory") -> None:
        if len(key) != KEY_BYTES:
            raise MasterKeyError(f"the master key must be {KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)
        # A separate key for MACs (grant tokens), so the wrapping key is used for one thing only.
        self._mac_root = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                              info=b"openrek/master-key/mac/v1").derive(key)
        self.source = source  # where it came from (an env var's name or a path), never the key itself

    def __repr__(self) -> str:
        return f"MasterKey(source={self.source!r})"

    def wrap(self, key_id: str, material: bytes) -> bytes:
        """version (1 byte) | nonce (12) | AES-256-GCM(material) with its tag; AAD names `key_id`."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        header = bytes([_WRAP_VERSION])
        return header + nonce + self._aead.encrypt(nonce, material, _WRAP_AAD + header + key_id.encode())

    def unwrap(self, key_id: str, blob: bytes) -> bytes:
        """The material `wrap(key_id, …)` sealed; MasterKeyError for another key id, a tampered blob or key."""
        if len(blob) < 1 + NONCE_BYTES + 16 or blob[0] != _WRAP_VERSION:
            raise MasterKeyError(f"the wrapped key material of {key_id} is malformed")
        nonce, sealed = blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, sealed, _WRAP_AAD + blob[:1] + key_id.encode())
        except InvalidTag:
            raise MasterKeyError(
                f"the key material of {key_id} cannot be unwrapped: it was wrapped by another master key "
                f"(did {ENV_KEY}, {ENV_KEY_FILE} or {MASTER_KEY_FILE} change?) or it was altered"
            ) from None

    def mac(self, purpose: str, data: bytes) -> bytes:
        """HMAC-SHA256 of `data` under a subkey for `purpose` (e.g. "grant-token")."""
        subkey = hmac.new(self._mac_root, purpose.encode(), hashlib.sha256).digest()
        return hmac.new(subkey, data, hashlib.sha256).digest()


def _decode(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise MasterKeyError(f"{where} must hold {KEY_BYTES} random bytes in base64 "
                             "(make one with: openssl rand -base64 32)")
    return key


def _read_file(path: Path, where: str) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MasterKeyError(f"{where} names {path}, which does not exist") from None
    except OSError as exc:
        raise MasterKeyError(f"{where} {path} cannot be read: {exc.strerror}") from None
    if len(data) == KEY_BYTES:  # raw bytes (base64 of 32 bytes is 44 characters, never 32)
        return data
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    return _decode(text, f"{where} {path}")


def _generate(path: Path) -> bytes:
    """Writes a new key to `path` (0600 from the start) unless one appears there first; returns the key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64encode(key) + b"\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # atomic, and never replaces a key another process wrote meanwhile
        except FileExistsError:
            return _read_file(path, "the master key file")
    finally:
        tmp.unlink(missing_ok=True)
    return key


def load_master_key(data_dir: Path, env: Mapping[str, str] | None = None) -> MasterKey:
    """The master key from the environment, its file, or `<data-dir>/master.key` (made on first use)."""
    env = os.environ if env is None else env
    if env.get(ENV_KEY):
        return MasterKey(_decode(env[ENV_KEY], ENV_KEY), source=ENV_KEY)
    if env.get(ENV_KEY_FILE):
        path = Path(env[ENV_KEY_FILE]).expanduser()
        return MasterKey(_read_file(path, ENV_KEY_FILE), source=str(path))
    path = data_dir / MASTER_KEY_FILE
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            log.warning("%s is readable by others (mode %o); restrict it with: chmod 600 %s", path, mode, path)
        return MasterKey(_read_file(path, "the master key file"), source=str(path))
    key = _generate(path)
    log.info("generated a new master key in %s; back it up: without it no KMS key can be used", path)
    return MasterKey(key, source=str(path))


def master_key_for_workers(data_dir: Path, env: Mapping[str, str] | None = None) -> str:
    """The master key `load_master_key` would load, as OPENREK_MASTER_KEY takes it (base64): for training
    workers on other machines (a Ray cluster), which cannot read this machine's key file. It is handed to
    them in their environment only, never logged or stored."""
    env = os.environ if env is None else env
    if env.get(ENV_KEY):
        return base64.b64encode(_decode(env[ENV_KEY], ENV_KEY)).decode()
    path = Path(env[ENV_KEY_FILE]).expanduser() if env.get(ENV_KEY_FILE) else data_dir / MASTER_KEY_FILE
    return base64.b64encode(_read_file(path, "the master key file")).decode()
