"""Who may sign requests: accounts, their root credentials, and the lookup the verifier uses.

On start the server makes sure its first account has root credentials: those of
`OPENREK_ROOT_ACCESS_KEY_ID` / `OPENREK_ROOT_SECRET_ACCESS_KEY` when set (the MinIO habit), else the
ones it generated on an earlier start, else new ones — written to `<data-dir>/credentials` (mode 0600,
AWS credentials-file format, profile `openrek`), where the `openrek` CLI and `aws --profile openrek`
find them.
"""

from __future__ import annotations

import os
import secrets
import string
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openrek.store.errors import DuplicateError
from openrek.store.metadata import MetadataStore
from openrek.store.schema import AccessKeyRow

PROFILE = "openrek"
CREDENTIALS_FILE = "credentials"
ROOT_ACCOUNT_NAME = "root"


@dataclass(frozen=True)
class Caller:
    """An authenticated principal: the account it acts in, its key, and its user (None: the root)."""

    account: str
    access_key: str
    user_name: str | None = None
    signature: Any = None  # the request's VerifiedSignature (streaming uploads chain their chunks on it)

    @property
    def is_root(self) -> bool:
        return self.user_name is None


def new_key_pair() -> tuple[str, str]:
    """An access key id (AKIA + 16 upper-case letters and digits) and a 40-character secret."""
    alphabet = string.ascii_uppercase + string.digits
    key = "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16))
    secret_alphabet = string.ascii_letters + string.digits + "+/"
    return key, "".join(secrets.choice(secret_alphabet) for _ in range(40))


def write_credentials_file(path: Path, access_key: str, secret: str) -> None:
    """`[openrek]` with the keys, mode 0600, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"[{PROFILE}]\naws_access_key_id = {access_key}\naws_secret_access_key = {secret}\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


class Identities:
    def __init__(self, metadata: MetadataStore) -> None:
        self.metadata = metadata

    def ensure_root(self, account_id: str, data_dir: Path, env: dict[str, str] | None = None) -> tuple[str, Path | None]:
        """The root access key id of the first account; the credentials file's path if one was written."""
        env = dict(os.environ if env is None else env)
        now = int(time.time() * 1000)
        if self.metadata.get_account(account_id) is None:
            try:
                self.metadata.add_account(account_id, ROOT_ACCOUNT_NAME, now)
            except DuplicateError:
                pass
        key, secret = env.get("OPENREK_ROOT_ACCESS_KEY_ID"), env.get("OPENREK_ROOT_SECRET_ACCESS_KEY")
        if key and secret:
            self.metadata.put_access_key(AccessKeyRow(access_key_id=key, secret=secret, account_id=account_id,
                                                      user_name=None, status="Active", created_ms=now))
            return key, None
        existing = [k for k in self.metadata.root_keys(account_id) if k.status == "Active"]
        path = data_dir / CREDENTIALS_FILE
        if existing and path.exists():
            return existing[0].access_key_id, path
        if existing:
            write_credentials_file(path, existing[0].access_key_id, existing[0].secret)
            return existing[0].access_key_id, path
        key, secret = new_key_pair()
        self.metadata.put_access_key(AccessKeyRow(access_key_id=key, secret=secret, account_id=account_id,
                                                  user_name=None, status="Active", created_ms=now))
        write_credentials_file(path, key, secret)
        return key, path

    def create_account(self, name: str) -> tuple[str, str, str]:
        """A further account with its own id and root keys: (account id, access key id, secret).

        Raises DuplicateError when an account of that name exists.
        """
        now = int(time.time() * 1000)
        for _ in range(20):
            account_id = "".join(secrets.choice(string.digits) for _ in range(12))
            if self.metadata.get_account(account_id) is None:
                break
        if self.metadata.find_account(name) is not None:
            raise DuplicateError(name)
        self.metadata.add_account(account_id, name, now)
        key, secret = new_key_pair()
        self.metadata.put_access_key(AccessKeyRow(access_key_id=key, secret=secret, account_id=account_id,
                                                  user_name=None, status="Active", created_ms=now))
        return account_id, key, secret

    def secret_for(self, access_key: str) -> str | None:
        row = self.metadata.get_access_key(access_key)
        return row.secret if row is not None and row.status == "Active" else None

    def identity_policies_of(self, account_id: str, user_name: str) -> list[tuple[str, str]]:
        """(name, JSON document) of a user's identity-based policies: inline ones by name, then the managed
        policies attached to it by ARN — feed them to `policy_evaluation.Policy.parse(…, PolicyKind.IDENTITY)`."""
        return self.metadata.identity_policies_of(account_id, user_name)

    def caller(self, access_key: str, signature: Any = None) -> Caller:
        row = self.metadata.get_access_key(access_key)
        assert row is not None
        return Caller(account=row.account_id, access_key=access_key, user_name=row.user_name, signature=signature)
