"""The LLM tool wrapper: tools, the confirmation gate, order resolution, the Claude and offline engines.

    from scripts.assistant import Assistant  # a_share_orders.assistant when installed
    reply = Assistant(Client(), engine="offline").send("撤掉刚才那单")

It never imports the broker: it reaches the trading API only through `scripts._http.Client`.
"""

from .confirmation import Answer, AnswerKind, read_answer
from .core import Action, Assistant, Reply
from .gate import ConfirmationGate, DropReason, GateRefusalError, PendingCancel
from .replies import ReplyClass, ReplyKind

__all__ = [
    "Action",
    "Answer",
    "AnswerKind",
    "Assistant",
    "ConfirmationGate",
    "DropReason",
    "GateRefusalError",
    "PendingCancel",
    "Reply",
    "ReplyClass",
    "ReplyKind",
    "read_answer",
]
