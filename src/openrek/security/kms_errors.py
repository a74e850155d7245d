"""Typed KMS errors carrying AWS's codes (the error shapes of botocore's `kms` model); the wire layer renders them.

Each is a `ServiceError`, so the JSON 1.1 layer turns `code` into `__type` and `status` into the HTTP status.
"""

from __future__ import annotations

from openrek.service.errors import ServiceError


class KmsError(ServiceError):
    code = "KMSInternalException"
    status = 400


class NotFoundException(KmsError):
    code = "NotFoundException"


class DisabledException(KmsError):
    code = "DisabledException"


class KMSInvalidStateException(KmsError):
    code = "KMSInvalidStateException"


class AlreadyExistsException(KmsError):
    code = "AlreadyExistsException"


class InvalidAliasNameException(KmsError):
    code = "InvalidAliasNameException"


class InvalidArnException(KmsError):
    code = "InvalidArnException"


class InvalidCiphertextException(KmsError):
    code = "InvalidCiphertextException"


class IncorrectKeyException(KmsError):
    code = "IncorrectKeyException"


class InvalidKeyUsageException(KmsError):
    code = "InvalidKeyUsageException"


class InvalidMarkerException(KmsError):
    code = "InvalidMarkerException"


class InvalidGrantIdException(KmsError):
    code = "InvalidGrantIdException"


class InvalidGrantTokenException(KmsError):
    code = "InvalidGrantTokenException"


class MalformedPolicyDocumentException(KmsError):
    code = "MalformedPolicyDocumentException"


class UnsupportedOperationException(KmsError):
    code = "UnsupportedOperationException"


class LimitExceededException(KmsError):
    code = "LimitExceededException"


class TagException(KmsError):
    code = "TagException"


class DryRunOperationException(KmsError):
    code = "DryRunOperationException"


class KMSInternalException(KmsError):
    code = "KMSInternalException"
    status = 500


class ValidationException(KmsError):
    """Not a shape of the kms model: the common AWS error for input that breaks a constraint."""

    code = "ValidationException"


class NotAuthorizedException(KmsError):
    """Not a shape of the kms model either; what AWS answers for the reserved `alias/aws/` prefix."""

    code = "NotAuthorizedException"
