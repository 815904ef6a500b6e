"""The confirmation gate: a cancel runs only on a preview the user saw and then explicitly confirmed.

This is code, not prompt: the write tool asks `ConfirmationGate.authorize` and is refused (a tool error
the model sees) when there is no pending preview, when the preview was made after the user's latest
message, when that message is not an explicit confirmation, or when the ids differ from the preview's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scripts.assistant.replies import ReplyClass, ReplyKind, classify_reply


@dataclass(frozen=True)
class PendingCancel:
    """A cancel shown to the user and awaiting their answer: exactly these orders, as previewed."""

    order_ids: tuple[str, ...]
    orders: tuple[dict[str, Any], ...]  # the order summaries the preview showed
    created_turn: int  # the user turn the preview answered; only a later turn can confirm it
    text: str = ""  # the preview as the user read it


class GateRefusalError(Exception):
    """The gate refused a write; `reason` names why (no_preview, stale_preview, not_confirmed, other_ids)."""

    def __init__(self, reason: str, requested: tuple[str, ...], previewed: tuple[str, ...]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.requested = requested
        self.previewed = previewed


@dataclass
class ConfirmationGate:
    turn: int = 0
    pending: PendingCancel | None = None
    latest: ReplyClass = field(default_factory=lambda: ReplyClass(ReplyKind.OTHER))
    choices_shown: int = 0  # numbered candidates in the last reply, so "第二个" can be read

    def on_user_message(self, text: str, forced: ReplyKind | None = None) -> ReplyClass:
        """Record a new user turn and classify it; any answer but a confirmation ends the pending preview.

        `forced` is a host application's button (approve/reject) standing in for typed words.
        """
        self.turn += 1
        self.latest = ReplyClass(forced) if forced is not None else classify_reply(text, self.choices_shown)
        self.choices_shown = 0
        if self.pending is not None and self.latest.kind is not ReplyKind.CONFIRM:
            # The pending preview dies when the user says anything else (a new request, a refusal, "好").
            self.pending = None
        return self.latest

    def propose(self, order_ids: list[str], orders: list[dict[str, Any]], text: str = "") -> PendingCancel:
        """Bind a preview to these orders; it can be confirmed only by the user's next message."""
        self.pending = PendingCancel(tuple(order_ids), tuple(orders), self.turn, text)
        return self.pending

    def authorize(self, order_ids: list[str]) -> PendingCancel:
        """Allow a cancel of exactly the pending preview's orders, once; raise GateRefusalError otherwise."""
        requested = tuple(order_ids)
        pending = self.pending
        if pending is None:
            raise GateRefusalError("no_preview", requested, ())
        if pending.created_turn >= self.turn:
            raise GateRefusalError("stale_preview", requested, pending.order_ids)
        if self.latest.kind is not ReplyKind.CONFIRM:
            raise GateRefusalError("not_confirmed", requested, pending.order_ids)
        if sorted(set(requested)) != sorted(pending.order_ids) or len(requested) != len(set(requested)):
            raise GateRefusalError("other_ids", requested, pending.order_ids)
        self.pending = None  # one confirmation, one cancel
        return pending

    def reject(self) -> PendingCancel | None:
        dropped, self.pending = self.pending, None
        return dropped
