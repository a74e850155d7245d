"""Rekognition's JSON 1.1 binding: `RekognitionService.<Op>` requests go to the Rekognition provider."""

from __future__ import annotations

from typing import Any

from openrek.api.json11.handler import JsonService

SERVICE = "rekognition"


def rekognition_service(provider: Any) -> JsonService:
    return JsonService(SERVICE, provider)
