"""botocore's service models for the query-protocol services openrek serves, loaded once each."""

from __future__ import annotations

from functools import cache

from openrek.api.service_models import operation_model, service_model

__all__ = ["SERVICES", "error_statuses", "operation_model", "service_model"]

SERVICES = ("iam", "sts")


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
