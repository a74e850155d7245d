"""Loads botocore's Rekognition service model once: the source of truth for shapes and constraints."""

from __future__ import annotations

from functools import cache, lru_cache

from botocore.model import OperationModel, ServiceModel

SERVICE = "rekognition"


@lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    import botocore.session

    return botocore.session.get_session().get_service_model(SERVICE)


@cache
def operation_model(name: str) -> OperationModel | None:
    model = service_model()
    if name not in model.operation_names:
        return None
    return model.operation_model(name)
