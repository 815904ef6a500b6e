"""What the MCP server shows before a cancel and reports after it: a preview bound to the orders' exact state, the
check that nothing changed since, and the cancel by id with what it released.

Everything here is synchronous and speaks to the broker only through the typed Client; the server runs it on a
worker thread (and the approval page on its own thread, with its own Client).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .._http import ApiError, Client
from ..audit import AuditLog, cancel_outcome, order_facts
from ..messages import render, render_error
from ..models import OPEN_STATES
from ..orders import (
    UnknownOrderIdError,
    cancel_with_messages,
    expand_order_id,
    order_summary,
    preview_totals,
    would_release,
)

MAX_ORDERS = 50  # one preview never names more orders than a person can check (the assistant's own bound)
# The fields a person checks in a preview: if any of them moved between the preview and the cancel, the yes was
# given to something else, and nothing is cancelled.
BOUND_FIELDS = ("order_id", "symbol", "side", "qty", "limit_price", "state", "filled_qty", "remaining_qty",
                "cancelled_qty", "frozen_cash")


@dataclass(frozen=True)
class Problem:
    """Why a preview could not be made: the error's code, its recovery_hint and the user's sentence."""

    code: str
    recovery_hint: str
    user_message: str
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "recovery_hint": self.recovery_hint, "user_message": self.user_message,
                **({"details": self.details} if self.details else {})}


@dataclass(frozen=True)
class Shown:
    """A preview of exactly these open orders, as read from the broker, and its rendering for one face."""

    order_ids: tuple[str, ...]
    orders: tuple[dict[str, Any], ...]  # order summaries (scripts.orders.order_summary)
    environment: str | None  # "paper", "live" or None: from GET /v1/accounts/{id}, never assumed
    text: str

    def structured(self) -> dict[str, Any]:
        return {"order_ids": list(self.order_ids), "environment": self.environment,
                "preview": [{**order, "would_release": would_release(order)} for order in self.orders],
                **preview_totals(list(self.orders))}

    def binding(self) -> tuple[tuple[Any, ...], ...]:
        """The state a yes to this preview is a yes to."""
        return tuple(bound_state(order) for order in self.orders)

    def record(self, audit: AuditLog, via: str) -> None:
        """A `preview_shown` audit entry: this preview, as the user saw it, and where (`via`)."""
        audit.bound(environment=self.environment or "unknown").record(
            "preview_shown", order_ids=list(self.order_ids), via=via, text=self.text,
            orders=[order_facts({**order, "would_release": would_release(order)}) for order in self.orders])


class PreviewError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.code)
        self.problem = problem


def bound_state(order: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(str(order.get(name)) for name in BOUND_FIELDS)


def expand_ids(client: Client, order_ids: list[str]) -> list[str]:
    """Full ids, each once, in the order given; a short id that matches none is ORDER_NOT_FOUND."""
    try:
        ids = list(dict.fromkeys(expand_order_id(client, text) for text in order_ids))
    except UnknownOrderIdError as error:
        raise PreviewError(Problem("ORDER_NOT_FOUND", "fix_input", render_error(
            {"code": "ORDER_NOT_FOUND", "recovery_hint": "fix_input"}, order_id=error.text[:64]),
            {"order_id": error.text[:64]})) from None
    except ApiError as error:
        raise PreviewError(api_problem(error)) from None
    if len(ids) > MAX_ORDERS:
        raise PreviewError(Problem("VALIDATION_ERROR", "fix_input", render("mcp_too_many", limit=MAX_ORDERS), {}))
    return ids


def read_orders(client: Client, order_ids: list[str]) -> list[dict[str, Any]]:
    """The orders as they stand now (full order objects), in the order given."""
    try:
        return [client.order(order_id).model_dump(mode="json") for order_id in order_ids]
    except ApiError as error:
        raise PreviewError(api_problem(error)) from None


def read_shown(client: Client, order_ids: list[str], face: str) -> Shown:
    """A preview of exactly these orders, which must all be open now; PreviewError (with the user's sentence)
    otherwise."""
    ids = expand_ids(client, order_ids)
    orders = read_orders(client, ids)
    finished = [order for order in orders if order["state"] not in OPEN_STATES]
    if finished:
        first = finished[0]
        raise PreviewError(Problem("ORDER_NOT_CANCELLABLE", "fix_input", render_error(
            {"code": "ORDER_NOT_CANCELLABLE", "recovery_hint": "fix_input", "details": {"state": first["state"]}},
            order=first), {"order_id": first["order_id"], "state": first["state"]}))
    try:
        environment = client.account().environment
    except ApiError as error:
        raise PreviewError(api_problem(error)) from None
    summaries = tuple(order_summary(order) for order in orders)
    text = render("preview", orders=list(summaries), environment=environment, face=face,
                  **preview_totals(list(summaries)))
    return Shown(tuple(ids), summaries, environment, text)


def changes_since(shown: Shown, client: Client) -> list[dict[str, Any]]:
    """Each order whose state moved since `shown` was read: `{"shown", "now"}` summaries. Empty: nothing moved."""
    now = [order_summary(order) for order in read_orders(client, list(shown.order_ids))]
    return [{"shown": before, "now": after} for before, after in zip(shown.orders, now, strict=True)
            if bound_state(before) != bound_state(after)]


def changed_text(changes: list[dict[str, Any]]) -> str:
    return render("mcp_state_changed", changes=changes)


def cancel_and_report(client: Client, order_ids: list[str], audit: AuditLog) -> dict[str, Any]:
    """Cancel exactly these ids (scripts.orders.cancel_by_ids: an unclear outcome is followed by a query of the
    order, never by another cancel); the user's text and the structured outcome, with what was released. The
    audit trail gets the request before it is sent and the outcome after."""
    audit.record("cancel_request", order_ids=list(order_ids))
    results = cancel_with_messages(client, order_ids)
    audit.record("cancel_outcome", **cancel_outcome(results))
    released_cash = sum((Decimal(str(r["order"]["released"]["cash"])) for r in results if r["ok"]), Decimal("0"))
    released_qty = sum(int(r["order"]["released"]["qty"]) for r in results if r["ok"])
    try:
        available: str | None = str(client.account().cash.available)
    except ApiError:
        available = None  # the cancel's own result matters more than this one extra figure
    text = render("cancelled", results=results, available=available)
    return {"status": "cancelled" if all(r["ok"] for r in results) else "failed" if not any(
        r["ok"] for r in results) else "partly_cancelled",
            "results": results, "released": {"cash": f"{released_cash:.2f}", "qty": released_qty},
            "available_cash": available, "text": text}


def api_problem(error: ApiError, order: dict[str, Any] | None = None) -> Problem:
    """An ApiError as the user hears it (scripts.messages.render_error); its message is the Client's, redacted."""
    body = error.as_dict()
    return Problem(error.code, error.recovery_hint, render_error(body, order=order),
                   {key: value for key, value in body.items() if key in ("http_status", "request_id") and value})
