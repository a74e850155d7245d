"""KMS keys with AWS's semantics and errors: lifecycle, aliases, grants, Encrypt/Decrypt and data keys.

No HTTP: the JSON 1.1 wire layer calls these methods with the request's members in snake_case
(`KeyId` → `key_id`) and serializes the dicts they return, which are in the operations' output shapes.
Symmetric ENCRYPT_DECRYPT keys only; each key's 256-bit material is stored wrapped by the master key.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from openrek import json_input
from openrek.security.kms_errors import (
    AlreadyExistsException,
    DisabledException,
    DryRunOperationException,
    IncorrectKeyException,
    InvalidAliasNameException,
    InvalidArnException,
    InvalidCiphertextException,
    InvalidGrantIdException,
    InvalidGrantTokenException,
    InvalidKeyUsageException,
    InvalidMarkerException,
    KMSInternalException,
    KMSInvalidStateException,
    MalformedPolicyDocumentException,
    NotAuthorizedException,
    NotFoundException,
    TagException,
    UnsupportedOperationException,
    ValidationException,
)
from openrek.security.master_key import MasterKey, MasterKeyError
from openrek.store.errors import DuplicateError
from openrek.store.metadata import MetadataStore
from openrek.store.schema import KmsAliasRow, KmsGrantRow, KmsKeyRow

ENABLED, DISABLED, PENDING_DELETION = "Enabled", "Disabled", "PendingDeletion"
ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"
SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"
DATA_KEY_SPECS = {"AES_256": 32, "AES_128": 16}
MIN_WINDOW_DAYS, MAX_WINDOW_DAYS, DEFAULT_WINDOW_DAYS = 7, 30, 30
MAX_PLAINTEXT = 4096
MAX_CIPHERTEXT = 6144
MAX_GRANT_TOKENS = 10
ALIAS_PREFIX = "alias/"
RESERVED_ALIAS_PREFIX = "alias/aws/"
ALIAS_DOCS = "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"

# Every operation of the model's GrantOperation enum, and those a symmetric encryption key accepts.
GRANT_OPERATIONS = (
    "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo",
    "Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey", "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac", "DeriveSharedSecret", "Encapsulate",
    "Decapsulate",
)
SYMMETRIC_GRANT_OPERATIONS = frozenset({
    "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo",
    "CreateGrant", "RetireGrant", "DescribeKey", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
})

_KEY_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_KMS_ARN = re.compile(r"arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):(key|alias)/(.+)")
_ALIAS_PATTERN = re.compile(r"[a-zA-Z0-9:/_-]+")
_PRINCIPAL_PATTERN = re.compile(r"[\w+=,.@:/-]+")
_GRANT_NAME_PATTERN = re.compile(r"[a-zA-Z0-9:/_-]+")
_GRANT_ID = re.compile(r"[0-9a-f]{64}")

# Ciphertext blob: version | key id (16 bytes, the UUID) | nonce (12) | AES-256-GCM ciphertext and tag.
_CT_VERSION = 1
_CT_HEADER = 1 + 16
_NONCE = 12
_TAG = 16
_CT_AAD = b"openrek/kms-ciphertext/v1\x00"
_TOKEN_VERSION = 1
_TOKEN_PURPOSE = "kms-grant-token"

_DEFAULT_POLICY = """{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::%s:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}"""


def default_key_policy(account: str) -> str:
    """The key policy AWS writes when CreateKey gets none: the account's root may do kms:*."""
    return _DEFAULT_POLICY % account


def key_arn(region: str, account: str, key_id: str) -> str:
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"


def key_account_region(key_arn: str) -> tuple[str, str]:
    """(account, region) of a KMS key ARN; InvalidArnException for anything else."""
    match = _KMS_ARN.fullmatch(key_arn or "")
    if match is None or match.group(4) != "key":
        raise InvalidArnException(f"{key_arn!r} is not a KMS key ARN")
    return match.group(3), match.group(2)


def alias_arn(region: str, account: str, alias_name: str) -> str:
    return f"arn:aws:kms:{region}:{account}:{alias_name}"


def _ts(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000.0, tz=UTC)


