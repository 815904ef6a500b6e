"""Contract: /v1/accounts over real HTTP — cash and positions, the order list, and batch cancel.

BASE_WORLD at 2026-11-24 10:30: cash 1,000,000.00 of which A (BUY 600519 100 @ 1650.00) freezes
165042.90; 600519: 200 settled shares, last 1690.00; 000001: 1000 shares, 500 bought today, 300 locked
by B (SELL 500 @ 10.80, 200 filled), last 10.50; C is a FILLED BUY of 601318.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.broker.contract import (
    MONEY,
    ORDER_KEYS,
    TIMESTAMP,
    UNKNOWN_ORDER,
    assert_invariants,
    expect_error,
    expect_ok,
    get_account,
    get_order,
    list_ids,
    place,
    placed,
    position,
    same_time,
    set_clock,
    two_account_world,
    world,
)

POSITION_KEYS = {"symbol", "name", "qty", "qty_sellable", "qty_locked_sell", "qty_unsettled", "avg_cost",
                 "last_price", "market_value", "unrealized_pnl"}


def _by_symbol(positions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {held["symbol"]: held for held in positions}


# --- the account -----------------------------------------------------------------------------------


def test_account_splits_cash_and_values_positions_at_the_last_price(api, load_world):
    load_world()
    account = get_account(api)

    assert set(account) == {"account_id", "currency", "environment", "cash", "positions", "market_value", "equity",
                            "as_of"}
    assert (account["account_id"], account["currency"]) == ("acc_default", "CNY")
    assert account["environment"] == "paper"  # the bundled broker only ever trades on paper
    # total 1000000.00 = available + frozen (A's 165042.90)
    assert account["cash"] == {"available": "834957.10", "frozen": "165042.90", "total": "1000000.00"}
    held = _by_symbol(account["positions"])
    assert set(held) == {"600519", "000001"}
    assert all(set(p) == POSITION_KEYS for p in held.values())
    assert held["600519"] == {
        "symbol": "600519", "name": "贵州茅台", "qty": 200, "qty_sellable": 200, "qty_locked_sell": 0,
        "qty_unsettled": 0, "avg_cost": "1700.00", "last_price": "1690.00",
        "market_value": "338000.00",  # 200 × 1690.00
        "unrealized_pnl": "-2000.00",  # 338000.00 - 200 × 1700.00
    }
    assert held["000001"] == {
        "symbol": "000001", "name": "平安银行", "qty": 1000,
        "qty_sellable": 200, "qty_locked_sell": 300, "qty_unsettled": 500,  # 1000 = 200 + 300 + 500
        "avg_cost": "10.20", "last_price": "10.50",
        "market_value": "10500.00",  # 1000 × 10.50
        "unrealized_pnl": "300.00",  # 10500.00 - 1000 × 10.20
    }
    assert account["market_value"] == "348500.00"  # 338000.00 + 10500.00
    assert account["equity"] == "1348500.00"  # cash total 1000000.00 + 348500.00
    assert same_time(account["as_of"], "2026-11-24T10:30:00+08:00")


def test_positions_route_returns_the_account_positions(api, load_world):
    load_world()
    body = expect_ok(api.get("/v1/accounts/acc_default/positions"))
    assert set(body) == {"positions"}
    assert _by_symbol(body["positions"]) == _by_symbol(get_account(api)["positions"])


def test_account_figures_stay_consistent_after_fills_and_cancels(api, load_world):
    refs = load_world()
    placed(api, "600519", "BUY", 100, "1700.00")  # fills at 1690.00
    expect_ok(api.delete(f"/v1/orders/{refs['B']}"))
    account = get_account(api)

    available, frozen, total = (Decimal(account["cash"][key]) for key in ("available", "frozen", "total"))
    assert available + frozen == total
    for held in account["positions"]:
        assert held["qty"] == held["qty_sellable"] + held["qty_locked_sell"] + held["qty_unsettled"]
        for field in ("avg_cost", "last_price", "market_value", "unrealized_pnl"):
            assert MONEY.match(held[field]), held
    for field in ("market_value", "equity"):
        assert MONEY.match(account[field])
    assert Decimal(account["equity"]) == total + Decimal(account["market_value"])
    assert TIMESTAMP.match(account["as_of"])


@pytest.mark.parametrize(("now", "next_session"), [
    ("2026-11-24T10:30:00+08:00", "2026-11-25T09:35:00+08:00"),  # Tuesday → Wednesday
    ("2026-11-27T10:30:00+08:00", "2026-11-30T09:35:00+08:00"),  # Friday → Monday
    ("2026-09-30T10:30:00+08:00", "2026-10-08T09:35:00+08:00"),  # before the National Day holiday
])
def test_shares_bought_today_are_unsettled_until_the_next_trading_day(api, sim, load_world, now, next_session):
    load_world(world(now=now, orders=[]))
    placed(api, "600519", "BUY", 100, "1700.00")  # fills at the last 1690.00

    bought = position(api, "600519")
    assert bought is not None
    assert (bought["qty"], bought["qty_sellable"], bought["qty_unsettled"]) == (300, 200, 100)
    # cost (200 × 1700.00 + 169000.00 + fee 43.94) / 300 = 509043.94 / 300 = 1696.813…
    assert bought["avg_cost"] == "1696.81"
    body = expect_error(place(api, "600519", "SELL", 300, "1690.00"), 409, "INSUFFICIENT_POSITION", "fix_input")
    assert body["details"]["sellable"] == 200

    set_clock(sim, now[:11] + "15:30:00+08:00")  # after the close, still the same trading day
    assert position(api, "600519")["qty_unsettled"] == 100

    set_clock(sim, next_session)
    settled = position(api, "600519")
    assert (settled["qty"], settled["qty_sellable"], settled["qty_unsettled"]) == (300, 300, 0)
    assert placed(api, "600519", "SELL", 300, "1700.00")["state"] == "WORKING"


# --- not found, not granted ------------------------------------------------------------------------

ACCOUNT_ROUTES = [
    ("GET", "/v1/accounts/{account}"),
    ("GET", "/v1/accounts/{account}/positions"),
    ("GET", "/v1/accounts/{account}/orders"),
    ("DELETE", "/v1/accounts/{account}/orders?order_ids=" + UNKNOWN_ORDER),
    ("DELETE", "/v1/accounts/{account}/orders?side=SELL"),
]


@pytest.mark.parametrize(("method", "route"), ACCOUNT_ROUTES)
def test_unknown_account_is_account_not_found(api, load_world, method, route):
    load_world()
    response = api.request(method, route.format(account="acc_nobody"))
    expect_error(response, 404, "ACCOUNT_NOT_FOUND", "fix_input")


@pytest.mark.parametrize(("method", "route"), ACCOUNT_ROUTES)
def test_account_not_granted_to_the_token_is_answered_exactly_as_unknown(api, other_api, load_world, method,
                                                                        route):
    refs = load_world(two_account_world())
    not_granted = expect_error(api.request(method, route.format(account="acc_other")), 404, "ACCOUNT_NOT_FOUND",
                               "fix_input")
    assert get_order(other_api, refs["X"])["state"] == "WORKING"  # a batch cancel reached nothing

    load_world()  # a world without acc_other
    unknown = expect_error(api.request(method, route.format(account="acc_other")), 404, "ACCOUNT_NOT_FOUND",
                           "fix_input")
    assert {**not_granted, "request_id": None} == {**unknown, "request_id": None}


def test_each_token_sees_only_the_accounts_it_grants(api, other_api, load_world):
    refs = load_world(two_account_world())

    assert get_account(other_api, "acc_other")["cash"]["total"] == "500000.00"
    expect_error(other_api.get("/v1/accounts/acc_default"), 404, "ACCOUNT_NOT_FOUND", "fix_input")
    assert list_ids(api) == [refs["A"]]
    assert list_ids(other_api, "acc_other") == [refs["X"]]


# --- the order list --------------------------------------------------------------------------------


def test_orders_are_listed_newest_first_by_creation_time(api, load_world):
    refs = load_world()  # created C 09:40, A 10:05, B 10:20
    body = expect_ok(api.get("/v1/accounts/acc_default/orders"))

    assert set(body) == {"orders", "next_cursor"}
    assert [o["order_id"] for o in body["orders"]] == [refs["B"], refs["A"], refs["C"]]
    assert body["next_cursor"] is None
    for order in body["orders"]:
        assert set(order) == ORDER_KEYS
        assert_invariants(order)

    newest = placed(api, "600519", "BUY", 100, "1680.00")  # at 10:30
    assert list_ids(api) == [newest["order_id"], refs["B"], refs["A"], refs["C"]]


def test_orders_created_at_the_same_moment_list_the_later_entry_first(api, load_world):
    refs = load_world(world(orders=[
        {"ref": "P", "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1650.00", "at": "10:00:00"},
        {"ref": "Q", "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1640.00", "at": "10:00:00"},
    ]))
    first = placed(api, "600519", "BUY", 100, "1630.00")  # the clock stands still at 10:30:00
    second = placed(api, "600519", "BUY", 100, "1620.00")

    assert list_ids(api) == [second["order_id"], first["order_id"], refs["Q"], refs["P"]]


@pytest.mark.parametrize(("status", "expected"), [
    ("WORKING", ["B", "A"]),
    ("FILLED", ["C"]),
    ("NEW,WORKING", ["B", "A"]),
    ("FILLED,WORKING", ["B", "A", "C"]),
    ("CANCELLED", []),
])
def test_status_filter_takes_one_state_or_a_comma_list(api, load_world, status, expected):
    refs = load_world()
    assert list_ids(api, status=status) == [refs[ref] for ref in expected]


@pytest.mark.parametrize(("query", "expected"), [
    ({"symbol": "600519"}, ["A"]),
    ({"symbol": "000001"}, ["B"]),
    ({"side": "SELL"}, ["B"]),
    ({"side": "BUY"}, ["A", "C"]),
    ({"side": "BUY", "status": "WORKING"}, ["A"]),
    ({"since": "2026-11-24T10:05:00+08:00"}, ["B", "A"]),  # created at or after
    ({"since": "2026-11-24T10:05:00.001+08:00"}, ["B"]),
    ({"since": "2026-11-24T02:00:00+00:00"}, ["B", "A"]),  # 10:00 Beijing time, written in UTC
])
def test_symbol_side_and_since_filters_narrow_the_list(api, load_world, query, expected):
    refs = load_world()
    assert list_ids(api, **query) == [refs[ref] for ref in expected]


def _many_orders(count: int) -> list[dict[str, Any]]:
    return [{"ref": f"O{i}", "symbol": "601318", "side": "BUY", "qty": 100, "limit_price": "50.00",
             "at": f"10:{i // 60:02d}:{i % 60:02d}", "state": "FILLED"} for i in range(count)]


def test_limit_and_cursor_page_through_every_order_once_newest_first(api, load_world):
    refs = load_world(world(orders=_many_orders(7)))
    pages, cursor = [], None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = expect_ok(api.get("/v1/accounts/acc_default/orders", params=query))
        pages.append([o["order_id"] for o in body["orders"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [order_id for page in pages for order_id in page] == [refs[f"O{i}"] for i in reversed(range(7))]


def test_cursor_pages_keep_the_filters(api, load_world):
    # S falls between the two pages (after O1, before O2): a cursor that forgot the filter would list it
    sell = {"ref": "S", "symbol": "600519", "side": "SELL", "qty": 100, "limit_price": "1700.00", "at": "10:00:01",
            "state": "FILLED"}
    orders = [*_many_orders(4), sell]
    refs = load_world(world(orders=orders))
    first = expect_ok(api.get("/v1/accounts/acc_default/orders", params={"side": "BUY", "limit": 2}))
    rest = expect_ok(api.get("/v1/accounts/acc_default/orders",
                             params={"side": "BUY", "limit": 2, "cursor": first["next_cursor"]}))

    listed = [o["order_id"] for o in first["orders"] + rest["orders"]]
    assert listed == [refs["O3"], refs["O2"], refs["O1"], refs["O0"]]


def test_list_pages_default_to_50_orders_and_take_up_to_500(api, load_world):
    load_world(world(orders=_many_orders(51)))

    default = expect_ok(api.get("/v1/accounts/acc_default/orders"))
    assert len(default["orders"]) == 50
    assert default["next_cursor"] is not None
    widest = expect_ok(api.get("/v1/accounts/acc_default/orders", params={"limit": 500}))
    assert len(widest["orders"]) == 51
    assert widest["next_cursor"] is None


# --- batch cancel ----------------------------------------------------------------------------------


def _batch_world() -> dict[str, Any]:
    """BASE_WORLD plus D (BUY 000001 100 @ 10.00) and E (SELL 600519 100 @ 1750.00), both open."""
    base = world()
    base["orders"] += [
        {"ref": "D", "symbol": "000001", "side": "BUY", "qty": 100, "limit_price": "10.00", "at": "10:25:00"},
        {"ref": "E", "symbol": "600519", "side": "SELL", "qty": 100, "limit_price": "1750.00", "at": "10:26:00"},
    ]
    return base


def _batch(api, account_id: str = "acc_default", **query: Any) -> dict[str, dict[str, Any]]:
    body = expect_ok(api.delete(f"/v1/accounts/{account_id}/orders", params=query))
    assert set(body) == {"results"}
    return {item["order_id"]: item for item in body["results"]}


def _item_error(item: dict[str, Any], code: str, hint: str) -> dict[str, Any]:
    assert item["ok"] is False, item
    assert not item.get("order"), item
    error = item["error"]
    assert set(error) == {"code", "message", "recovery_hint", "details", "request_id"}
    assert (error["code"], error["recovery_hint"]) == (code, hint)
    return error


def test_batch_cancel_by_order_ids_cancels_only_those_orders_and_reports_what_each_released(api, load_world):
    refs = load_world(_batch_world())

    results = _batch(api, order_ids=f"{refs['A']},{refs['B']}")

    assert set(results) == {refs["A"], refs["B"]}
    bought, sold = results[refs["A"]], results[refs["B"]]
    assert bought["ok"] is True
    assert sold["ok"] is True
    assert set(bought["order"]) == ORDER_KEYS | {"released"}
    assert (bought["order"]["state"], bought["order"]["released"]) == ("CANCELLED", {"cash": "165042.90", "qty": 0})
    assert (sold["order"]["state"], sold["order"]["released"]) == ("CANCELLED", {"cash": "0.00", "qty": 300})
    assert get_order(api, refs["D"])["state"] == "WORKING"
    assert get_order(api, refs["E"])["state"] == "WORKING"
    account = get_account(api)
    # only D stays frozen: 10.00 × 100 = 1000.00 + commission 0.25 → minimum 5.00 + transfer 0.01
    assert account["cash"] == {"available": "998994.99", "frozen": "1005.01", "total": "1000000.00"}
    held = _by_symbol(account["positions"])
    assert (held["000001"]["qty_sellable"], held["000001"]["qty_locked_sell"]) == (500, 0)
    assert (held["600519"]["qty_sellable"], held["600519"]["qty_locked_sell"]) == (100, 100)  # E still open


def test_batch_cancel_reports_unknown_and_finished_orders_per_item_and_cancels_the_rest(api, load_world):
    refs = load_world(_batch_world())

    results = _batch(api, order_ids=f"{UNKNOWN_ORDER},{refs['C']},{refs['A']},not-an-id")

    _item_error(results[UNKNOWN_ORDER], "ORDER_NOT_FOUND", "fix_input")
    _item_error(results["not-an-id"], "ORDER_NOT_FOUND", "fix_input")
    finished = _item_error(results[refs["C"]], "ORDER_NOT_CANCELLABLE", "fix_input")
    assert finished["details"]["state"] == "FILLED"
    assert results[refs["A"]]["ok"] is True
    assert results[refs["A"]]["order"]["state"] == "CANCELLED"
    assert get_order(api, refs["B"])["state"] == "WORKING"


def test_batch_cancel_does_not_reach_orders_of_another_account(api, other_api, load_world):
    refs = load_world(two_account_world())

    results = _batch(api, order_ids=f"{refs['X']},{refs['A']}")

    _item_error(results[refs["X"]], "ORDER_NOT_FOUND", "fix_input")
    assert results[refs["A"]]["ok"] is True
    assert get_order(other_api, refs["X"])["state"] == "WORKING"


@pytest.mark.parametrize(("query", "cancelled"), [
    ({"symbol": "600519"}, {"A", "E"}),
    ({"side": "SELL"}, {"B", "E"}),
    ({"symbol": "600519", "side": "BUY"}, {"A"}),
    ({"symbol": "000001", "side": "BUY"}, {"D"}),
])
def test_batch_cancel_by_symbol_or_side_cancels_every_open_order_matching(api, load_world, query, cancelled):
    refs = load_world(_batch_world())

    results = _batch(api, **query)

    assert set(results) == {refs[ref] for ref in cancelled}
    assert all(item["ok"] for item in results.values())
    for ref in ("A", "B", "D", "E"):
        assert get_order(api, refs[ref])["state"] == ("CANCELLED" if ref in cancelled else "WORKING")
    assert get_order(api, refs["C"])["state"] == "FILLED"


def test_batch_cancel_in_a_no_cancel_window_refuses_each_order_with_retry_after(api, load_world):
    refs = load_world(_batch_world() | {"now": "2026-11-24T14:58:00+08:00"})

    results = _batch(api, order_ids=f"{refs['A']},{refs['D']}")

    for ref in ("A", "D"):
        error = _item_error(results[refs[ref]], "CANCEL_NOT_ALLOWED_NOW", "retry_later")
        assert same_time(error["details"]["retry_after"], "2026-11-24T15:00:00+08:00")
        assert get_order(api, refs[ref])["state"] == "WORKING"


def test_batch_cancel_with_order_ids_and_a_filter_is_refused_before_cancelling_anything(api, load_world):
    refs = load_world(_batch_world())

    response = api.delete("/v1/accounts/acc_default/orders", params={"order_ids": refs["A"], "symbol": "000001"})

    expect_error(response, 422, "VALIDATION_ERROR", "fix_input")
    assert {get_order(api, refs[ref])["state"] for ref in ("A", "B", "D", "E")} == {"WORKING"}
