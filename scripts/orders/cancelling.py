"""Cancel orders by id and learn each one's real outcome: shared by the command line and the assistant.

One order goes by `Client.cancel`, several by `Client.cancel_many` (the batch endpoint with `order_ids`, never
a filter). A cancel whose outcome is unclear (CANCEL_FAILED, OUTCOME_UNKNOWN, a broken answer) is followed
by a query of the order, never by another cancel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._http import ApiError, Client
from ..messages import render, render_error
from .views import order_summary

if TYPE_CHECKING:
    from ..models import ErrorBody  # only named: importing pydantic would slow every command's cold start

# After these the order's state is not known from the answer itself: ask the broker.
UNCLEAR_OUTCOMES = frozenset({"CANCEL_FAILED", "OUTCOME_UNKNOWN", "BAD_RESPONSE", "INTERNAL"})


def cancel_by_ids(client: Client, order_ids: list[str]) -> list[dict[str, Any]]:
    """One result per id: `{"order_id", "ok", "order"}` (with `released`) or `{"order_id", "ok", "error",
    "order_now"}` where `order_now` is the order as queried after an unclear outcome (else None)."""
    outcomes: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]]
    if len(order_ids) == 1:
        try:
            outcomes = [(order_ids[0], client.cancel(order_ids[0]).model_dump(mode="json"), None)]
        except ApiError as error:
            outcomes = [(order_ids[0], None, error.as_dict())]
    else:
        try:
            batch = client.cancel_many(order_ids)
            outcomes = [(item.order_id, item.order.model_dump(mode="json") if item.ok and item.order else None,
                         None if item.ok and item.order else _item_error(item.error))
                        for item in batch.results]
        except ApiError as error:
            outcomes = [(order_id, None, error.as_dict()) for order_id in order_ids]
    results: list[dict[str, Any]] = []
    for order_id, order, failure in outcomes:
        if order is not None:
            results.append({"order_id": order_id, "ok": True, "order": order})
            continue
        error = failure or _item_error(None)
        order_now = _query(client, order_id) if error["code"] in UNCLEAR_OUTCOMES else None
        results.append({"order_id": order_id, "ok": False, "error": error, "order_now": order_now})
    return results


def _item_error(error: ErrorBody | None) -> dict[str, Any]:
    """A batch item's error as a dict; an item that is neither ok with an order nor an error is a bad answer."""
    if error is not None:
        return error.model_dump(mode="json")
    return {"code": "BAD_RESPONSE", "recovery_hint": "contact_support",
            "message": "the batch cancel answer gave neither the order nor an error for this id", "details": {},
            "request_id": None}


def _query(client: Client, order_id: str) -> dict[str, Any] | None:
    try:
        return client.order(order_id).model_dump(mode="json")
    except ApiError:
        return None


def cancel_with_messages(client: Client, order_ids: list[str]) -> list[dict[str, Any]]:
    """`cancel_by_ids`, each result with the order summary (with `released`) and, for a failure, the user's
    sentence (followed by the order's real state when the outcome was unclear): what the assistant's tools and
    the MCP server report."""
    results = []
    for outcome in cancel_by_ids(client, order_ids):
        if outcome["ok"]:
            results.append({"order_id": outcome["order_id"], "ok": True, "order": order_summary(outcome["order"])})
            continue
        error, now = outcome["error"], outcome["order_now"]
        message = render_error({**error, "details": error.get("details") or {}}, order=now)
        if now is not None:
            message += "\n" + render("order_now", order=now)
        results.append({"order_id": outcome["order_id"], "ok": False, "code": error["code"],
                        "recovery_hint": error["recovery_hint"], "details": error.get("details") or {},
                        "order_now": order_summary(now) if now else None, "message": message})
    return results