@dataclass(frozen=True)
class KeyRecord:
    """One KMS key as stored (its material still wrapped)."""

    key_id: str
    arn: str
    account: str
    region: str
    description: str
    state: str
    created_ms: int
    deletion_ms: int | None
    pending_window_days: int | None
    key_usage: str
    key_spec: str
    origin: str
    policy: str
    wrapped_material: bytes = field(repr=False)

    @property
    def enabled(self) -> bool:
        return self.state == ENABLED

    def metadata(self) -> dict[str, Any]:
        """The key in KeyMetadata's shape."""
        out: dict[str, Any] = {
            "AWSAccountId": self.account, "KeyId": self.key_id, "Arn": self.arn,
            "CreationDate": _ts(self.created_ms), "Enabled": self.enabled, "Description": self.description,
            "KeyUsage": self.key_usage, "KeyState": self.state, "Origin": self.origin, "KeyManager": "CUSTOMER",
            "CustomerMasterKeySpec": self.key_spec, "KeySpec": self.key_spec,
            "EncryptionAlgorithms": [SYMMETRIC_DEFAULT], "MultiRegion": False,
        }
        if self.state == PENDING_DELETION and self.deletion_ms is not None:
            out["DeletionDate"] = _ts(self.deletion_ms)
            out["PendingDeletionWindowInDays"] = self.pending_window_days
        return out

    @classmethod
    def from_row(cls, row: Any) -> KeyRecord:
        return cls(key_id=row.key_id, arn=row.arn, account=row.account, region=row.region,
                   description=row.description, state=row.state, created_ms=row.created_ms,
                   deletion_ms=row.deletion_ms, pending_window_days=row.pending_window_days,
                   key_usage=row.key_usage, key_spec=row.key_spec, origin=row.origin, policy=row.policy,
                   wrapped_material=bytes(row.wrapped_material))


# -- input checks (the wire layer checks the model's constraints too; these keep direct callers honest) --
def _length(name: str, value: Any, low: int, high: int) -> None:
    if len(value) < low:
        raise ValidationException(f"1 validation error detected: Value at '{name}' failed to satisfy "
                                  f"constraint: Member must have length greater than or equal to {low}")
    if len(value) > high:
        raise ValidationException(f"1 validation error detected: Value at '{name}' failed to satisfy "
                                  f"constraint: Member must have length less than or equal to {high}")


def _pattern(name: str, value: str, pattern: re.Pattern[str]) -> None:
    if not pattern.fullmatch(value):
        raise ValidationException(f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy "
                                  f"constraint: Member must satisfy regular expression pattern: "
                                  f"^{pattern.pattern}$")


def _enum(name: str, value: str, allowed: Iterable[str]) -> None:
    allowed = list(allowed)
    if value not in allowed:
        raise ValidationException(f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy "
                                  f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]")


def _bytes(name: str, value: Any, high: int) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise ValidationException(f"{name} must be bytes")
    value = bytes(value)
    _length(name, value, 1, high)
    return value


def _context(context: Mapping[str, str] | None) -> dict[str, str]:
    if context is None:
        return {}
    if not isinstance(context, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in context.items()):
        raise ValidationException("EncryptionContext must map strings to strings")
    return dict(context)


def _canonical_context(context: Mapping[str, str]) -> bytes:
    return json.dumps(dict(sorted(context.items())), separators=(",", ":"), ensure_ascii=False).encode()


def _limit(limit: int | None, default: int, maximum: int) -> int:
    if limit is None:
        return default
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise ValidationException(f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
                                  f"constraint: Member must have value between 1 and {maximum}")
    return limit


def _encode_marker(kind: str, value: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def _decode_marker(kind: str, marker: str | None) -> str | None:
    if marker is None:
        return None
    try:
        text = base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4)).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        text = ""
    prefix, _, value = text.partition(":")
    if prefix != kind or not value:
        raise InvalidMarkerException("The marker is not valid: pass the NextMarker of the previous response")
    return value


def _page(items: list[Any], limit: int, kind: str, sort_key: Callable[[Any], str]) -> dict[str, Any]:
    """Truncated and NextMarker for `items`, fetched with limit + 1 to tell whether more follow."""
    if len(items) > limit:
        return {"Truncated": True, "NextMarker": _encode_marker(kind, sort_key(items[limit - 1]))}
    return {"Truncated": False}


def _check_alias_name(name: str, action: str) -> None:
    if not isinstance(name, str):
        raise ValidationException("AliasName must be a string")
    _length("aliasName", name, 1, 256)
    _pattern("aliasName", name, _ALIAS_PATTERN)
    if not name.startswith(ALIAS_PREFIX):
        raise ValidationException(f'Alias must start with the prefix "{ALIAS_PREFIX}". Please see {ALIAS_DOCS}')
    if name.startswith(RESERVED_ALIAS_PREFIX):
        raise NotAuthorizedException(f"Cannot {action} alias with prefix '{RESERVED_ALIAS_PREFIX}'")
    if name == ALIAS_PREFIX or ":" in name:
        raise InvalidAliasNameException(
            f"{name} is not a valid alias name: after 'alias/' use letters, digits, '/', '_' and '-'")


