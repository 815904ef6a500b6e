"""The assistant's one face for both engines: `Assistant(client, engine).send(text) -> Reply`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from scripts._http import Client
from scripts.assistant.gate import ConfirmationGate, PendingCancel
from scripts.assistant.replies import ReplyClass, ReplyKind
from scripts.assistant.tools import ToolBox

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
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class EngineAnswer:
    text: str
    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Engine(Protocol):
    name: str

    def respond(self, text: str, reply: ReplyClass) -> EngineAnswer:
        """Answer one user message (already recorded by the gate), using only the tool box's tools."""
        ...


def build_engine(name: str, tools: ToolBox, **options: Any) -> Engine:
    if name == "offline":
        from scripts.assistant.offline import OfflineEngine

        return OfflineEngine(tools, **options)
    if name == "claude":
        from scripts.assistant.claude import ClaudeEngine

        return ClaudeEngine(tools, **options)
    raise ValueError(f"unknown engine {name!r}: use 'offline' or 'claude'")


class Assistant:
    """A chat assistant over one account: `send` a message, read the `Reply`.

    A host that shows the preview as buttons calls `approve()` or `reject()` instead of waiting for a typed
    "确认"; both go through the same gate as typed words.
    """

    def __init__(self, client: Client, engine: str = "offline", **options: Any) -> None:
        self.client = client
        self.gate = ConfirmationGate()
        self.tools = ToolBox(client, self.gate)
        self.engine = build_engine(engine, self.tools, **options)

    @property
    def pending(self) -> PendingCancel | None:
        return self.gate.pending

    def send(self, text: str) -> Reply:
        return self._turn(text, None)

    def approve(self) -> Reply:
        """The host's "confirm" button for the pending preview (an explicit yes)."""
        return self._turn("确认", ReplyKind.CONFIRM)

    def reject(self) -> Reply:
        """The host's "cancel" button: the pending preview is dropped, nothing is cancelled."""
        return self._turn("取消", ReplyKind.DENY)

    def _turn(self, text: str, forced: ReplyKind | None) -> Reply:
        self.tools.start_turn()
        reply_class = self.gate.on_user_message(text, forced)
        answer = self.engine.respond(text, reply_class)
        record = self.tools.turn
        pending = self.gate.pending
        fresh_preview = pending is not None and pending.created_turn == self.gate.turn
        question: Question | None = "confirm" if fresh_preview else ("choose" if record.candidates else None)
        return Reply(
            text=answer.text, question=question, pending=pending if fresh_preview else None,
            candidates=tuple(record.candidates) if question == "choose" else (),
            actions=tuple(Action(name, arguments, ok) for name, arguments, ok in record.calls),
            cancel_results=tuple(record.cancel_results), model_calls=answer.model_calls,
            input_tokens=answer.input_tokens, output_tokens=answer.output_tokens,
        )
