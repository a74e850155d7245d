"""botocore's Rekognition service model, through the generic loader (`openrek.api.service_models`)."""

from __future__ import annotations

from botocore.model import OperationModel, ServiceModel

from openrek.api import service_models as model

SERVICE = "rekognition"


def service_model() -> ServiceModel:
    return model.service_model(SERVICE)


def operation_model(name: str) -> OperationModel | None:
    return model.operation_model(SERVICE, name)
