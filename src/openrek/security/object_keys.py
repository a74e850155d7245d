"""Data keys for objects sealed at rest: the store's `DataKeys`, backed by the master key and KMS.

`AES256` (S3-managed, the default for every object): a random data key wrapped by the server's master key.
`aws:kms`: a data key from KMS `GenerateDataKey` under the named key, unwrapped again by KMS `Decrypt`, so a
disabled, pending-deletion or deleted key makes the object unreadable (KMS's own exceptions propagate).
Who may use a KMS key is decided by the caller's layer (S3 GET needs `kms:Decrypt`); this module only
holds the keys.
"""

from __future__ import annotations

import secrets

from openrek.security.kms_keys import KmsKeys, key_account_region
from openrek.security.master_key import MasterKey, MasterKeyError
from openrek.store.sealed_files import SSE_KMS, SSE_S3, Encryption, SealedFileError

_WRAP_LABEL = "openrek/s3-managed-data-key"
class ObjectKeys:
    """`openrek.store.sealed_files.DataKeys` over the master key (AES256) and KMS keys (aws:kms)."""

    def __init__(self, kms: KmsKeys, master_key: MasterKey) -> None:
        self.kms = kms
        self.master_key = master_key

    def generate(self, encryption: Encryption) -> tuple[bytes, bytes]:
        if encryption.algorithm == SSE_S3:
            data_key = secrets.token_bytes(32)
            return data_key, self.master_key.wrap(_WRAP_LABEL, data_key)
        if encryption.algorithm == SSE_KMS and encryption.key_id:
            account, region = key_account_region(encryption.key_id)
            answer = self.kms.generate_data_key(account, region, encryption.key_id,
                                                encryption_context=dict(encryption.context), key_spec="AES_256")
            return answer["Plaintext"], answer["CiphertextBlob"]
        raise ValueError(f"cannot make a data key for {encryption}")

    def unwrap(self, encryption: Encryption, wrapped: bytes) -> bytes:
        if encryption.algorithm == SSE_S3:
            try:
                return self.master_key.unwrap(_WRAP_LABEL, wrapped)
            except MasterKeyError as exc:
                raise SealedFileError(str(exc)) from None
        if encryption.algorithm == SSE_KMS and encryption.key_id:
            account, region = key_account_region(encryption.key_id)
            answer = self.kms.decrypt(account, region, wrapped, encryption_context=dict(encryption.context))
            return bytes(answer["Plaintext"])
        raise SealedFileError(f"the object names an unknown encryption: {encryption}")
