"""The Claude engine: the Messages API tool-use loop over the assistant's tools and confirmation gate.

Per user message: send the conversation (bounded: `history.py`) with `tools.definitions()`, run the tools
the model asks for, send their results back, until the model ends its turn. The gate, not the prompt,
decides whether a cancel runs: its refusal reaches the model as a `tool_result` with `is_error: true` and the
code CONFIRMATION_REQUIRED, like every other tool error (`code`, `recovery_hint`, `user_message`).

One tool call at a time: the request sets `tool_choice.disable_parallel_tool_use`, so the model reads each
result before its next step. A compatible server may ignore that flag: several `tool_use` blocks in one
response are then run in their order, at most `max_tool_calls` of them; the rest are taken out of the
history and the model reads, beside the results, that they were not run and why.

Whatever the model writes, the user sees the facts that matter: a choice list or a cancel's released cash or
shares are added when the model's words lack them (the `Assistant` adds the pending preview).

Nothing can make `respond` raise or wait past the call timeout: an SDK error (after its retries, within the
timeout: `claude_settings.CallDeadline`), a malformed body, any stop_reason other than an answer or a tool
call, and too many rounds each end the turn with a sentence from `scripts/messages/` saying what happened and
what to do, and roll the turn back to a plain exchange of the user's words and that sentence, so the next
turn starts from a history the API accepts. Nothing undeclared, empty or refused is ever stored.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anthropic

from ..messages import money, render
from .claude_settings import (
    DEFAULT_MODEL,
    EFFORT,
    LOCAL_SERVER_KEY,
    MAX_RETRIES,
    MAX_TOKENS,
    TIMEOUT_SECONDS,
    CallSettings,
    Effort,
    default_model,
    sdk_client,
)
from .engine import EngineAnswer
from .history import BUDGET_CHARS, History, shortened_result
from .model_failures import describe, failure_kind, rejects_thinking, stop_kind
from .prompt import system_prompt
from .replies import ReplyClass
from .tools import ToolBox, ToolResult, bounded

# DEFAULT_MODEL and LOCAL_SERVER_KEY are re-exported: hosts and tests read them here.
__all__ = ["DEFAULT_MODEL", "LOCAL_SERVER_KEY", "MAX_TOOL_CALLS", "ClaudeEngine"]

logger = logging.getLogger(__name__)

MAX_TOOL_CALLS = 4  # per response: a step of this chat needs one or two; 300 would be 300 broker requests
RESULT_CHARS = 20_000  # a tool result longer than this goes to the model shortened (history.shortened_result)

READ_ONLY_NOTE = ("\n\nThis session is read-only: there is no preview_cancel or cancel_orders tool, so nothing can be "
                  "cancelled. When the user asks to cancel, say so in Chinese and tell them to unset "
                  "TRADING_READ_ONLY (or drop --read-only) and start again; never claim a cancel.")


class ClaudeEngine:
    """Answers each user message with Claude through the `anthropic` SDK, keeping the conversation."""

    name = "claude"

    def __init__(self, tools: ToolBox, model: str | None = None, max_retries: int = MAX_RETRIES,
                 api_key: str | None = None, base_url: str | None = None, max_tool_rounds: int = 8,
                 anthropic_client: Any = None, timeout: float = TIMEOUT_SECONDS, max_tokens: int = MAX_TOKENS,
                 thinking: bool = True, effort: Effort | None = EFFORT, max_tool_calls: int = MAX_TOOL_CALLS,
                 context_budget: int = BUDGET_CHARS) -> None:
        self.tools = tools
        self.settings = CallSettings(model or default_model(), max_tokens, thinking, effort)
        self.timeout = timeout
        self.max_tool_rounds = max_tool_rounds
        self.max_tool_calls = max_tool_calls
        self.client: Any = anthropic_client
        if self.client is None:
            try:
                self.client = sdk_client(api_key, base_url, max_retries, timeout)
            except anthropic.AnthropicError:
                self.client = None  # no usable credentials: every answer says so, none raises
        self.history = History(context_budget)
        # A cache breakpoint after the system prompt caches tools + system (the API caches in that order); the
        # history's own breakpoint on its last block caches the conversation on top.
        prompt = system_prompt() + (READ_ONLY_NOTE if tools.read_only else "")
        self.system = [{"type": "text", "text": prompt, "cache_control": {"type": "ephemeral"}}]
        self.tool_definitions = tools.definitions()
        self.declared = {definition["name"] for definition in self.tool_definitions}

    @property
    def model(self) -> str:
        return self.settings.model

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The stored conversation (each call sends a bounded view of it)."""
        return self.history.messages

    def respond(self, text: str, reply: ReplyClass) -> EngineAnswer:
        """One user message → the model's answer, after as many tool rounds as it needs (at most max_tool_rounds).

        `reply` (the gate's reading of the message) is not shown to the model: the gate enforces it.
        """
        turn = _TurnTally()
        mark = self.history.start_turn(text)
        try:
            return self._loop(turn, mark, text)
        except Exception as error:  # a body the SDK let through but that has no shape we can read
            logger.warning("malformed model response: %s", type(error).__name__)
            return self._fail(turn, mark, text, "model_stopped", reason="malformed", error=describe(error))

    def _loop(self, turn: _TurnTally, mark: int, text: str) -> EngineAnswer:
        if self.client is None:
            return self._fail(turn, mark, text, "model_unavailable", kind="credentials",
                              error={"type": "CredentialsError", "status": None, "request_id": None})
        for rounds in range(self.max_tool_rounds + 1):
            try:
                response = self._create()
            except anthropic.APIResponseValidationError as error:
                return self._fail(turn, mark, text, "model_stopped", reason="malformed", error=describe(error))
            except anthropic.AnthropicError as error:
                kind = failure_kind(error)
                if kind == "too_long":
                    self.history.shrink()
                return self._fail(turn, mark, text, "model_unavailable", kind=kind, error=describe(error))
            if not isinstance(response.content, list) or response.usage is None:
                return self._fail(turn, mark, text, "model_stopped", reason="malformed",
                                  error={"type": "MalformedResponse", "status": 200, "request_id": None})
            turn.count(response.usage)
            content = [_block_param(block) for block in response.content if not _empty_text(block)]
            if response.stop_reason != "tool_use":
                words = "\n".join(block["text"] for block in content if block["type"] == "text").strip()
                if response.stop_reason in ("end_turn", "stop_sequence") and words:
                    # Only a tool_use answered by a tool_result may stay in the history.
                    return self._finish(turn, words, [block for block in content if block["type"] != "tool_use"])
                reason = stop_kind(response.stop_reason)
                if reason == "context_window":
                    self.history.shrink()
                return self._fail(turn, mark, text, "model_stopped", reason=reason,
                                  stop_reason=response.stop_reason)
            asked = [block for block in content if block["type"] == "tool_use"]
            if not asked:
                return self._fail(turn, mark, text, "model_stopped", reason="empty", stop_reason="tool_use")
            if rounds == self.max_tool_rounds:
                break
            self._run_round(content, asked, turn)
        return self._fail(turn, mark, text, "model_stopped", reason="max_rounds", stop_reason="max_rounds")

    def _create(self) -> Any:
        """One model call; a model or server that rejects the thinking setting gets the call again without it
        (and every later call of this engine goes without it)."""
        try:
            return self._call()
        except anthropic.BadRequestError as error:
            if not rejects_thinking(error) or not (self.settings.thinking or self.settings.effort):
                raise
            logger.warning("%s rejects adaptive thinking or effort: calling without them", self.model)
            self.settings = self.settings.without_thinking()
            return self._call()

    def _call(self) -> Any:
        return self.client.messages.create(
            **self.settings.request_options(), system=self.system, tools=self.tool_definitions,
            tool_choice={"type": "auto", "disable_parallel_tool_use": True}, messages=self.history.request())

    # --- the conversation ------------------------------------------------------------------------

    def _run_round(self, content: list[dict[str, Any]], asked: list[dict[str, Any]], turn: _TurnTally) -> None:
        """Run at most `max_tool_calls` declared tool calls; store the response without the calls that were
        not run, and tell the model why they were not (a tool_use of an undeclared tool would make every later
        request invalid, as would 300 tool_use blocks make every later request huge)."""
        declared = [block for block in asked if block["name"] in self.declared]
        run = declared[: self.max_tool_calls]
        unknown = [block for block in asked if block["name"] not in self.declared][: self.max_tool_calls]
        kept = {block["id"] for block in run}
        stored = [block for block in content if block["type"] != "tool_use" or block["id"] in kept]
        stored += [{"type": "text", "text": f"(requested the unknown tool {bounded(block['name'])})"}
                   for block in unknown]
        self.history.messages.append({"role": "assistant", "content": stored})
        results = [self._run(block, turn) for block in run]
        notes = [{"type": "text", "text": _json(self.tools.call(block["name"], {}).content)} for block in unknown]
        surplus = declared[self.max_tool_calls:]
        if surplus:
            names = ", ".join(dict.fromkeys(bounded(block["name"]) for block in surplus))
            notes.append({"type": "text", "text": _json({"error": {
                "code": "TOO_MANY_TOOL_CALLS", "recovery_hint": "fix_input",
                "user_message": f"Not run: {len(surplus)} more tool calls ({names}). At most {self.max_tool_calls} "
                                "tool calls per response; make the ones still needed after reading these results."}})})
        self.history.messages.append({"role": "user", "content": results + notes})

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
        self.history.messages.append({"role": "assistant", "content": content + [
            {"type": "text", "text": addition} for addition in additions]})
        return turn.answer(shown, model_written=True)

    def replied(self, text: str) -> None:
        """The history keeps what the user read: the text blocks of the turn's last answer become `text`
        (thinking blocks stay as they are, signatures included)."""
        messages = self.history.messages
        if not messages or messages[-1]["role"] != "assistant":
            return
        last = messages[-1]
        last["content"] = [block for block in last["content"] if block["type"] != "text"]
        last["content"].append({"type": "text", "text": text})

    def _fail(self, turn: _TurnTally, mark: int, text: str, template: str, error: dict[str, Any] | None = None,
              stop_reason: Any = None, **context: Any) -> EngineAnswer:
        """A turn that did not complete: the user reads what happened and what to do (and any cancel that did
        happen), and the history keeps only that exchange, in plain text."""
        sentence = render(template, changed=self._changed(), model=bounded(self.model),
                          seconds=f"{self.timeout:g}", stop_reason=bounded(str(stop_reason), 40), **context)
        record = self.tools.turn
        if record.cancel_results:
            sentence = "\n\n".join([render("cancelled", results=record.cancel_results, available=None), sentence])
        self.history.rollback(mark, text, sentence)
        extra: dict[str, Any] = {"error": error} if error else {}
        if stop_reason is not None:
            extra["stop_reason"] = stop_reason
        return turn.answer(sentence, failed=True, extra=extra)

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
    """Model calls and tokens of one user turn (input apart: uncached, written to and read from the prompt
    cache), and the choice list shown in it."""

    def __init__(self) -> None:
        self.model_calls = 0
        self.uncached_input_tokens = 0
        self.cache_write_tokens = 0
        self.cache_read_tokens = 0
        self.output_tokens = 0
        self.candidates_text = ""

    def count(self, usage: Any) -> None:
        self.model_calls += 1
        self.uncached_input_tokens += getattr(usage, "input_tokens", 0) or 0
        self.cache_write_tokens += getattr(usage, "cache_creation_input_tokens", 0) or 0
        self.cache_read_tokens += getattr(usage, "cache_read_input_tokens", 0) or 0
        self.output_tokens += getattr(usage, "output_tokens", 0) or 0

    def answer(self, text: str, **fields: Any) -> EngineAnswer:
        return EngineAnswer(text, model_calls=self.model_calls, uncached_input_tokens=self.uncached_input_tokens,
                            cache_write_tokens=self.cache_write_tokens, cache_read_tokens=self.cache_read_tokens,
                            output_tokens=self.output_tokens, **fields)


