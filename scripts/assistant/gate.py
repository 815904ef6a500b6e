"""The confirmation gate: a cancel runs only on a preview the user saw and then explicitly confirmed.

This is code, not prompt: the write tool asks `ConfirmationGate.authorize` and is refused (a tool error the
model sees, with the reason) when there is no pending preview, when the preview has not yet been shown in a
returned reply, when the user's latest message is not an explicit yes to it (`confirmation.read_answer`),
when the ids differ from the preview's, or when the preview has expired. A turn arms at most one preview.
A preview that is dropped remembers why, so the model is told "the user declined", not "preview first".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from .confirmation import Answer, AnswerKind, read_answer

PREVIEW_TTL_SECONDS = 300.0  # a yes after five minutes confirms a picture of the market that may be gone
MAX_ASKS = 2  # a weak answer or a question gets the preview once more, then it is dropped


class DropReason(Enum):
    """Why a pending preview ended without a cancel."""

    DECLINED = "declined"  # the user said no
    UNCONFIRMED = "unconfirmed"  # weak or unclear answers, asked twice
    MISMATCH = "mismatch"  # the user restated other orders, another count or side
    NEW_REQUEST = "new_request"  # the user asked for something else
    EXPIRED = "expired"  # too long between the preview and the yes
    NOT_OPEN = "not_open"  # an order of it is no longer open
    TURN_FAILED = "turn_failed"  # the reply that carried it was never returned
    REPLACED = "replaced"  # a newer preview took its place


@dataclass(frozen=True)
class PendingCancel:
    """A cancel shown to the user and awaiting their answer: exactly these orders, as previewed."""

    order_ids: tuple[str, ...]
    orders: tuple[dict[str, Any], ...]  # the order summaries the preview showed
    created_turn: int  # the user turn whose reply first showed it
    text: str = ""  # the preview as the user reads it, rendered from `orders` by the templates
    shown_turn: int = 0  # the latest turn whose reply carries it; only a later message can confirm it
    asks: int = 1  # how many replies have asked about it
    created_at: float = 0.0  # the gate's clock when it was made


@dataclass(frozen=True)
class DroppedPreview:
    order_ids: tuple[str, ...]
    reason: DropReason
    turn: int


class GateRefusalError(Exception):
    """The gate refused an action; `reason` is a DropReason value or no_preview, stale_preview,
    not_confirmed, other_ids or second_preview."""

    def __init__(self, reason: str, requested: tuple[str, ...], previewed: tuple[str, ...]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.requested = requested
        self.previewed = previewed


@dataclass
class ConfirmationGate:
    turn: int = 0
    pending: PendingCancel | None = None
    dropped: DroppedPreview | None = None
    answer: Answer = field(default_factory=lambda: Answer(AnswerKind.OTHER))
    choices_shown: int = 0  # numbered candidates in the last reply, so "第二个" can be read
    previewed_turn: int = -1  # the turn that made the latest preview: one per turn
    clock: Callable[[], float] = time.monotonic
    ttl_seconds: float = PREVIEW_TTL_SECONDS

    def on_user_message(self, text: str, forced: AnswerKind | None = None) -> Answer:
        """Record a new user turn and read it against the pending preview, which lives on only for a yes,
        or (once) for a weak answer or a question. `forced` is a host's approve/reject button."""
        self.turn += 1
        pending = self.pending
        if pending is not None and self._expired(pending):
            self.drop(DropReason.EXPIRED)
            pending = None
        previewed = pending.orders if pending is not None else ()
        self.answer = Answer(forced) if forced is not None else read_answer(text, previewed)
        if pending is None:
            return self.answer
        kind = self.answer.kind
        if kind in (AnswerKind.WEAK, AnswerKind.QUESTION):
            if pending.asks < MAX_ASKS:
                self.pending = replace(pending, asks=pending.asks + 1, shown_turn=self.turn)
            else:
                self.drop(DropReason.UNCONFIRMED)
        elif kind is AnswerKind.NO:
            self.drop(DropReason.DECLINED)
        elif kind is AnswerKind.MISMATCH:
            self.drop(DropReason.MISMATCH)
        elif kind is AnswerKind.OTHER:
            self.drop(DropReason.NEW_REQUEST)
        return self.answer

    def propose(self, order_ids: list[str], orders: list[dict[str, Any]], text: str) -> PendingCancel:
        """Bind a preview to these orders; only the user's next message, once this reply is returned,
        can confirm it. A second preview in one turn is refused: the reply could not show both."""
        ids = tuple(order_ids)
        if self.previewed_turn == self.turn:
            raise GateRefusalError("second_preview", ids, self.pending.order_ids if self.pending else ())
        asks = 1
        if self.pending is not None:
            if self.pending.order_ids == ids and self.pending.shown_turn == self.turn:
                asks = self.pending.asks  # the same preview asked again this turn: still its last ask
            else:
                self.drop(DropReason.REPLACED)
        self.previewed_turn = self.turn
        self.pending = PendingCancel(ids, tuple(orders), self.turn, text, shown_turn=self.turn, asks=asks,
                                     created_at=self.clock())
        return self.pending

    def authorize(self, order_ids: list[str]) -> PendingCancel:
        """Allow a cancel of exactly the pending preview's orders, once; raise GateRefusalError otherwise."""
        requested = tuple(order_ids)
        pending = self.pending
        if pending is None:
            reason = self.dropped.reason.value if self.dropped and self.dropped.turn == self.turn else "no_preview"
            raise GateRefusalError(reason, requested, self.dropped.order_ids if self.dropped else ())
        if pending.created_turn >= self.turn:  # made in this very turn: the user has not seen it
            raise GateRefusalError("stale_preview", requested, pending.order_ids)
        if not self.answer.is_yes or pending.shown_turn >= self.turn:
            raise GateRefusalError("not_confirmed", requested, pending.order_ids)
        if sorted(set(requested)) != sorted(pending.order_ids) or len(requested) != len(set(requested)):
            raise GateRefusalError("other_ids", requested, pending.order_ids)
        if self._expired(pending):
            self.drop(DropReason.EXPIRED)
            raise GateRefusalError(DropReason.EXPIRED.value, requested, pending.order_ids)
        self.pending = None  # one confirmation, one cancel
        return pending

    def drop(self, reason: DropReason) -> PendingCancel | None:
        """End the pending preview without a cancel, remembering why."""
        dropped, self.pending = self.pending, None
        if dropped is not None:
            self.dropped = DroppedPreview(dropped.order_ids, reason, self.turn)
        return dropped

    def shown_now(self) -> PendingCancel | None:
        """The preview the reply of this turn must carry (made, or asked again, in this turn)."""
        pending = self.pending
        return pending if pending is not None and pending.shown_turn == self.turn else None

    def _expired(self, pending: PendingCancel) -> bool:
        return self.clock() - pending.created_at > self.ttl_seconds
