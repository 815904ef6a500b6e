"""Cancel orders by id and learn each one's real outcome: shared by the command line and the assistant.

One order goes by `DELETE /v1/orders/{id}`, several by the batch endpoint with `order_ids` (never by a
filter). A cancel whose outcome is unclear (CANCEL_FAILED, OUTCOME_UNKNOWN, a broken answer) is followed
by a query of the order, never by another cancel.
"""

from __future__ import annotations

from typing import Any

from scripts._http import ApiError, Client

# After these the order's state is not known from the answer itself: ask the broker.
UNCLEAR_OUTCOMES = frozenset({"CANCEL_FAILED", "OUTCOME_UNKNOWN", "BAD_RESPONSE", "INTERNAL"})


def error_dict(error: ApiError) -> dict[str, Any]:
    return {"code": error.code, "http_status": error.http_status, "recovery_hint": error.recovery_hint,
            "message": error.message, "details": error.details, "request_id": error.request_id}


def cancel_by_ids(client: Client, order_ids: list[str]) -> list[dict[str, Any]]:
    """One result per id: `{"order_id", "ok", "order"}` (with `released`) or `{"order_id", "ok", "error",
    "order_now"}` where `order_now` is the order as queried after an unclear outcome (else None)."""
    if len(order_ids) == 1:
        try:
            outcomes = [(order_ids[0], client.delete(f"/v1/orders/{order_ids[0]}"), None)]
        except ApiError as error:
            outcomes = [(order_ids[0], None, error_dict(error))]
    else:
        try:
            batch = client.delete(f"/v1/accounts/{client.account_id}/orders?order_ids={','.join(order_ids)}")
            outcomes = [(item["order_id"], item.get("order"), None if item["ok"] else item["error"])
                        for item in batch["results"]]
        except ApiError as error:
            outcomes = [(order_id, None, error_dict(error)) for order_id in order_ids]
    results: list[dict[str, Any]] = []
    for order_id, order, error in outcomes:
        if order is not None:
            results.append({"order_id": order_id, "ok": True, "order": order})
            continue
        assert error is not None
        order_now = _query(client, order_id) if error["code"] in UNCLEAR_OUTCOMES else None
        results.append({"order_id": order_id, "ok": False, "error": error, "order_now": order_now})
    return results


def _query(client: Client, order_id: str) -> dict[str, Any] | None:
    try:
        return client.get(f"/v1/orders/{order_id}")
    except ApiError:
        return None
