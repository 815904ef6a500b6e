"""What went wrong with a model call, as the kind or reason the templates `model_unavailable` and
`model_stopped` speak of."""

from __future__ import annotations

from typing import Any

import anthropic

from .claude_settings import CallDeadlineError

# Words of a 400 whose cause is the size of the request, not its shape.
TOO_LONG_WORDS = ("prompt is too long", "context window", "too many tokens", "context_length")
# Words of a 400 that rejects the thinking or effort setting (a model or server that does not take them).
THINKING_WORDS = ("thinking", "effort", "output_config")

STOP_REASONS = {"max_tokens": "max_tokens", "refusal": "refusal", "pause_turn": "pause_turn",
                "model_context_window_exceeded": "context_window"}


def failure_kind(error: anthropic.AnthropicError) -> str:
    """The `model_unavailable` kind of an SDK error (after its retries)."""
    if isinstance(error, CallDeadlineError | anthropic.APITimeoutError):
        return "timeout"
    if isinstance(error, anthropic.APIConnectionError):
        return "connection"
    if isinstance(error, anthropic.AuthenticationError | anthropic.CredentialsError):
        return "credentials"
    if isinstance(error, anthropic.PermissionDeniedError):
        return "permission"
    if isinstance(error, anthropic.NotFoundError):
        return "model_not_found"
    if isinstance(error, anthropic.PaymentRequiredError):
        return "billing"
    if isinstance(error, anthropic.RateLimitError):
        return "rate_limited"
    if isinstance(error, anthropic.OverloadedError | anthropic.ServiceUnavailableError):
        return "overloaded"
    if isinstance(error, anthropic.ContentTooLargeError) or (
            isinstance(error, anthropic.BadRequestError) and _says(error, TOO_LONG_WORDS)):
        return "too_long"
    if isinstance(error, anthropic.BadRequestError | anthropic.UnprocessableEntityError):
        return "bad_request"
    if isinstance(error, anthropic.APIStatusError) and error.status_code >= 500:
        return "server"
    return "other"


def rejects_thinking(error: anthropic.AnthropicError) -> bool:
    """A 400 about the thinking or effort setting: the call may be made again without them."""
    return isinstance(error, anthropic.BadRequestError) and _says(error, THINKING_WORDS)


def stop_kind(stop_reason: Any) -> str:
    """The `model_stopped` reason for a response that ended without an answer to show."""
    if stop_reason in STOP_REASONS:
        return STOP_REASONS[stop_reason]
    if stop_reason in ("end_turn", "stop_sequence", "tool_use"):
        return "empty"
    return "unknown"


def describe(error: BaseException) -> dict[str, Any]:
    """For the host's logs: the class and status, never the request (it may carry account data)."""
    return {"type": type(error).__name__, "status": getattr(error, "status_code", None),
            "request_id": getattr(error, "request_id", None)}


def _says(error: anthropic.AnthropicError, words: tuple[str, ...]) -> bool:
    text = str(getattr(error, "message", "") or error).lower()
    return any(word in text for word in words)
