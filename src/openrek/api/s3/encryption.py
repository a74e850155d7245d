"""Server-side encryption on the S3 wire: what a write asks for (`x-amz-server-side-encryption…`), the KMS
permissions a request needs, and the headers an answer carries.

Every object is encrypted at rest (the store seals it); a write without SSE headers gets `AES256`, as S3
does since 2023. `aws:kms` names a KMS key in the caller's account and region (a key id, key ARN, alias name
or alias ARN; none: the account's `alias/aws/s3`, made on first use). Writing with a KMS key needs
`kms:GenerateDataKey` on it, reading needs `kms:Decrypt`, as S3 asks of the caller. SSE-C (keys sent by the
client) is not supported and answers NotImplemented.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from openrek.api.s3.errors import S3Error
from openrek.security.kms_errors import KmsError, NotFoundException
from openrek.service.context import RequestContext
from openrek.service.errors import ServiceError
from openrek.service.kms import access
from openrek.store.sealed_files import SSE_KMS, SSE_S3, Encryption

SSE = "x-amz-server-side-encryption"
SSE_KEY_ID = "x-amz-server-side-encryption-aws-kms-key-id"
SSE_CONTEXT = "x-amz-server-side-encryption-context"
SSE_BUCKET_KEY = "x-amz-server-side-encryption-bucket-key-enabled"
_SSE_C = ("x-amz-server-side-encryption-customer-algorithm", "x-amz-copy-source-server-side-encryption-customer-algorithm")
_DSSE = "aws:kms:dsse"
_S3_KEY_DESCRIPTION = "Default key that protects my S3 objects when no other key is defined"


def kms_error(error: KmsError) -> S3Error:
    """A KMS refusal as S3 reports it: `KMS.<code>` (a disabled key: KMS.DisabledException), 400."""
    return S3Error(f"KMS.{error.code}", error.message)


def refuse_customer_keys(headers: Any) -> None:
    if any(name in headers for name in _SSE_C):
        raise S3Error("NotImplemented", "openrek does not support SSE-C (encryption keys sent with each request); "
                      "use SSE-KMS (x-amz-server-side-encryption: aws:kms) or the default SSE-S3.")


def _context(header: str) -> dict[str, str]:
    invalid = S3Error("InvalidArgument", "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded "
                      "UTF-8 string holding JSON which represents a string-string map",
                      extra={"ArgumentName": SSE_CONTEXT})
    try:
        value = json.loads(base64.b64decode(header, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid from None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise invalid
    return value


def requested(headers: Any, kms: Any, caller: RequestContext) -> Encryption | None:
    """The encryption a write's headers ask for (None: the default), its KMS key resolved in the caller's
    account and region and the caller's `kms:GenerateDataKey` on it checked."""
    refuse_customer_keys(headers)
    algorithm, key_id, context = headers.get(SSE), headers.get(SSE_KEY_ID), headers.get(SSE_CONTEXT)
    if algorithm is None or algorithm == SSE_S3:
        if key_id is not None or context is not None:
            raise S3Error("InvalidArgument", "Server Side Encryption with AWS KMS managed key requires HTTP header "
                          "x-amz-server-side-encryption : aws:kms", extra={"ArgumentName": SSE})
        return None if algorithm is None else Encryption(SSE_S3)
    if algorithm not in (SSE_KMS, _DSSE):
        raise S3Error("InvalidArgument", "The encryption method specified is not supported",
                      extra={"ArgumentName": SSE, "ArgumentValue": algorithm[:64]})
    if kms is None:
        raise S3Error("NotImplemented", "This endpoint keeps no KMS keys, so it cannot encrypt with aws:kms.")
    try:
        if key_id:
            record = kms.resolve_key(caller.account, caller.region, key_id)
        else:
            record = kms.aws_managed_key(caller.account, caller.region, "s3", _S3_KEY_DESCRIPTION)
    except KmsError as error:
        raise kms_error(error) from None
    _check_key(caller, "kms:GenerateDataKey", record)
    return Encryption.kms(record.arn, _context(context) if context is not None else None)


def _check_key(caller: RequestContext, action: str, record: Any) -> None:
    try:
        access.check_key(caller, action, record)
    except ServiceError as exc:
        raise S3Error("AccessDenied", exc.message) from None


def check_key_use(kms: Any, caller: RequestContext | None, action: str, key_arn: str) -> None:
    """AccessDenied unless the caller may use the KMS key for `action` (its key policy and the caller's
    IAM policies decide: `service/kms/access.py`). Another account's key is refused: openrek resolves keys
    in the caller's account only."""
    if caller is None or kms is None:
        return
    try:
        record = kms.key_by_arn(key_arn)
        if record.account != caller.account:
            raise NotFoundException(key_arn)
    except KmsError:
        raise S3Error("AccessDenied", f"User: {caller.principal_arn or caller.account} is not authorized to "
                      f"perform: {action} on resource: {key_arn}: the key is not one of your account's") from None
    _check_key(caller, action, record)


def check_readable(kms: Any, caller: RequestContext | None, encryption: Encryption | None) -> None:
    """Reading an object sealed under a KMS key needs `kms:Decrypt` on it."""
    if encryption is not None and encryption.algorithm == SSE_KMS and encryption.key_id:
        check_key_use(kms, caller, "kms:Decrypt", encryption.key_id)


def response_headers(encryption: Encryption | None) -> dict[str, str]:
    """`x-amz-server-side-encryption` (and the KMS key's ARN) for an object's answers."""
    if encryption is None:
        return {}
    headers = {SSE: encryption.algorithm}
    if encryption.algorithm == SSE_KMS and encryption.key_id:
        headers[SSE_KEY_ID] = encryption.key_id
    return headers
