"""The assistant's one face for both engines: `Assistant(client, engine).send(text) -> Reply`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from .. import messages
from .._http import Client
from ..audit import AuditLog, order_facts
from ..messages import render
from .confirmation import AnswerKind, read_answer
from .engine import Engine, EngineAnswer
from .gate import ConfirmationGate, DropReason, PendingCancel
from .replies import classify_reply
from .tools import ToolBox
from .truthful import claims_a_cancel, without_other_orders

logger = logging.getLogger(__name__)
# An order summary as a preview shows it, for `prepare` to read one answer with.
READ_ANSWER_SAMPLE = {"order_id": "ord_sample01", "symbol": "600519", "name": "贵州茅台", "side": "BUY", "qty": 100,
                      "remaining_qty": 100, "limit_price": "1675.00"}

Question = Literal["confirm", "choose"]


@dataclass(frozen=True)
class Action:
    """One tool call of a turn, as the engine made it."""

    tool: str
    arguments: dict[str, Any]
    ok: bool


@dataclass(frozen=True)
class Reply:
    """What the assistant said, and the structured state a host (or the evaluation harness) acts on."""

    text: str
    question: Question | None = None  # "confirm": a preview awaits a yes; "choose": pick from `candidates`
    pending: PendingCancel | None = None
    candidates: tuple[dict[str, Any], ...] = ()
    actions: tuple[Action, ...] = ()
    cancel_results: tuple[dict[str, Any], ...] = ()
    model_calls: int = 0
    input_tokens: int = 0  # all the input the model read: the three figures below added up
    output_tokens: int = 0
    uncached_input_tokens: int = 0  # input read afresh, at the full price
    cache_write_tokens: int = 0  # input written to the prompt cache (cache_creation_input_tokens)
    cache_read_tokens: int = 0  # input read from the prompt cache (cache_read_input_tokens)


def build_engine(name: str, tools: ToolBox, **options: Any) -> Engine:
    """The engine called `name` over `tools` (the command line picks engines by name); an option the engine does
    not take is a TypeError."""
    if name == "offline":
        from .offline import OfflineEngine

        return OfflineEngine(tools, **options)
    if name == "claude":
        from .claude import ClaudeEngine

        return ClaudeEngine(tools, **options)
    raise ValueError(f"unknown engine {name!r}: use 'offline' or 'claude'")


class Assistant:
    """A chat assistant over one account: `send` a message, read the `Reply`.

    `engine` is an engine object built over `ToolBox(client, ConfirmationGate())` (the Assistant holds its gate
    to the rules below), or the name of one, "offline" or "claude", built here with `options`.

    `read_only=True`: the tool box carries no write tool at all (see `ToolBox`), so nothing can be cancelled;
    a cancel request is answered with what read-only means and how to leave it.

    A host that shows the preview as buttons calls `approve()` or `reject()` instead of waiting for a typed
    "确认"; both go through the same gate as typed words.

    `audit`: where the conversation's audit entries go (`scripts.audit`): every preview shown, every answer to
    one (typed, or a button) and how the gate read it, every cancel and its outcome. Default: the log
    TRADING_AUDIT_LOG asks for, as the "chat" face. A log that cannot be written is said once, at the top of the
    next reply; it never stops a turn.

    Whatever the engine does, `send` holds it to three rules: a reply that leaves a preview pending ends with
    the project's own rendering of exactly those orders (a model's sentences naming other orders dropped); a
    model's claim of a cancel in a turn that cancelled nothing is corrected; and a turn that fails returns a
    sentence and leaves nothing pending, since the user never saw what it prepared.
    """

    def __init__(self, client: Client, engine: Engine | str = "offline", *, read_only: bool = False,
                 audit: AuditLog | None = None, **options: Any) -> None:
        self.client = client
        if isinstance(engine, str):
            self.gate = ConfirmationGate()
            self.tools = ToolBox(client, self.gate, read_only=read_only)
            self.engine = build_engine(engine, self.tools, **options)
            self._attach(audit)
            return
        if options:
            raise TypeError(f"options {sorted(options)} go to the engine's constructor, not to the Assistant")
        if engine.tools.client is not client:
            raise ValueError("the engine's tool box must work over the Assistant's own client")
        if read_only and not engine.tools.read_only:
            raise ValueError("read_only: build the engine over ToolBox(client, gate, read_only=True)")
        self.tools = engine.tools
        self.gate = engine.tools.gate
        self.engine = engine
        self._attach(audit)

    def _attach(self, audit: AuditLog | None) -> None:
        log = audit if audit is not None else AuditLog.from_env(face="chat")
        self.audit = log.bound(engine=self.engine.name)
        self.tools.audit = self.audit  # the tool box records the cancels themselves, as they are sent

    @property
    def pending(self) -> PendingCancel | None:
        return self.gate.pending

    @staticmethod
    def default_model() -> str:
        """The Claude model the claude engine uses when none is given (for hosts that also call Claude)."""
        from .claude_settings import default_model  # the SDK loads only when asked

        return default_model()

    def prepare(self) -> None:
        """Do the one-time work of a first turn now: the engine's reading of words (word lists, converters,
        patterns), the gate's and the first replies' templates. Sends no request, so a chat can call it while
        its broker is still starting."""
        prepare = getattr(self.engine, "prepare", None)  # optional in the Engine protocol
        if prepare is not None:
            prepare()
        read_answer("确认撤单吗？", [READ_ANSWER_SAMPLE])  # the gate reads every message: its patterns too
        messages.prepare()

    def send(self, text: str) -> Reply:
        return self._turn(text, None)

    def approve(self) -> Reply:
        """The host's "confirm" button for the pending preview (an explicit yes)."""
        if self.gate.pending is None:
            return self._nothing_to_decide("approve")
        return self._turn("确认", AnswerKind.YES)

    def reject(self) -> Reply:
        """The host's "cancel" button: the pending preview is dropped, nothing is cancelled."""
        if self.gate.pending is None:
            return self._nothing_to_decide("reject")
        return self._turn("取消", AnswerKind.NO)

    def _nothing_to_decide(self, action: str) -> Reply:
        self.tools.audit_record("approval", decision=action, via="button", order_ids=[], result="nothing_pending")
        return Reply(self._with_audit_problem(render("no_pending_action", action=action)))

    def _turn(self, text: str, forced: AnswerKind | None) -> Reply:
        self.tools.start_turn()
        before = self.gate.pending
        answer = self.gate.on_user_message(text, forced)
        if before is not None:
            self._record_answer(text, forced, answer.kind, before)
        reply_class = classify_reply(answer, text, self.gate.choices_shown)
        self.gate.choices_shown = 0
        try:
            result = self.engine.respond(text, reply_class)
        except Exception as error:  # a turn never raises to the host: the user reads what happened
            logger.warning("the %s engine failed a turn: %s", self.engine.name, type(error).__name__)
            result = EngineAnswer(render("turn_failed", changed=self._cancelled_now()), failed=True)
        record = self.tools.turn
        if result.failed and self.gate.shown_now() is not None:
            self.gate.drop(DropReason.TURN_FAILED)
        shown = self.gate.shown_now()
        words = result.text
        if result.model_written:
            if shown is not None:
                words = without_other_orders(words, shown.orders, self.tools.seen_orders())
            if not self._cancelled_now() and claims_a_cancel(words):
                words = _joined(words, render("nothing_cancelled"))
        if shown is not None and not words.rstrip().endswith(shown.text.strip()):
            words = _joined(words, shown.text)
        self._record_turn(shown, words)
        words = self._with_audit_problem(words)
        self.engine.replied(words)
        question: Question | None = "confirm" if shown else ("choose" if record.candidates else None)
        return Reply(
            text=words, question=question, pending=shown,
            candidates=tuple(record.candidates) if question == "choose" else (),
            actions=tuple(Action(name, arguments, ok) for name, arguments, ok in record.calls),
            cancel_results=tuple(record.cancel_results), model_calls=result.model_calls,
            input_tokens=result.input_tokens, output_tokens=result.output_tokens,
            uncached_input_tokens=result.uncached_input_tokens, cache_write_tokens=result.cache_write_tokens,
            cache_read_tokens=result.cache_read_tokens,
        )

    def _cancelled_now(self) -> bool:
        return any(result.get("ok") for result in self.tools.turn.cancel_results)

    # --- the audit trail: what was shown, what the user answered, what they read after a cancel ---------

    def _record_answer(self, text: str, forced: AnswerKind | None, kind: AnswerKind, before: PendingCancel) -> None:
        """How the gate read a message that answered a pending preview, and what became of the preview."""
        after, dropped = self.gate.pending, self.gate.dropped
        if after is None:
            reason = dropped.reason.value if dropped is not None and dropped.turn == self.gate.turn else None
            outcome: dict[str, Any] = {"result": "dropped", "reason": reason}
        else:
            outcome = {"result": "confirmed" if kind is AnswerKind.YES else "asked_again"}
        ids = list(before.order_ids)
        if forced is None:
            self.tools.audit_record("answer", words=text, kind=kind.value, order_ids=ids, **outcome)
        else:
            decision = "approve" if forced is AnswerKind.YES else "reject"
            self.tools.audit_record("approval", decision=decision, via="button", order_ids=ids, **outcome)

    def _record_turn(self, shown: PendingCancel | None, words: str) -> None:
        if shown is not None:
            self.tools.audit_record("preview_shown", order_ids=list(shown.order_ids),
                                    orders=[order_facts(order) for order in shown.orders], text=shown.text,
                                    reply=words, asks=shown.asks)
        if self.tools.turn.cancel_results:
            self.tools.audit_record("cancel_reported", order_ids=[result["order_id"] for result in
                                                                  self.tools.turn.cancel_results], text=words)

    def _with_audit_problem(self, words: str) -> str:
        """The reply, preceded once (per process) by the sentence saying the audit file cannot be written."""
        problem = self.audit.take_problem()
        if problem is None:
            return words
        return _joined(render("audit_unwritable", path=problem.path, reason=problem.reason), words)


def _joined(words: str, addition: str) -> str:
    words = words.strip()
    return f"{words}\n\n{addition.strip()}" if words else addition.strip()
