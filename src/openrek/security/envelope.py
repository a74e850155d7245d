"""Envelope encryption of objects at rest (image copies, manifests, models, output files) under a KMS key.

`seal` asks KMS for a fresh data key, encrypts the payload with it (AES-256-GCM) and keeps only the data
key's KMS ciphertext. Layout, all lengths big-endian:

    magic (8) | version (1) | context length (2) | context (JSON) | wrapped key length (2) | wrapped key
    | nonce (12) | AES-256-GCM(payload) with its 16-byte tag; AAD = every byte before the nonce.
"""

from __future__ import annotations

import json
import secrets
import struct
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from openrek.security.kms_errors import InvalidCiphertextException, ValidationException
from openrek.security.kms_keys import KmsKeys

MAGIC = b"\x89OREK\r\n\x1a"
VERSION = 1
_NONCE = 12
_TAG = 16
_MAX_CONTEXT = 0xFFFF


@dataclass(frozen=True)
class _Parts:
    context: dict[str, str]
    wrapped_key: bytes
    header: bytes  # everything before the nonce: the payload's AAD
    nonce: bytes
    sealed: bytes


def is_sealed(data: bytes) -> bool:
    """Whether `data` starts like something `seal` wrote (a cheap check: `open_` verifies the rest)."""
    return len(data) > len(MAGIC) and data[:len(MAGIC)] == MAGIC and data[len(MAGIC)] == VERSION


def _parse(data: bytes) -> _Parts:
    invalid = InvalidCiphertextException("The data is not an openrek sealed object, or it is truncated")
    if not is_sealed(data):
        raise invalid
    try:
        at = len(MAGIC) + 1
        (context_len,) = struct.unpack_from(">H", data, at)
        at += 2
        context = json.loads(data[at:at + context_len].decode())
        at += context_len
        (wrapped_len,) = struct.unpack_from(">H", data, at)
        at += 2
        wrapped = data[at:at + wrapped_len]
        at += wrapped_len
    except (struct.error, ValueError, UnicodeDecodeError):
        raise invalid from None
    if len(wrapped) != wrapped_len or len(data) < at + _NONCE + _TAG or not isinstance(context, dict) \
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in context.items()):
        raise invalid
    return _Parts(context=context, wrapped_key=wrapped, header=data[:at], nonce=data[at:at + _NONCE],
                  sealed=data[at + _NONCE:])


def seal(kms: KmsKeys, account: str, region: str, key_id: str, plaintext: bytes,
         context: Mapping[str, str] | None = None) -> bytes:
    """`plaintext` encrypted under a new data key from `key_id` (any of the four forms); `context` is the
    data key's EncryptionContext, kept in the header (it is not secret) and checked again by `open_`."""
    ctx = dict(context or {})
    ctx_bytes = json.dumps(dict(sorted(ctx.items())), separators=(",", ":"), ensure_ascii=False).encode()
    if len(ctx_bytes) > _MAX_CONTEXT:
        raise ValidationException("The encryption context of a sealed object must be under 64 KiB")
    data_key = kms.generate_data_key(account, region, key_id, encryption_context=ctx, key_spec="AES_256")
    wrapped: bytes = data_key["CiphertextBlob"]
    header = (MAGIC + bytes([VERSION]) + struct.pack(">H", len(ctx_bytes)) + ctx_bytes
              + struct.pack(">H", len(wrapped)) + wrapped)
    nonce = secrets.token_bytes(_NONCE)
    return header + nonce + AESGCM(data_key["Plaintext"]).encrypt(nonce, bytes(plaintext), header)


def open_(kms: KmsKeys, account: str, data: bytes, *, context: Mapping[str, str] | None = None) -> bytes:
    """The payload `seal` encrypted. The KMS key must still be Enabled (DisabledException,
    KMSInvalidStateException otherwise); `context`, when given, must equal the sealed one; tampering
    anywhere raises InvalidCiphertextException."""
    parts = _parse(bytes(data))
    if context is not None and dict(context) != parts.context:
        raise InvalidCiphertextException("The object was sealed with another encryption context")
    data_key = kms.decrypt(account, None, parts.wrapped_key, encryption_context=parts.context)["Plaintext"]
    try:
        return AESGCM(data_key).decrypt(parts.nonce, parts.sealed, parts.header)
    except InvalidTag:
        raise InvalidCiphertextException("The sealed object was altered") from None


def sealed_context(data: bytes) -> dict[str, str]:
    """The encryption context a sealed object carries (no key needed)."""
    return dict(_parse(bytes(data)).context)


def sealed_key_id(data: bytes) -> str:
    """The id of the KMS key whose data key sealed `data` (no key needed)."""
    wrapped = _parse(bytes(data)).wrapped_key
    if len(wrapped) < 17:
        raise InvalidCiphertextException("The sealed object's data key is malformed")
    return str(uuid.UUID(bytes=wrapped[1:17]))
