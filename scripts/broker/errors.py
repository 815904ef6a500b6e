"""The broker's one exception: a contract error code with its message and details."""

from __future__ import annotations

from typing import Any

from ..models import ERROR_CATALOGUE, ErrorBody


class BrokerError(Exception):
    """Raised anywhere in the broker; the app turns it into the contract's error body and status."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        if code not in ERROR_CATALOGUE:
            raise ValueError(f"unknown error code {code}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}

    @property
    def http_status(self) -> int:
        return ERROR_CATALOGUE[self.code][0]

    def body(self, request_id: str | None) -> ErrorBody:
        return ErrorBody(code=self.code, message=self.message, recovery_hint=ERROR_CATALOGUE[self.code][1],
                         details=self.details, request_id=request_id)