class MalformedBlockError(ValueError):
    """A response block without the fields its type needs (the SDK does not validate responses)."""


def _block_param(block: Any) -> dict[str, Any]:
    """A response block as the request param the next call sends back (no response-only fields)."""
    if block.type == "text":
        if not isinstance(block.text, str):
            raise MalformedBlockError("text")
        return {"type": "text", "text": block.text}
    if block.type == "tool_use":
        fields = (getattr(block, "id", None), getattr(block, "name", None), getattr(block, "input", None))
        if not (isinstance(fields[0], str) and fields[0] and isinstance(fields[1], str) and fields[1]):
            raise MalformedBlockError("tool_use")
        return {"type": "tool_use", "id": fields[0], "name": fields[1],
                "input": fields[2] if isinstance(fields[2], dict) else {}}
    return block.model_dump(exclude_none=True)  # thinking and others go back unchanged, signatures included


def _empty_text(block: Any) -> bool:
    return block.type == "text" and not block.text.strip()  # the API refuses empty text blocks sent back


def _tool_result(tool_use_id: str, result: ToolResult) -> dict[str, Any]:
    body = json.dumps(result.content, ensure_ascii=False, separators=(",", ":"), default=str)
    if len(body) > RESULT_CHARS:  # a 200-order page: every order still there, each by its facts only
        body = shortened_result(body, list_keep=None)
    return {"type": "tool_result", "tool_use_id": tool_use_id, "content": body, "is_error": result.is_error}


def _json(content: dict[str, Any]) -> str:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"), default=str)


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
