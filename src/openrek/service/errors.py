"""Typed service errors carrying AWS's error code; the wire layer renders them.

A message a person can act on is part of the contract: say what was wrong and what to do.
"""

from __future__ import annotations


class ServiceError(Exception):
    """An error AWS would return: `code` becomes `__type`, `status` the HTTP status."""

    code = "InternalServerError"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class ValidationException(ServiceError):
    code = "ValidationException"


class SerializationException(ServiceError):
    code = "SerializationException"


class UnknownOperationException(ServiceError):
    code = "UnknownOperationException"


class NotImplementedOperation(ServiceError):
    """A real operation of a served AWS service (Rekognition, KMS) that openrek does not implement (yet).

    HTTP 400, not 501: SDKs retry 5xx answers, and retrying cannot help here.
    """

    code = "NotImplementedException"
    status = 400


class InvalidParameterException(ServiceError):
    code = "InvalidParameterException"


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"


class ResourceInUseException(ServiceError):
    code = "ResourceInUseException"


class ResourceNotReadyException(ServiceError):
    code = "ResourceNotReadyException"


class LimitExceededException(ServiceError):
    code = "LimitExceededException"


class AccessDeniedException(ServiceError):
    code = "AccessDeniedException"


class InvalidS3ObjectException(ServiceError):
    code = "InvalidS3ObjectException"


class InvalidImageFormatException(ServiceError):
    code = "InvalidImageFormatException"


class ImageTooLargeException(ServiceError):
    code = "ImageTooLargeException"


class InvalidPaginationTokenException(ServiceError):
    code = "InvalidPaginationTokenException"


class InternalServerError(ServiceError):
    code = "InternalServerError"
    status = 500


class ResourceAlreadyExistsException(ServiceError):
    code = "ResourceAlreadyExistsException"


class InvalidPolicyRevisionIdException(ServiceError):
    code = "InvalidPolicyRevisionIdException"


class MalformedPolicyDocumentException(ServiceError):
    code = "MalformedPolicyDocumentException"


class ServiceQuotaExceededException(ServiceError):
    code = "ServiceQuotaExceededException"


class ProvisionedThroughputExceededException(ServiceError):
    code = "ProvisionedThroughputExceededException"
