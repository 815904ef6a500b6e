"""Compact views of an order for people and models: what they need to recognise it (and, in detail, its history).

Shared by the command line (`scripts.trade`) and the assistant's tools, so both show an order the same way.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..messages import state_label
from .ids import short_id

SUMMARY_FIELDS = ("order_id", "symbol", "name", "side", "type", "qty", "limit_price", "filled_qty", "cancelled_qty",
                  "remaining_qty", "avg_fill_price", "frozen_cash", "state", "reject_reason", "created_at")


def order_summary(order: dict[str, Any]) -> dict[str, Any]:
    """The order's identifying fields, its short id and its Chinese state word (plus `released` after a cancel)."""
    summary = {key: order.get(key) for key in SUMMARY_FIELDS}
    summary["short_id"] = short_id(order["order_id"])
    summary["state_label"] = state_label(order["state"], order.get("filled_qty") or 0)
    if "released" in order:
        summary["released"] = order["released"]
    return summary


def order_detail(order: dict[str, Any]) -> dict[str, Any]:
    """The summary plus when it last changed, its fills and its state history ("什么时候撤的")."""
    return {**order_summary(order), "updated_at": order.get("updated_at"), "fills": order.get("fills") or [],
            "state_history": order.get("state_history") or []}


def would_release(order: dict[str, Any]) -> dict[str, Any]:
    """What cancelling an open order gives back: its frozen cash (BUY) or its open shares (SELL)."""
    if order["side"] == "BUY":
        return {"cash": order["frozen_cash"], "qty": 0}
    return {"cash": "0.00", "qty": order["remaining_qty"]}


def preview_totals(orders: list[dict[str, Any]]) -> dict[str, Any]:
    """What cancelling all of `orders` releases: frozen cash of the BUYs, open shares of the SELLs."""
    cash = sum((Decimal(order["frozen_cash"]) for order in orders if order["side"] == "BUY"), Decimal("0"))
    qty = sum(order["remaining_qty"] for order in orders if order["side"] == "SELL")
    return {"total_cash": f"{cash:.2f}", "total_qty": qty}


def price_change(quote: dict[str, Any]) -> dict[str, Decimal]:
    """The last price against the previous close: `delta` in 元 and `percent` (two places); zero for a quote
    with no previous close. quote.j2 says it in words."""
    last, prev = Decimal(str(quote["last"])), Decimal(str(quote["prev_close"]))
    if prev == 0:
        return {"delta": Decimal("0"), "percent": Decimal("0")}
    delta = last - prev
    return {"delta": delta, "percent": (delta / prev * 100).quantize(Decimal("0.01"))}


def cancels_reopen_at(market: dict[str, Any]) -> str | None:
    """When cancels are accepted again (an ISO time of the same day and offset as `now`); None while they are."""
    if market["accepts_cancels"]:
        return None
    now = str(market["now"])
    reopens = "15:00" if market["phase"] == "CLOSING_AUCTION" else "09:30"
    return f"{now[:11]}{reopens}:00{now[-6:]}"
