"""The Claude engine: the Messages API tool-use loop over the assistant's tools and confirmation gate.

Per user message: send the conversation with `tools.definitions()`, run the tools the model asks for, send
their results back, until the model ends its turn. The gate, not the prompt, decides whether a cancel runs:
its refusal reaches the model as a `tool_result` with `is_error: true` and the code CONFIRMATION_REQUIRED,
like every other tool error (`code`, `recovery_hint`, `user_message`).

One tool call at a time: the request sets `tool_choice.disable_parallel_tool_use`, so the model reads each
result before its next step (a preview and its cancel can never come in one breath). A compatible server may
ignore that flag; several `tool_use` blocks in one response are then run in their order and all their
results go back in the next message, as the API requires.

Whatever the model writes, the user sees the facts that matter: a preview made this turn is shown with its
exact text (amounts and ids) when the model's words lack them, as are a cancel's released cash or shares and
a numbered choice. Failures of the model API (after the SDK's own `max_retries`) and turns that end without
an answer become sentences from `scripts/messages/`, never a traceback.
"""

from __future__ import annotations

import json
import os
from typing import Any

import anthropic

from scripts.assistant.core import EngineAnswer
from scripts.assistant.prompt import system_prompt
from scripts.assistant.replies import ReplyClass
from scripts.assistant.tools import ToolBox, ToolResult
from scripts.messages import money, render

# The newest Claude Sonnet id among the installed SDK's model literals (anthropic 2.14); ANTHROPIC_MODEL overrides.
DEFAULT_MODEL = "claude-sonnet-5-5"
MAX_TOKENS = 2048  # a chat reply and a tool call or two; far below the non-streaming limits
# The SDK refuses to send a request without some credential; a compatible local server (ANTHROPIC_BASE_URL
# alone, see the architecture) takes none, so it gets this placeholder instead of a real key.
LOCAL_SERVER_KEY = "no-key-for-local-server"


