"""botocore's service models for the query-protocol services openrek serves, loaded once each."""

from __future__ import annotations

from functools import cache

from botocore.model import OperationModel, ServiceModel

SERVICES = ("iam", "sts")


@cache
def service_model(name: str) -> ServiceModel:
    import botocore.session

    return botocore.session.get_session().get_service_model(name)


@cache
def operation_model(service: str, name: str) -> OperationModel | None:
    model = service_model(service)
    if name not in model.operation_names:
        return None
    return model.operation_model(name)


@cache
def error_statuses(service: str) -> dict[str, tuple[int, bool]]:
    """AWS error code → (HTTP status, sender's fault) as the model's error shapes declare them."""
    found: dict[str, tuple[int, bool]] = {}
    model = service_model(service)
    for shape_name in model.shape_names:
        shape = model.shape_for(shape_name)
        error = shape.metadata.get("error")
        if shape.metadata.get("exception") and isinstance(error, dict):
            code = error.get("code", shape_name)
            found[code] = (int(error.get("httpStatusCode", 400)), bool(error.get("senderFault", True)))
    return found
