"""The broker's HTTP routes, one module per resource, and what they share: answers and documented errors."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel

from ...models import ERROR_CATALOGUE, ErrorBody

# Every /v1 route can answer these, whatever it does.
COMMON_ERRORS = ("UNAUTHENTICATED", "VALIDATION_ERROR", "RATE_LIMITED", "INTERNAL", "SERVICE_UNAVAILABLE")


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    """Serialize once through the contract model (FastAPI would validate the returned model again)."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


def documented_errors(*codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error codes a route can answer, grouped by HTTP status."""
    by_status: dict[int, list[str]] = {}
    for code in (*COMMON_ERRORS, *codes):
        by_status.setdefault(ERROR_CATALOGUE[code][0], []).append(code)
    return {
        status: {"model": ErrorBody, "description": "Error: " + ", ".join(sorted(set(names)))}
        for status, names in sorted(by_status.items())
    }
