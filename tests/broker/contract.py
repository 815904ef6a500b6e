"""What every contract test checks the same way: the error envelope, wire formats, and short HTTP steps.

Expected values in the tests are written out by hand from docs/api.md; nothing here calls the broker's code.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from tests.conftest import BASE_WORLD, NOW, OTHER_TOKEN

ERROR_KEYS = {"code", "message", "recovery_hint", "details", "request_id"}
ORDER_KEYS = {
    "order_id", "client_order_id", "account_id", "symbol", "name", "exchange", "side", "type", "qty",
    "limit_price", "filled_qty", "cancelled_qty", "remaining_qty", "avg_fill_price", "frozen_cash", "state",
    "reject_reason", "created_at", "updated_at", "fills", "state_history",
}
MONEY = re.compile(r"^-?\d+\.\d{2}$")
# RFC 3339 with the Asia/Shanghai offset, e.g. 2026-11-24T10:31:05.123+08:00
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+08:00$")
ORDER_ID = re.compile(r"^ord_accdefault_[a-z0-9]{8}$")
UNKNOWN_ORDER = "ord_accdefault_zzzzzzzz"  # well formed, never issued
# A connection closed with no answer reaches httpx as one of these, depending on when the close lands.
NO_ANSWER = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


def expect_error(response: httpx.Response, status: int, code: str, hint: str) -> dict[str, Any]:
    """Assert the contract's error answer (status, envelope, hint, request id); return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert (body["code"], body["recovery_hint"]) == (code, hint), body
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body["details"], dict)
    assert body["request_id"], body
    assert response.headers["x-request-id"] == body["request_id"]
    return body


def expect_ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["x-request-id"]
    return response.json()


def world(**changes: Any) -> dict[str, Any]:
    """BASE_WORLD (a deep copy) with top-level fields replaced."""
    return {**copy.deepcopy(BASE_WORLD), **changes}


def order_body(symbol: str, side: str, qty: int, limit_price: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"account_id": "acc_default", "symbol": symbol, "side": side, "qty": qty}
    if limit_price is None:
        body["type"] = "MARKET"
    else:
        body["limit_price"] = limit_price
    return {**body, **extra}


def place(api: httpx.Client, symbol: str, side: str, qty: int, limit_price: str | None = None,
          **extra: Any) -> httpx.Response:
    return api.post("/v1/orders", json=order_body(symbol, side, qty, limit_price, **extra))


def placed(api: httpx.Client, symbol: str, side: str, qty: int, limit_price: str | None = None,
           **extra: Any) -> dict[str, Any]:
    """Place an order that must be accepted (201); return it."""
    return expect_ok(place(api, symbol, side, qty, limit_price, **extra), 201)


def get_order(api: httpx.Client, order_id: str) -> dict[str, Any]:
    return expect_ok(api.get(f"/v1/orders/{order_id}"))


def get_account(api: httpx.Client, account_id: str = "acc_default") -> dict[str, Any]:
    return expect_ok(api.get(f"/v1/accounts/{account_id}"))


def cash(api: httpx.Client) -> dict[str, Decimal]:
    return {key: Decimal(value) for key, value in get_account(api)["cash"].items()}


def position(api: httpx.Client, symbol: str) -> dict[str, Any] | None:
    held = [p for p in get_account(api)["positions"] if p["symbol"] == symbol]
    return held[0] if held else None


def list_ids(api: httpx.Client, account_id: str = "acc_default", **query: Any) -> list[str]:
    body = expect_ok(api.get(f"/v1/accounts/{account_id}/orders", params=query))
    return [order["order_id"] for order in body["orders"]]


def states(order: dict[str, Any]) -> list[str]:
    return [change["state"] for change in order["state_history"]]


def set_clock(sim: httpx.Client, now: str) -> dict[str, Any]:
    return expect_ok(sim.post("/v1/sim/clock", json={"now": now}))


def move_price(sim: httpx.Client, symbol: str, price: str, volume: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"symbol": symbol, "price": price}
    if volume is not None:
        body["volume"] = volume
    return expect_ok(sim.post("/v1/sim/prices", json=body))


def arm_fault(sim: httpx.Client, **fault: Any) -> None:
    expect_ok(sim.post("/v1/sim/faults", json=fault), 201)


def assert_invariants(order: dict[str, Any]) -> None:
    """What holds for every order object on the wire."""
    assert set(order) >= ORDER_KEYS, set(ORDER_KEYS) - set(order)
    assert order["qty"] == order["filled_qty"] + order["cancelled_qty"] + order["remaining_qty"]
    if order["state"] in ("FILLED", "CANCELLED", "REJECTED", "EXPIRED"):
        assert order["remaining_qty"] == 0
        assert order["frozen_cash"] == "0.00"
    if order["side"] == "SELL":
        assert order["frozen_cash"] == "0.00"
    for field in ("limit_price", "avg_fill_price"):
        assert order[field] is None or MONEY.match(order[field]), order[field]
    assert MONEY.match(order["frozen_cash"])
    for field in ("created_at", "updated_at"):
        assert TIMESTAMP.match(order[field]), order[field]
    for fill in order["fills"]:
        assert MONEY.match(fill["price"]), fill
        assert MONEY.match(fill["fee"]), fill
        assert TIMESTAMP.match(fill["ts"]), fill
    for change in order["state_history"]:
        assert TIMESTAMP.match(change["ts"]), change


def same_time(wire: str, expected: str) -> bool:
    """Whether a wire timestamp is the moment `expected` (RFC 3339) names, in the +08:00 form."""
    return bool(TIMESTAMP.match(wire)) and datetime.fromisoformat(wire) == datetime.fromisoformat(expected)


def two_account_world() -> dict[str, Any]:
    """acc_default (the startup token) and acc_other (OTHER_TOKEN), each with one open order."""
    return {
        "now": NOW,
        "accounts": [
            {"account_id": "acc_default", "cash": "1000000.00",
             "positions": [{"symbol": "600519", "qty": 200, "avg_cost": "1700.00"}]},
            {"account_id": "acc_other", "token": OTHER_TOKEN, "cash": "500000.00",
             "positions": [{"symbol": "600519", "qty": 100, "avg_cost": "1600.00"}]},
        ],
        "prices": {"600519": {"last": "1690.00", "prev_close": "1700.00"}},
        "orders": [
            {"ref": "A", "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1650.00", "at": "10:05:00"},
            {"ref": "X", "account_id": "acc_other", "symbol": "600519", "side": "SELL", "qty": 100,
             "limit_price": "1720.00", "at": "10:10:00"},
        ],
    }
