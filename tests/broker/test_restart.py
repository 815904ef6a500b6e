"""The broker's state lives in its SQLite file: a broker killed with SIGKILL, or stopped with SIGTERM or
SIGINT, and started again on the same file answers exactly as before, its simulated clock included. The
startup token is the authority for acc_default: a restart with a new token revokes the old one.
"""

from __future__ import annotations

import signal
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.broker._broker_process import BrokerProcess, broker_process

TOKEN = "restart-test-token-7f3a9c"
ACCOUNT = "acc_default"
SYMBOLS = ("600519", "000001", "300750", "688981")

WORLD: dict[str, Any] = {
    "now": "2026-11-24T10:30:00+08:00",
    "account": {
        "cash": "1000000.00",
        "positions": [
            {"symbol": "600519", "qty": 300, "avg_cost": "1700.00"},
            {"symbol": "000001", "qty": 3000, "avg_cost": "10.20", "unsettled": 1000},
            {"symbol": "688981", "qty": 500, "avg_cost": "80.00"},
        ],
    },
    "prices": {"600519": {"last": "1690.00", "prev_close": "1700.00"}, "000001": {"last": "10.50"},
               "300750": {"last": "250.00"}, "688981": {"last": "90.00"}},
    "orders": [
        {"ref": "seeded_partly", "id": "ord_accdefault_k3v9x2m1", "symbol": "000001", "side": "SELL", "qty": 1000,
         "limit_price": "10.80", "at": "10:20:00", "filled": 400},
        {"ref": "seeded_filled", "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1680.00",
         "at": "09:40:00", "state": "FILLED"},
    ],
}