class ClaudeEngine:
    """Answers each user message with Claude through the `anthropic` SDK, keeping the conversation."""

    name = "claude"

    def __init__(self, tools: ToolBox, model: str | None = None, max_retries: int = 2, api_key: str | None = None,
                 base_url: str | None = None, max_tool_rounds: int = 8, anthropic_client: Any = None) -> None:
        self.tools = tools
        self.model = model or os.environ.get("ANTHROPIC_MODEL") or DEFAULT_MODEL
        self.max_tool_rounds = max_tool_rounds
        self.client: Any = anthropic_client
        if self.client is None:
            try:
                self.client = _anthropic_client(api_key, base_url, max_retries)
            except anthropic.AnthropicError:
                self.client = None  # no usable credentials: every answer says so, none raises
        self.messages: list[dict[str, Any]] = []  # the whole conversation, tool_use and tool_result blocks included
        # A cache breakpoint after the system prompt caches tools + system (the API caches in that order).
        self.system = [{"type": "text", "text": system_prompt(), "cache_control": {"type": "ephemeral"}}]
        self.tool_definitions = tools.definitions()

    def respond(self, text: str, reply: ReplyClass) -> EngineAnswer:
        """One user message → the model's answer, after as many tool rounds as it needs (at most max_tool_rounds).

        `reply` (the gate's reading of the message) is not shown to the model: the gate enforces it. A turn
        that fails in any way leaves the history as if it had been a plain exchange of the user's words and
        the sentence they were shown, so the next turn starts from a conversation the API accepts.
        """
        turn = _TurnTally()
        mark = len(self.messages)
        self.messages.append({"role": "user", "content": [{"type": "text", "text": text}]})
        try:
            return self._loop(turn, mark, text)
        except Exception as error:  # a body the SDK could not shape (no usage, no content, not JSON)
            return self._fail(turn, mark, text, render("model_stopped", reason="malformed", changed=self._changed()),
                              error={"type": type(error).__name__, "status": None, "request_id": None})

    def _loop(self, turn: _TurnTally, mark: int, text: str) -> EngineAnswer:
        if self.client is None:
            return self._fail(turn, mark, text, render("model_unavailable", kind="credentials", changed=False),
                              error={"type": "CredentialsError", "status": None, "request_id": None})
        for rounds in range(self.max_tool_rounds + 1):
            try:
                response = self.client.messages.create(
                    model=self.model, max_tokens=MAX_TOKENS, system=self.system, tools=self.tool_definitions,
                    tool_choice={"type": "auto", "disable_parallel_tool_use": True}, messages=self.messages)
            except anthropic.AnthropicError as error:
                return self._fail(turn, mark, text, render("model_unavailable", kind=_failure_kind(error),
                                                           changed=self._changed()), error=_describe(error))
            turn.count(response.usage)
            content = [_block_param(block) for block in response.content if not _empty_text(block)]
            if response.stop_reason != "tool_use":
                words = "\n".join(block["text"] for block in content if block["type"] == "text").strip()
                if response.stop_reason in ("end_turn", "stop_sequence") and words:
                    # Only a tool_use answered by a tool_result may stay in the history.
                    return self._finish(turn, words, [block for block in content if block["type"] != "tool_use"])
                reason = response.stop_reason if response.stop_reason in ("max_tokens", "refusal") else "empty"
                return self._fail(turn, mark, text, render("model_stopped", reason=reason, changed=self._changed()),
                                  stop_reason=response.stop_reason)
            asked = [block for block in content if block["type"] == "tool_use"]
            if not asked:
                return self._fail(turn, mark, text, render("model_stopped", reason="empty", changed=self._changed()),
                                  stop_reason=response.stop_reason)
            if rounds == self.max_tool_rounds:
                break
            declared = {definition["name"] for definition in self.tool_definitions}
            # A tool_use of an undeclared tool would make every later request invalid: it is stored as a note,
            # and its error goes back as text beside the results of the real calls.
            self.messages.append({"role": "assistant", "content": [
                block if block["type"] != "tool_use" or block["name"] in declared
                else {"type": "text", "text": f"(requested the unknown tool {_bounded(block['name'])})"}
                for block in content]})
            results = [self._run(block, turn) for block in asked if block["name"] in declared]
            notes = [{"type": "text", "text": _json(self.tools.call(block["name"], {}).content)}
                     for block in asked if block["name"] not in declared]
            self.messages.append({"role": "user", "content": results + notes})
        return self._fail(turn, mark, text, render("model_stopped", reason="max_rounds", changed=self._changed()),
                          stop_reason="max_rounds")

    # --- the conversation ------------------------------------------------------------------------

    def _run(self, block: dict[str, Any], turn: _TurnTally) -> dict[str, Any]:
        result = self.tools.call(block["name"], block["input"] if isinstance(block["input"], dict) else {})
        if block["name"] == "present_candidates" and not result.is_error:
            turn.candidates_text = result.content.get("text", "")
        return _tool_result(block["id"], result)

    def _changed(self) -> bool:
        return any(result.get("ok") for result in self.tools.turn.cancel_results)

    def _finish(self, turn: _TurnTally, words: str, content: list[dict[str, Any]]) -> EngineAnswer:
        """The reply the user reads: the model's words plus any fact they left out (the `Assistant` then adds
        the pending preview and checks the words). What the user read goes into the history."""
        additions = self._missing_facts(words, turn)
        shown = "\n\n".join([words, *additions])
        self.messages.append({"role": "assistant",
                              "content": content + [{"type": "text", "text": addition} for addition in additions]})
        return EngineAnswer(shown, model_written=True, model_calls=turn.model_calls,
                            input_tokens=turn.input_tokens, output_tokens=turn.output_tokens)

    def replied(self, text: str) -> None:
        """The history keeps what the user read: the text blocks of the turn's last answer become `text`
        (thinking blocks stay as they are, signatures included)."""
        if not self.messages or self.messages[-1]["role"] != "assistant":
            return
        last = self.messages[-1]
        last["content"] = [block for block in last["content"] if block["type"] != "text"]
        last["content"].append({"type": "text", "text": text})

    def _fail(self, turn: _TurnTally, mark: int, text: str, sentence: str, **extra: Any) -> EngineAnswer:
        """A turn that did not complete: the user reads `sentence` (and any cancel that did happen), and the
        history keeps only that exchange, in plain text: nothing undeclared, empty or refused is stored."""
        record = self.tools.turn
        if record.cancel_results:
            sentence = "\n\n".join([render("cancelled", results=record.cancel_results, available=None), sentence])
        del self.messages[mark:]
        self.messages.append({"role": "user", "content": [{"type": "text", "text": text}]})
        self.messages.append({"role": "assistant", "content": [{"type": "text", "text": sentence}]})
        return EngineAnswer(sentence, failed=True, model_calls=turn.model_calls, input_tokens=turn.input_tokens,
                            output_tokens=turn.output_tokens, extra=extra)

    def _missing_facts(self, words: str, turn: _TurnTally) -> list[str]:
        record = self.tools.turn
        additions: list[str] = []
        if record.candidates and turn.candidates_text:
            additions.append(_unless_said(words, turn.candidates_text, [c["short_id"] for c in record.candidates]))
        if record.cancel_results:
            cancelled = render("cancelled", results=record.cancel_results, available=None)
            additions.append(_unless_said(words, cancelled, _released_figures(record.cancel_results)))
        return [addition for addition in additions if addition]