class KmsKeys:
    """The KMS subset: one method per operation; `account` and `region` are the caller's."""

    def __init__(self, metadata: MetadataStore, master_key: MasterKey,
                 clock: Callable[[], float] = time.time) -> None:
        self.metadata = metadata
        self.master_key = master_key
        self._clock = clock

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- key resolution ----------------------------------------------------------------------
    def _get(self, key_id: str) -> KeyRecord | None:
        """The key, or None if there is none (or its deletion date has come: it is deleted now)."""
        row = self.metadata.get_kms_key(key_id)
        if row is None:
            return None
        now = self._now_ms()
        if row.state == PENDING_DELETION and row.deletion_ms is not None and row.deletion_ms <= now:
            self.metadata.delete_kms_key(key_id, only_if_due_at=now)
            return None
        return KeyRecord.from_row(row)

    def _by_id(self, account: str, region: str, key_id: str) -> KeyRecord:
        if not _KEY_ID.fullmatch(key_id):
            raise NotFoundException(f"Invalid keyId '{key_id}'")
        record = self._get(key_id)
        if record is None or record.account != account or record.region != region:
            raise NotFoundException(f"Key '{key_arn(region, account, key_id)}' does not exist")
        return record

    def _by_alias(self, account: str, region: str, name: str) -> KeyRecord:
        row = self.metadata.get_kms_alias(account, region, name)
        record = self._get(row.target_key_id) if row is not None else None
        if record is None:
            raise NotFoundException(f"Alias {alias_arn(region, account, name)} is not found.")
        return record

    def resolve_key(self, account: str, region: str, key_id: str) -> KeyRecord:
        """The key named by a key id, key ARN, alias name (`alias/…`) or alias ARN, in the caller's account
        and region; NotFoundException (InvalidArnException for an ARN that is not a KMS key or alias ARN)."""
        if not isinstance(key_id, str) or not key_id:
            raise ValidationException("1 validation error detected: Value at 'keyId' failed to satisfy "
                                      "constraint: Member must have length greater than or equal to 1")
        _length("keyId", key_id, 1, 2048)
        if key_id.startswith("arn:"):
            match = _KMS_ARN.fullmatch(key_id)
            if match is None:
                raise InvalidArnException(f"{key_id} is not a KMS key ARN or alias ARN")
            _, arn_region, arn_account, kind, rest = match.groups()
            if kind == "key":
                if (arn_account, arn_region) != (account, region):
                    raise NotFoundException(f"Key '{key_id}' does not exist")
                return self._by_id(account, region, rest)
            if (arn_account, arn_region) != (account, region):
                raise NotFoundException(f"Alias {key_id} is not found.")
            return self._by_alias(account, region, ALIAS_PREFIX + rest)
        if key_id.startswith(ALIAS_PREFIX):
            return self._by_alias(account, region, key_id)
        return self._by_id(account, region, key_id)

    def key_by_arn(self, key_arn: str) -> KeyRecord:
        """The key a key ARN names, in the ARN's own account and region (for keys recorded by ARN: a
        version's key, an object's key); NotFoundException or InvalidArnException."""
        account, region = key_account_region(key_arn)
        return self.resolve_key(account, region, key_arn)

    @staticmethod
    def _usable(record: KeyRecord) -> None:
        """Cryptographic operations need an Enabled key."""
        if record.state == DISABLED:
            raise DisabledException(f"{record.arn} is disabled.")
        if record.state == PENDING_DELETION:
            raise KMSInvalidStateException(f"{record.arn} is pending deletion.")

    @staticmethod
    def _not_pending(record: KeyRecord) -> None:
        if record.state == PENDING_DELETION:
            raise KMSInvalidStateException(f"{record.arn} is pending deletion.")

    def _material(self, record: KeyRecord) -> bytes:
        try:
            return self.master_key.unwrap(record.key_id, record.wrapped_material)
        except MasterKeyError as exc:
            raise KMSInternalException(str(exc)) from None

    # -- keys --------------------------------------------------------------------------------
    def create_key(self, account: str, region: str, *, policy: str | None = None, description: str | None = None,
                   key_usage: str | None = None, customer_master_key_spec: str | None = None,
                   key_spec: str | None = None, origin: str | None = None, custom_key_store_id: str | None = None,
                   bypass_policy_lockout_safety_check: bool = False, tags: list[dict[str, str]] | None = None,
                   multi_region: bool = False, xks_key_id: str | None = None) -> dict[str, Any]:
        """CreateKey: a new Enabled SYMMETRIC_DEFAULT key with fresh 256-bit material."""
        del bypass_policy_lockout_safety_check  # the lockout check belongs to policy evaluation
        if key_spec is not None and customer_master_key_spec is not None:
            raise ValidationException("You cannot specify KeySpec and CustomerMasterKeySpec in the same request. "
                                      "CustomerMasterKeySpec is deprecated.")
        spec = key_spec or customer_master_key_spec or SYMMETRIC_DEFAULT
        usage = key_usage or ENCRYPT_DECRYPT
        if spec != SYMMETRIC_DEFAULT or usage != ENCRYPT_DECRYPT:
            raise UnsupportedOperationException(
                f"openrek supports KeySpec {SYMMETRIC_DEFAULT} with KeyUsage {ENCRYPT_DECRYPT} only, "
                f"not {spec} with {usage}")
        if (origin or "AWS_KMS") != "AWS_KMS" or custom_key_store_id or xks_key_id:
            raise UnsupportedOperationException("openrek supports keys of Origin AWS_KMS only, without a custom "
                                                "key store")
        if multi_region:
            raise UnsupportedOperationException("openrek does not support multi-Region keys")
        description = "" if description is None else description
        _length("description", description, 0, 8192)
        document = default_key_policy(account) if policy is None else self._check_policy(policy)
        tag_map = self._check_tags(tags)
        key_id = str(uuid.uuid4())
        row = KmsKeyRow(key_id=key_id, account=account, region=region, arn=key_arn(region, account, key_id),
                        description=description, state=ENABLED, created_ms=self._now_ms(), deletion_ms=None,
                        pending_window_days=None, key_usage=ENCRYPT_DECRYPT, key_spec=SYMMETRIC_DEFAULT,
                        origin="AWS_KMS", policy=document,
                        wrapped_material=self.master_key.wrap(key_id, secrets.token_bytes(32)))
        self.metadata.add_kms_key(row, tag_map)
        return {"KeyMetadata": KeyRecord.from_row(row).metadata()}

    @staticmethod
    def _check_policy(policy: str) -> str:
        _length("policy", policy, 1, 131072)
        try:
            document = json_input.loads(policy)
        except ValueError:
            raise MalformedPolicyDocumentException("The key policy is not valid JSON") from None
        statements = document.get("Statement") if isinstance(document, dict) else None
        if not isinstance(statements, list | dict) or not statements:
            raise MalformedPolicyDocumentException("The key policy needs a Statement")
        return policy

    @staticmethod
    def _check_tags(tags: list[dict[str, str]] | None) -> dict[str, str]:
        out: dict[str, str] = {}
        for tag in tags or []:
            key, value = tag.get("TagKey"), tag.get("TagValue")
            if not isinstance(key, str) or not isinstance(value, str) or not 1 <= len(key) <= 128 \
                    or len(value) > 256:
                raise TagException("Each tag needs a TagKey of 1 to 128 characters and a TagValue of up to 256")
            if key.startswith("aws:"):
                raise TagException("Tags beginning with aws: are reserved")
            if key in out:
                raise TagException(f"Duplicate tag key {key}")
            out[key] = value
        if len(out) > 50:
            raise TagException("A key can have at most 50 tags")
        return out

    def describe_key(self, account: str, region: str, key_id: str,
                     grant_tokens: list[str] | None = None) -> dict[str, Any]:
        self._check_grant_tokens(grant_tokens)
        return {"KeyMetadata": self.resolve_key(account, region, key_id).metadata()}

    def list_keys(self, account: str, region: str, limit: int | None = None,
                  marker: str | None = None) -> dict[str, Any]:
        count = _limit(limit, 100, 1000)
        after = _decode_marker("k", marker)
        self.purge_deleted_keys()
        rows = self.metadata.list_kms_keys(account, region, after, count + 1)
        out: dict[str, Any] = {"Keys": [{"KeyId": r.key_id, "KeyArn": r.arn} for r in rows[:count]]}
        out.update(_page(rows, count, "k", lambda r: r.key_id))
        return out

    def purge_deleted_keys(self) -> list[str]:
        """Deletes the keys whose deletion date has come (with their aliases and grants); their ids."""
        now = self._now_ms()
        return [key_id for key_id in self.metadata.kms_keys_due(now)
                if self.metadata.delete_kms_key(key_id, only_if_due_at=now)]

    def _transition(self, account: str, region: str, key_id: str, allowed: tuple[str, ...],
                    refuse: Callable[[KeyRecord], None], **fields: Any) -> KeyRecord:
        """Sets `fields` if the key's state is in `allowed` (atomically); `refuse` raises the error otherwise."""
        for _ in range(5):
            record = self.resolve_key(account, region, key_id)
            if record.state not in allowed:
                refuse(record)
                raise KMSInvalidStateException(f"{record.arn} is {record.state}.")
            if self.metadata.transition_kms_key(record.key_id, [record.state], **fields):
                return record
        raise KMSInternalException("The key changed state concurrently; retry the request")

    def enable_key(self, account: str, region: str, key_id: str) -> dict[str, Any]:
        self._transition(account, region, key_id, (ENABLED, DISABLED), self._not_pending, state=ENABLED)
        return {}

    def disable_key(self, account: str, region: str, key_id: str) -> dict[str, Any]:
        self._transition(account, region, key_id, (ENABLED, DISABLED), self._not_pending, state=DISABLED)
        return {}

    def schedule_key_deletion(self, account: str, region: str, key_id: str,
                              pending_window_in_days: int | None = None) -> dict[str, Any]:
        """PendingDeletion for 7 to 30 days (30 by default); the key is deleted when the date comes."""
        days = DEFAULT_WINDOW_DAYS if pending_window_in_days is None else pending_window_in_days
        if isinstance(days, bool) or not isinstance(days, int) or not MIN_WINDOW_DAYS <= days <= MAX_WINDOW_DAYS:
            bound = ("greater than or equal to 7" if isinstance(days, int) and days < MIN_WINDOW_DAYS
                     else "less than or equal to 30")
            raise ValidationException(f"1 validation error detected: Value '{days}' at 'pendingWindowInDays' "
                                      f"failed to satisfy constraint: Member must have value {bound}")
        deletion_ms = self._now_ms() + days * 86_400_000
        record = self._transition(account, region, key_id, (ENABLED, DISABLED), self._not_pending,
                                  state=PENDING_DELETION, deletion_ms=deletion_ms, pending_window_days=days)
        return {"KeyId": record.arn, "DeletionDate": _ts(deletion_ms), "KeyState": PENDING_DELETION,
                "PendingWindowInDays": days}

    def cancel_key_deletion(self, account: str, region: str, key_id: str) -> dict[str, Any]:
        """Back from PendingDeletion to Disabled (as AWS does: enable it again with EnableKey)."""
        def refuse(record: KeyRecord) -> None:
            raise KMSInvalidStateException(f"{record.arn} is not pending deletion.")

        record = self._transition(account, region, key_id, (PENDING_DELETION,), refuse, state=DISABLED,
                                  deletion_ms=None, pending_window_days=None)
        return {"KeyId": record.arn}

    # -- aliases -----------------------------------------------------------------------------
    def create_alias(self, account: str, region: str, alias_name: str, target_key_id: str) -> dict[str, Any]:
        _check_alias_name(alias_name, "create")
        if isinstance(target_key_id, str) and (
                target_key_id.startswith(ALIAS_PREFIX)
                or (_KMS_ARN.fullmatch(target_key_id) is not None and ":alias/" in target_key_id)):
            raise ValidationException("TargetKeyId must be a key ID or key ARN: an alias cannot point to an alias")
        record = self.resolve_key(account, region, target_key_id)
        self._not_pending(record)
        now = self._now_ms()
        try:
            self.metadata.add_kms_alias(KmsAliasRow(account=account, region=region, name=alias_name,
                                                    target_key_id=record.key_id, created_ms=now, updated_ms=now))
        except DuplicateError:
            raise AlreadyExistsException(
                f"An alias with the name {alias_arn(region, account, alias_name)} already exists") from None
        return {}

    def aws_managed_key(self, account: str, region: str, service: str, description: str) -> KeyRecord:
        """The account's key `alias/aws/<service>` (AWS's managed key for that service), made on first use,
        as S3 does for `aws:kms` without a key id."""
        name = f"{RESERVED_ALIAS_PREFIX}{service}"
        row = self.metadata.get_kms_alias(account, region, name)
        record = self._get(row.target_key_id) if row is not None else None
        if record is not None:
            return record
        key_id = self.create_key(account, region, description=description)["KeyMetadata"]["KeyId"]
        now = self._now_ms()
        try:
            self.metadata.add_kms_alias(KmsAliasRow(account=account, region=region, name=name,
                                                    target_key_id=key_id, created_ms=now, updated_ms=now))
        except DuplicateError:  # another request made it first: use that one
            self.metadata.delete_kms_key(key_id)
            return self._by_alias(account, region, name)
        return self._by_id(account, region, key_id)

    def list_aliases(self, account: str, region: str, key_id: str | None = None, limit: int | None = None,
                     marker: str | None = None) -> dict[str, Any]:
        count = _limit(limit, 50, 100)
        after = _decode_marker("a", marker)
        target = self.resolve_key(account, region, key_id).key_id if key_id is not None else None
        rows = self.metadata.list_kms_aliases(account, region, target, after, count + 1)
        out: dict[str, Any] = {"Aliases": [
            {"AliasName": r.name, "AliasArn": alias_arn(region, account, r.name), "TargetKeyId": r.target_key_id,
             "CreationDate": _ts(r.created_ms), "LastUpdatedDate": _ts(r.updated_ms)}
            for r in rows[:count]]}
        out.update(_page(rows, count, "a", lambda r: r.name))
        return out

    def delete_alias(self, account: str, region: str, alias_name: str) -> dict[str, Any]:
        _check_alias_name(alias_name, "delete")
        if not self.metadata.delete_kms_alias(account, region, alias_name):
            raise NotFoundException(f"Alias {alias_arn(region, account, alias_name)} is not found.")
        return {}

    # -- encryption --------------------------------------------------------------------------
    @staticmethod
    def _check_algorithm(algorithm: str | None) -> None:
        if algorithm is not None and algorithm != SYMMETRIC_DEFAULT:
            _enum("encryptionAlgorithm", algorithm, ("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1",
                                                     "RSAES_OAEP_SHA_256", "SM2PKE"))
            raise InvalidKeyUsageException(
                f"The encryption algorithm {algorithm} is not supported by SYMMETRIC_DEFAULT keys; "
                f"use {SYMMETRIC_DEFAULT}")

    def _seal(self, record: KeyRecord, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        header = bytes([_CT_VERSION]) + uuid.UUID(record.key_id).bytes
        nonce = secrets.token_bytes(_NONCE)
        sealed = AESGCM(self._material(record)).encrypt(nonce, plaintext,
                                                        _CT_AAD + header + _canonical_context(context))
        return header + nonce + sealed

    def encrypt(self, account: str, region: str, key_id: str, plaintext: bytes,
                encryption_context: Mapping[str, str] | None = None, grant_tokens: list[str] | None = None,
                encryption_algorithm: str | None = None, dry_run: bool = False) -> dict[str, Any]:
        """Encrypt: a self-describing ciphertext blob (it names its key), EncryptionContext bound as AAD."""
        data = _bytes("plaintext", plaintext, MAX_PLAINTEXT)
        context = _context(encryption_context)
        self._check_algorithm(encryption_algorithm)
        self._check_grant_tokens(grant_tokens)
        record = self.resolve_key(account, region, key_id)
        self._usable(record)
        self._dry_run(dry_run)
        return {"CiphertextBlob": self._seal(record, data, context), "KeyId": record.arn,
                "EncryptionAlgorithm": SYMMETRIC_DEFAULT}

    def decrypt(self, account: str, region: str | None, ciphertext_blob: bytes,
                encryption_context: Mapping[str, str] | None = None, grant_tokens: list[str] | None = None,
                key_id: str | None = None, encryption_algorithm: str | None = None,
                dry_run: bool = False) -> dict[str, Any]:
        """Decrypt: the key comes from the blob; `key_id`, when given, must name that key.

        `region` None accepts the blob's key in any region of the account (for callers, such as envelope
        encryption at rest, that do not know which region sealed the data).
        """
        blob = _bytes("ciphertextBlob", ciphertext_blob, MAX_CIPHERTEXT)
        context = _context(encryption_context)
        self._check_algorithm(encryption_algorithm)
        self._check_grant_tokens(grant_tokens)
        invalid = InvalidCiphertextException(
            "The ciphertext is invalid, was altered, was not made by this server for this account, or its "
            "EncryptionContext differs from the one given to Encrypt")
        if len(blob) < _CT_HEADER + _NONCE + _TAG or blob[0] != _CT_VERSION:
            raise invalid
        blob_key = str(uuid.UUID(bytes=blob[1:_CT_HEADER]))
        if key_id is not None:
            if region is not None:
                named = self.resolve_key(account, region, key_id)
            else:
                named = self._any_region(account, key_id)
            if named.key_id != blob_key:
                raise IncorrectKeyException("The key ID in the request does not identify a KMS key that can "
                                            "perform this operation.")
        record = self._get(blob_key)
        if record is None or record.account != account or (region is not None and record.region != region):
            raise invalid
        self._usable(record)
        self._dry_run(dry_run)
        nonce, sealed = blob[_CT_HEADER:_CT_HEADER + _NONCE], blob[_CT_HEADER + _NONCE:]
        try:
            plaintext = AESGCM(self._material(record)).decrypt(
                nonce, sealed, _CT_AAD + blob[:_CT_HEADER] + _canonical_context(context))
        except InvalidTag:
            raise invalid from None
        return {"KeyId": record.arn, "Plaintext": plaintext, "EncryptionAlgorithm": SYMMETRIC_DEFAULT}

    def _any_region(self, account: str, key_id: str) -> KeyRecord:
        """A key id or key ARN of `account` in whichever region holds it (aliases need a region)."""
        match = _KMS_ARN.fullmatch(key_id)
        if match is not None:
            return self.resolve_key(account, match.group(2), key_id)
        if _KEY_ID.fullmatch(key_id):
            record = self._get(key_id)
            if record is not None and record.account == account:
                return record
        raise NotFoundException(f"Invalid keyId '{key_id}'")

    def _data_key(self, account: str, region: str, key_id: str, encryption_context: Mapping[str, str] | None,
                  number_of_bytes: int | None, key_spec: str | None, grant_tokens: list[str] | None,
                  dry_run: bool) -> tuple[KeyRecord, bytes, bytes]:
        context = _context(encryption_context)
        if (number_of_bytes is None) == (key_spec is None):
            raise ValidationException("Please specify either number of bytes or key spec.")
        if key_spec is not None:
            _enum("keySpec", key_spec, DATA_KEY_SPECS)
            size = DATA_KEY_SPECS[key_spec]
        else:
            if isinstance(number_of_bytes, bool) or not isinstance(number_of_bytes, int) \
                    or not 1 <= number_of_bytes <= 1024:
                raise ValidationException(f"1 validation error detected: Value '{number_of_bytes}' at "
                                          "'numberOfBytes' failed to satisfy constraint: Member must have value "
                                          "between 1 and 1024")
            size = number_of_bytes
        self._check_grant_tokens(grant_tokens)
        record = self.resolve_key(account, region, key_id)
        self._usable(record)
        self._dry_run(dry_run)
        plaintext = secrets.token_bytes(size)
        return record, plaintext, self._seal(record, plaintext, context)

    def generate_data_key(self, account: str, region: str, key_id: str,
                          encryption_context: Mapping[str, str] | None = None, number_of_bytes: int | None = None,
                          key_spec: str | None = None, grant_tokens: list[str] | None = None,
                          dry_run: bool = False) -> dict[str, Any]:
        """GenerateDataKey: a random data key in the clear and encrypted under the KMS key."""
        record, plaintext, blob = self._data_key(account, region, key_id, encryption_context, number_of_bytes,
                                                 key_spec, grant_tokens, dry_run)
        return {"CiphertextBlob": blob, "Plaintext": plaintext, "KeyId": record.arn}

    def generate_data_key_without_plaintext(
            self, account: str, region: str, key_id: str, encryption_context: Mapping[str, str] | None = None,
            key_spec: str | None = None, number_of_bytes: int | None = None, grant_tokens: list[str] | None = None,
            dry_run: bool = False) -> dict[str, Any]:
        record, _, blob = self._data_key(account, region, key_id, encryption_context, number_of_bytes,
                                         key_spec, grant_tokens, dry_run)
        return {"CiphertextBlob": blob, "KeyId": record.arn}

    @staticmethod
    def _dry_run(dry_run: bool) -> None:
        if dry_run:
            raise DryRunOperationException("The request would have succeeded, but the DryRun option is set.")

    # -- grants ------------------------------------------------------------------------------
    def _grant_token(self, grant_id: str) -> str:
        body = bytes([_TOKEN_VERSION]) + bytes.fromhex(grant_id) + secrets.token_bytes(16)
        return base64.urlsafe_b64encode(body + self.master_key.mac(_TOKEN_PURPOSE, body)).decode().rstrip("=")

    def _grant_id_of(self, token: str) -> str:
        """The grant id a token names; InvalidGrantTokenException unless this server issued it."""
        invalid = InvalidGrantTokenException("The grant token is not valid: pass a GrantToken CreateGrant returned")
        if not isinstance(token, str) or not 1 <= len(token) <= 8192:
            raise invalid
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise invalid from None
        if len(raw) != 1 + 32 + 16 + 32 or raw[0] != _TOKEN_VERSION:
            raise invalid
        body, mac = raw[:-32], raw[-32:]
        if not secrets.compare_digest(mac, self.master_key.mac(_TOKEN_PURPOSE, body)):
            raise invalid
        return body[1:33].hex()

    def _check_grant_tokens(self, tokens: list[str] | None) -> None:
        if tokens is None:
            return
        if len(tokens) > MAX_GRANT_TOKENS:
            raise ValidationException("1 validation error detected: Value at 'grantTokens' failed to satisfy "
                                      f"constraint: Member must have length less than or equal to {MAX_GRANT_TOKENS}")
        for token in tokens:
            self._grant_id_of(token)

    @staticmethod
    def _check_grant_id(grant_id: str) -> None:
        if not isinstance(grant_id, str) or not _GRANT_ID.fullmatch(grant_id):
            raise InvalidGrantIdException(f"Invalid grant ID {grant_id!r}: pass a GrantId CreateGrant returned")

    @staticmethod
    def _check_constraints(constraints: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if not constraints:
            return None
        out: dict[str, Any] = {}
        for name, value in constraints.items():
            if name in ("EncryptionContextSubset", "EncryptionContextEquals"):
                out[name] = _context(value)
            elif name == "SourceArn" and isinstance(value, str):
                out[name] = value
            else:
                raise ValidationException(f"Unknown grant constraint {name}: use EncryptionContextSubset, "
                                          "EncryptionContextEquals or SourceArn")
        return out

    def create_grant(self, account: str, region: str, key_id: str, grantee_principal: str, operations: list[str],
                     retiring_principal: str | None = None, constraints: Mapping[str, Any] | None = None,
                     grant_tokens: list[str] | None = None, name: str | None = None,
                     dry_run: bool = False) -> dict[str, Any]:
        """CreateGrant; with a Name, a retry with identical parameters returns the same GrantId (new token)."""
        if not isinstance(grantee_principal, str):
            raise ValidationException("GranteePrincipal is required")
        _length("granteePrincipal", grantee_principal, 1, 256)
        _pattern("granteePrincipal", grantee_principal, _PRINCIPAL_PATTERN)
        if retiring_principal is not None:
            _length("retiringPrincipal", retiring_principal, 1, 256)
            _pattern("retiringPrincipal", retiring_principal, _PRINCIPAL_PATTERN)
        if name is not None:
            _length("name", name, 1, 256)
            _pattern("name", name, _GRANT_NAME_PATTERN)
        if not operations:
            raise ValidationException("Operations must name at least one grant operation")
        for op in operations:
            _enum("operations", op, GRANT_OPERATIONS)
        invalid = [op for op in operations if op not in SYMMETRIC_GRANT_OPERATIONS]
        if invalid:
            raise ValidationException(f"Grant operations {invalid} are not valid for a {SYMMETRIC_DEFAULT} key "
                                      f"with KeyUsage {ENCRYPT_DECRYPT}")
        ops = sorted(set(operations), key=GRANT_OPERATIONS.index)
        checked = self._check_constraints(constraints)
        self._check_grant_tokens(grant_tokens)
        record = self.resolve_key(account, region, key_id)
        self._not_pending(record)
        self._dry_run(dry_run)
        if name is not None:
            for existing in self.metadata.find_kms_grant_by_name(record.key_id, name):
                if (existing.grantee_principal, existing.retiring_principal, list(existing.operations),
                        existing.constraints or None) == (grantee_principal, retiring_principal, ops, checked):
                    return {"GrantToken": self._grant_token(existing.grant_id), "GrantId": existing.grant_id}
        grant_id = secrets.token_hex(32)
        self.metadata.add_kms_grant(KmsGrantRow(
            grant_id=grant_id, key_id=record.key_id, name=name, grantee_principal=grantee_principal,
            retiring_principal=retiring_principal, operations=ops, constraints=checked, issuing_account=account,
            created_ms=self._now_ms()))
        return {"GrantToken": self._grant_token(grant_id), "GrantId": grant_id}

    def list_grants(self, account: str, region: str, key_id: str, limit: int | None = None,
                    marker: str | None = None, grant_id: str | None = None,
                    grantee_principal: str | None = None) -> dict[str, Any]:
        count = _limit(limit, 50, 100)
        after = _decode_marker("g", marker)
        if grant_id is not None:
            self._check_grant_id(grant_id)
        if grantee_principal is not None:
            _pattern("granteePrincipal", grantee_principal, _PRINCIPAL_PATTERN)
        record = self.resolve_key(account, region, key_id)
        rows = self.metadata.list_kms_grants(record.key_id, grant_id, grantee_principal, after, count + 1)
        grants = []
        for r in rows[:count]:
            entry: dict[str, Any] = {"KeyId": record.arn, "GrantId": r.grant_id, "CreationDate": _ts(r.created_ms),
                                     "GranteePrincipal": r.grantee_principal,
                                     "IssuingAccount": f"arn:aws:iam::{r.issuing_account}:root",
                                     "Operations": list(r.operations)}
            if r.name is not None:
                entry["Name"] = r.name
            if r.retiring_principal is not None:
                entry["RetiringPrincipal"] = r.retiring_principal
            if r.constraints:
                entry["Constraints"] = r.constraints
            grants.append(entry)
        out: dict[str, Any] = {"Grants": grants}
        out.update(_page(rows, count, "g", lambda r: r.grant_id))
        return out

    def retire_grant(self, account: str, region: str, grant_token: str | None = None, key_id: str | None = None,
                     grant_id: str | None = None, dry_run: bool = False) -> dict[str, Any]:
        """RetireGrant by its token, or by KeyId and GrantId. Who may retire is the policy layer's question."""
        if grant_token is not None:
            grant_id_of_token = self._grant_id_of(grant_token)
            if grant_id is not None and grant_id != grant_id_of_token:
                raise InvalidGrantIdException("GrantId does not match the grant that GrantToken names")
            grant_id = grant_id_of_token
            grant = self.metadata.get_kms_grant(grant_id)
            if grant is not None and key_id is not None \
                    and self.resolve_key(account, region, key_id).key_id != grant.key_id:
                grant = None
        elif key_id is not None and grant_id is not None:
            self._check_grant_id(grant_id)
            record = self.resolve_key(account, region, key_id)
            grant = self.metadata.get_kms_grant(grant_id)
            if grant is not None and grant.key_id != record.key_id:
                grant = None
        else:
            raise ValidationException("Specify either GrantToken, or both KeyId and GrantId")
        if grant is None:
            raise NotFoundException(f"Grant ID {grant_id} not found")
        self._dry_run(dry_run)
        self.metadata.delete_kms_grant(grant.grant_id)
        return {}

    def revoke_grant(self, account: str, region: str, key_id: str, grant_id: str,
                     dry_run: bool = False) -> dict[str, Any]:
        self._check_grant_id(grant_id)
        record = self.resolve_key(account, region, key_id)
        grant = self.metadata.get_kms_grant(grant_id)
        if grant is None or grant.key_id != record.key_id:
            raise NotFoundException(f"Grant ID {grant_id} not found")
        self._dry_run(dry_run)
        self.metadata.delete_kms_grant(grant_id)
        return {}