def client(broker: BrokerProcess, token: str = TOKEN) -> httpx.Client:
    return httpx.Client(base_url=broker.url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


def place(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    return ok(api.post("/v1/orders", json={"account_id": ACCOUNT, **fields}), 201)


def build_state(broker: BrokerProcess) -> dict[str, str]:
    """A world with every kind of order: resting, partly filled, filled, cancelled, rejected."""
    with client(broker) as api:
        ids = ok(api.post("/v1/sim/reset", json=WORLD))["orders"]
        ids["resting_buy"] = place(api, symbol="000001", side="BUY", qty=1000, type="LIMIT",
                                   limit_price="10.30", client_order_id="restart-1")["order_id"]
        ids["star_buy"] = place(api, symbol="688981", side="BUY", qty=300, type="LIMIT",
                                limit_price="85.00")["order_id"]
        ids["market_buy"] = place(api, symbol="300750", side="BUY", qty=200, type="MARKET")["order_id"]
        ids["to_cancel"] = place(api, symbol="600519", side="SELL", qty=100, type="LIMIT",
                                 limit_price="1750.00")["order_id"]
        filled = ok(api.post("/v1/sim/prices", json={"symbol": "000001", "price": "10.30", "volume": 400}))["filled"]
        assert filled == [ids["resting_buy"]]
        ok(api.delete(f"/v1/accounts/{ACCOUNT}/orders", params={"order_ids": ids["to_cancel"]}))
        ok(api.post("/v1/sim/clock", json={"advance_seconds": 600}))
        ids["market_sell"] = place(api, symbol="000001", side="SELL", qty=100, type="MARKET")["order_id"]
    return ids


def capture(broker: BrokerProcess) -> dict[str, Any]:
    """Everything a client can read: account, positions, every order (fills, history), quotes, the clock."""
    with client(broker) as api:
        orders = ok(api.get(f"/v1/accounts/{ACCOUNT}/orders", params={"limit": 500}))
        return {
            "account": ok(api.get(f"/v1/accounts/{ACCOUNT}")),
            "positions": ok(api.get(f"/v1/accounts/{ACCOUNT}/positions")),
            "orders": orders,
            "each_order": {o["order_id"]: ok(api.get(f"/v1/orders/{o['order_id']}")) for o in orders["orders"]},
            "quotes": {symbol: ok(api.get(f"/v1/quotes/{symbol}")) for symbol in SYMBOLS},
            "market": ok(api.get("/v1/market/status")),
        }


def request_log(broker: BrokerProcess) -> list[dict[str, Any]]:
    return ok(httpx.get(f"{broker.url}/v1/sim/requests", timeout=10))["requests"]


def test_sigkill_and_restart_on_the_same_file_keeps_orders_fills_cash_positions_and_clock(tmp_path: Path) -> None:
    db, stderr = tmp_path / "broker.db", tmp_path / "stderr.txt"
    with broker_process(db, TOKEN, sim=True, stderr_path=stderr) as first:
        ids = build_state(first)
        before = capture(first)
        log_before = request_log(first)
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    # The state is worth comparing: every kind of order is there, and the clock has moved off the reset's.
    states = {key: before["each_order"][oid]["state"] for key, oid in ids.items()}
    assert states == {"seeded_partly": "WORKING", "seeded_filled": "FILLED", "resting_buy": "WORKING",
                      "star_buy": "WORKING", "market_buy": "FILLED", "to_cancel": "CANCELLED",
                      "market_sell": "FILLED"}
    assert before["each_order"][ids["resting_buy"]]["filled_qty"] == 400
    assert before["market"]["now"] == "2026-11-24T10:40:00.000+08:00"

    with broker_process(db, TOKEN, sim=True, stderr_path=stderr) as second:
        after = capture(second)
        assert after == before
        assert request_log(second)[:len(log_before)] == log_before
        with client(second) as api:
            # Idempotency survives too: the same client_order_id and body answer the first order, not a new one.
            again = api.post("/v1/orders", json={"account_id": ACCOUNT, "symbol": "000001", "side": "BUY",
                                                 "qty": 1000, "type": "LIMIT", "limit_price": "10.30",
                                                 "client_order_id": "restart-1"})
            assert (again.status_code, again.json()["order_id"]) == (200, ids["resting_buy"])
            # The restored orders are live: a cancel releases exactly what the order held before the kill.
            cancelled = ok(api.delete(f"/v1/orders/{ids['star_buy']}"))
            assert cancelled["released"]["cash"] == before["each_order"][ids["star_buy"]]["frozen_cash"]


def test_a_restarted_broker_expires_at_the_close_the_orders_left_open_before_the_kill(tmp_path: Path) -> None:
    db, stderr = tmp_path / "broker.db", tmp_path / "stderr.txt"
    with broker_process(db, TOKEN, sim=True, stderr_path=stderr) as first:
        ids = build_state(first)
        with client(first) as api:
            ok(api.post("/v1/sim/clock", json={"now": "2026-11-24T14:50:00+08:00"}))
        before = capture(first)
        first.stop(signal.SIGKILL)
    open_ids = [oid for oid, o in before["each_order"].items() if o["state"] == "WORKING"]
    assert sorted(open_ids) == sorted([ids["seeded_partly"], ids["resting_buy"], ids["star_buy"]])

    with broker_process(db, TOKEN, sim=True, stderr_path=stderr) as second, client(second) as api:
        assert ok(api.get("/v1/market/status"))["now"] == "2026-11-24T14:50:00.000+08:00"
        ok(api.post("/v1/sim/clock", json={"now": "2026-11-24T15:01:00+08:00"}))
        for oid in open_ids:
            expired = ok(api.get(f"/v1/orders/{oid}"))
            assert (expired["state"], expired["remaining_qty"], expired["frozen_cash"]) == ("EXPIRED", 0, "0.00")
        cash = ok(api.get(f"/v1/accounts/{ACCOUNT}"))["cash"]
        assert cash["frozen"] == "0.00"
        assert cash["available"] == cash["total"] == before["account"]["cash"]["total"]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_state_survives_a_graceful_stop_and_restart(tmp_path: Path, stop_signal: signal.Signals) -> None:
    db, stderr = tmp_path / "broker.db", tmp_path / "stderr.txt"
    with broker_process(db, TOKEN, sim=True, stderr_path=stderr) as first:
        build_state(first)
        before = capture(first)
        # uvicorn shuts down cleanly, then re-raises the signal: SIGINT ends as a caught KeyboardInterrupt.
        assert first.stop(stop_signal) == 0  # a graceful stop, not "killed by a signal"
    with broker_process(db, TOKEN, sim=True, stderr_path=stderr) as second:
        assert capture(second) == before
    assert "Traceback" not in second.stderr_text()


def test_a_restart_with_a_new_token_revokes_the_old_one_and_the_new_one_sees_the_same_account(
        tmp_path: Path) -> None:
    """Without --sim (the real clock): the startup token is the only one that grants acc_default."""
    db, stderr = tmp_path / "broker.db", tmp_path / "stderr.txt"
    old_token, new_token = "old-token-1d8e55", "new-token-92bc04"
    with broker_process(db, old_token, sim=False, stderr_path=stderr) as first, client(first, old_token) as api:
        assert api.post("/v1/sim/reset", json=WORLD).status_code == 404  # no simulation control
        # 000001 is unpriced here: it stands at the default 10.00, so a BUY at 9.50 rests (or waits as NEW).
        placed = place(api, symbol="000001", side="BUY", qty=100, type="LIMIT", limit_price="9.50")
        cash_before = ok(api.get(f"/v1/accounts/{ACCOUNT}"))["cash"]["total"]
        first.stop(signal.SIGTERM)

    with broker_process(db, new_token, sim=False, stderr_path=stderr) as second:
        with client(second, old_token) as stale:
            for response in (stale.get(f"/v1/accounts/{ACCOUNT}"), stale.get(f"/v1/orders/{placed['order_id']}"),
                             stale.delete(f"/v1/orders/{placed['order_id']}"),
                             stale.get(f"/v1/accounts/{ACCOUNT}/orders"),
                             stale.post("/v1/orders", json={"account_id": ACCOUNT, "symbol": "000001",
                                                            "side": "BUY", "qty": 100, "limit_price": "9.50"})):
                assert response.status_code == 401, response.text
                assert response.json()["code"] == "UNAUTHENTICATED"
                assert response.json()["recovery_hint"] == "reauthenticate"
        with client(second, new_token) as api:
            assert Decimal(ok(api.get(f"/v1/accounts/{ACCOUNT}"))["cash"]["total"]) == Decimal(cash_before)
            listed = ok(api.get(f"/v1/accounts/{ACCOUNT}/orders"))["orders"]
            assert [o["order_id"] for o in listed] == [placed["order_id"]]
            assert ok(api.get(f"/v1/orders/{placed['order_id']}"))["created_at"] == placed["created_at"]


def test_a_restart_grants_no_token_an_account_that_the_world_did_not_grant_it(tmp_path: Path) -> None:
    """A world of two accounts, each under its own token (not the startup one): who may read which account
    is part of the state, so a restart must not widen it — except that the startup token is always the
    authority for acc_default (issue 13: a --sim restart honours the current TRADING_API_TOKEN)."""
    db, stderr = tmp_path / "broker.db", tmp_path / "stderr.txt"
    world = {"now": WORLD["now"], "accounts": [
        {"account_id": ACCOUNT, "token": "world-token-default", "cash": "1000.00"},
        {"account_id": "acc_other", "token": "world-token-other", "cash": "500.00"}]}
    tokens = (TOKEN, "world-token-default", "world-token-other")

    def access(broker: BrokerProcess) -> dict[tuple[str, str], int]:
        return {(token, account_id): httpx.get(f"{broker.url}/v1/accounts/{account_id}", timeout=10,
                                                headers={"Authorization": f"Bearer {token}"}).status_code
                for token in tokens for account_id in (ACCOUNT, "acc_other")}

    with broker_process(db, TOKEN, sim=True, stderr_path=stderr) as first:
        ok(httpx.post(f"{first.url}/v1/sim/reset", json=world, timeout=10))
        before = access(first)
        first.stop(signal.SIGKILL)
    assert before == {(TOKEN, ACCOUNT): 401, (TOKEN, "acc_other"): 401,
                      ("world-token-default", ACCOUNT): 200, ("world-token-default", "acc_other"): 404,
                      ("world-token-other", ACCOUNT): 404, ("world-token-other", "acc_other"): 200}
    with broker_process(db, TOKEN, sim=True, stderr_path=stderr) as second:
        assert access(second) == {**before, (TOKEN, ACCOUNT): 200, (TOKEN, "acc_other"): 404,
                                  ("world-token-default", ACCOUNT): 401, ("world-token-default", "acc_other"): 401}
