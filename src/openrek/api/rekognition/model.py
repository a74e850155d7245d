"""botocore's Rekognition service model, through the generic loader (`openrek.api.json11.model`)."""

from __future__ import annotations

from botocore.model import OperationModel, ServiceModel

from openrek.api.json11 import model

SERVICE = "rekognition"


def service_model() -> ServiceModel:
    return model.service_model(SERVICE)


def operation_model(name: str) -> OperationModel | None:
    return model.operation_model(SERVICE, name)
