"""Rekognition's JSON 1.1 binding: `RekognitionService.<Op>` requests go to the Rekognition provider."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from openrek.api.json11.handler import JsonService, JsonServices, handle_json11
from openrek.api.rekognition.model import SERVICE
from openrek.service.context import RequestContext

TARGET_PREFIX = "RekognitionService."


def rekognition_service(provider: Any) -> JsonService:
    return JsonService(SERVICE, provider)


async def handle_rekognition(request: Request, provider: Any, ctx: RequestContext) -> Response:
    """One request to an endpoint that serves Rekognition alone."""
    return await handle_json11(request, JsonServices([rekognition_service(provider)]), ctx)
