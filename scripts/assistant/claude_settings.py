"""How the Claude engine calls the Messages API: model, token limits, thinking, timeout and retries.

Every value comes from the installed `anthropic` SDK (2.14) and its documentation, and each can be overridden
per engine (`Assistant(client, engine="claude", model=..., timeout=..., ...)`):

- the model: `ANTHROPIC_MODEL`, else the newest Sonnet among the SDK's model literals (`types/model_param.py`,
  newest first); a chat's short tool loop needs Sonnet's speed more than Opus's depth;
- thinking: `{"type": "adaptive"}` (the model decides whether to think; current models accept it, several
  accept nothing else) with `output_config.effort = "medium"`: a step of a short tool loop is rarely hard,
  and effort governs every token of the response, tool calls included;
- `max_tokens`: room for adaptive thinking plus a short answer or a tool call, well under the SDK's
  non-streaming ceiling (it refuses a non-streaming request whose expected time exceeds 10 minutes);
- `timeout`: the longest one model call may take, the SDK's retries included (`CallDeadline`); the SDK's
  default is 10 minutes per attempt, times its retries, which a chat cannot wait for;
- `max_retries`: the SDK's own retries of 408/409/429/5xx and connection errors.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Literal

import anthropic

DEFAULT_MODEL = "claude-sonnet-5-5"  # the first Sonnet in anthropic 2.14's ModelParam literals
MAX_TOKENS = 8192  # adaptive thinking at medium effort plus a chat answer; at ~100 tokens/s it fits the timeout
TIMEOUT_SECONDS = 60.0
MAX_RETRIES = 2  # the SDK's default
# The SDK refuses to send a request without some credential; a compatible local server (ANTHROPIC_BASE_URL
# alone, see the architecture) takes none, so it gets this placeholder instead of a real key.
LOCAL_SERVER_KEY = "no-key-for-local-server"

Effort = Literal["low", "medium", "high", "xhigh", "max"]
EFFORT: Effort = "medium"


@dataclass(frozen=True)
class CallSettings:
    """What every `messages.create` of one engine carries besides the conversation."""

    model: str
    max_tokens: int = MAX_TOKENS
    thinking: bool = True
    effort: Effort | None = EFFORT

    def request_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"model": self.model, "max_tokens": self.max_tokens}
        if self.thinking:
            options["thinking"] = {"type": "adaptive"}
        if self.effort:
            options["output_config"] = {"effort": self.effort}
        return options

    def without_thinking(self) -> CallSettings:
        """For a model (or compatible server) that rejects adaptive thinking or effort."""
        return CallSettings(self.model, self.max_tokens, thinking=False, effort=None)


def default_model() -> str:
    return os.environ.get("ANTHROPIC_MODEL") or DEFAULT_MODEL


class CallDeadlineError(anthropic.AnthropicError):
    """A model call ran out of its time, retries included (not retried: the SDK retries only its own errors)."""


class CallDeadline(anthropic.Middleware):
    """Bounds a whole model call by `seconds`: each attempt gets the time that is left, and no attempt starts
    once it has run out. (A back-off pause the SDK takes between attempts may end past it; the next attempt
    then stops at once.)"""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._deadline = 0.0

    def handle(self, request: Any, call_next: Any) -> Any:
        if request.retries_taken == 0:
            self._deadline = time.monotonic() + self.seconds
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise CallDeadlineError(f"no answer within {self.seconds:g} s")
        return call_next(request.copy(timeout=left))


def sdk_client(api_key: str | None, base_url: str | None, max_retries: int,
               timeout: float) -> anthropic.Anthropic | None:
    """The SDK's client, its credentials resolved as the SDK does (argument, environment, profile); None when
    there are none, since the SDK would then refuse every request."""
    base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL")
    options: dict[str, Any] = {"base_url": base_url, "max_retries": max_retries, "timeout": timeout,
                               "middleware": [CallDeadline(timeout)]}
    try:
        client: anthropic.Anthropic | None = anthropic.Anthropic(api_key=api_key, **options)
    except anthropic.CredentialsError:
        if not base_url:
            raise
        client = None
    if client is not None and (client.api_key or client.auth_token or client.credentials):
        return client
    if base_url:
        return anthropic.Anthropic(api_key=LOCAL_SERVER_KEY, **options)
    return None