class _TurnTally:
    """Model calls and tokens of one user turn, and the choice list shown in it."""

    def __init__(self) -> None:
        self.model_calls = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.candidates_text = ""

    def count(self, usage: Any) -> None:
        self.model_calls += 1
        # Input the model read: uncached tokens plus those written to or read from the prompt cache.
        self.input_tokens += (usage.input_tokens + (getattr(usage, "cache_creation_input_tokens", 0) or 0)
                              + (getattr(usage, "cache_read_input_tokens", 0) or 0))
        self.output_tokens += usage.output_tokens


def _anthropic_client(api_key: str | None, base_url: str | None, max_retries: int) -> anthropic.Anthropic | None:
    """The SDK's client, its credentials resolved as the SDK does (argument, environment, profile); None when
    there are none, since the SDK would then refuse every request."""
    base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL")
    try:
        client: anthropic.Anthropic | None = anthropic.Anthropic(api_key=api_key, base_url=base_url,
                                                                 max_retries=max_retries)
    except anthropic.CredentialsError:
        if not base_url:
            raise
        client = None
    if client is not None and (client.api_key or client.auth_token or client.credentials):
        return client
    if base_url:
        return anthropic.Anthropic(api_key=LOCAL_SERVER_KEY, base_url=base_url, max_retries=max_retries)
    return None


def _block_param(block: Any) -> dict[str, Any]:
    """A response block as the request param the next call sends back (no response-only fields)."""
    if block.type == "text":
        return {"type": "text", "text": block.text}
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return block.model_dump(exclude_none=True)  # thinking and others go back unchanged, signatures included


def _empty_text(block: Any) -> bool:
    return block.type == "text" and not block.text.strip()  # the API refuses empty text blocks sent back


def _tool_result(tool_use_id: str, result: ToolResult) -> dict[str, Any]:
    body = json.dumps(result.content, ensure_ascii=False, separators=(",", ":"), default=str)
    return {"type": "tool_result", "tool_use_id": tool_use_id, "content": body, "is_error": result.is_error}


def _json(content: dict[str, Any]) -> str:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"), default=str)


def _bounded(value: str, limit: int = 64) -> str:
    """A model-supplied string as it may be repeated back: never longer than `limit`."""
    return value if len(value) <= limit else value[:limit] + "…"


def _unless_said(words: str, fact_text: str, figures: list[str]) -> str:
    """`fact_text` when the words miss it or any of its figures; "" when they already carry all of them."""
    if fact_text in words or all(figure in words for figure in figures):
        return ""
    return fact_text


def _released_figures(results: list[dict[str, Any]]) -> list[str]:
    figures = []
    for result in results:
        if not result["ok"]:
            now = result.get("order_now")
            figures.append(now["state_label"] if now else result["code"])
        elif result["order"]["side"] == "BUY":
            figures.append(money(result["order"]["released"]["cash"]))
        else:
            figures.append(f"{result['order']['released']['qty']}")
    return figures


def _failure_kind(error: anthropic.AnthropicError) -> str:
    if isinstance(error, anthropic.RateLimitError):
        return "rate_limited"
    if isinstance(error, anthropic.OverloadedError | anthropic.ServiceUnavailableError):
        return "overloaded"
    if isinstance(error, anthropic.APIConnectionError):
        return "connection"
    if isinstance(error, anthropic.AuthenticationError | anthropic.PermissionDeniedError | anthropic.CredentialsError):
        return "credentials"
    return "other"


def _describe(error: anthropic.AnthropicError) -> dict[str, Any]:
    """For the host's logs: the class and status, never the request (it may carry account data)."""
    return {"type": type(error).__name__, "status": getattr(error, "status_code", None),
            "request_id": getattr(error, "request_id", None)}
