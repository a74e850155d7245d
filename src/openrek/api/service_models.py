"""Loads botocore's service models, once per service, for every protocol: the source of truth for shapes and
constraints."""

from __future__ import annotations

from functools import cache

from botocore.model import OperationModel, ServiceModel


@cache
def service_model(name: str) -> ServiceModel:
    """botocore's model of the service `name` (its endpoint prefix, e.g. "rekognition", "kms")."""
    import botocore.session

    return botocore.session.get_session().get_service_model(name)


@cache
def operation_model(service: str, name: str) -> OperationModel | None:
    """The operation `name` of `service`, or None if the service has no such operation."""
    model = service_model(service)
    if name not in model.operation_names:
        return None
    return model.operation_model(name)
