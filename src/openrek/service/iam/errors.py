"""IAM's error codes as typed errors; HTTP statuses come from botocore's IAM model at the wire."""

from __future__ import annotations

from openrek.service.errors import ServiceError


class NoSuchEntity(ServiceError):
    code = "NoSuchEntity"
    status = 404


class EntityAlreadyExists(ServiceError):
    code = "EntityAlreadyExists"
    status = 409


class DeleteConflict(ServiceError):
    code = "DeleteConflict"
    status = 409


class MalformedPolicyDocument(ServiceError):
    code = "MalformedPolicyDocument"


class LimitExceeded(ServiceError):
    code = "LimitExceeded"
    status = 409


class InvalidInput(ServiceError):
    code = "InvalidInput"


class AccessDenied(ServiceError):
    code = "AccessDenied"
    status = 403
