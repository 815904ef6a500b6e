"""Contract: simulation control (/v1/sim/*) over real HTTP — reset, clock, prices, faults, the request log —
and the OpenAPI document that leaves it out.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from tests.broker.contract import (
    NO_ANSWER,
    ORDER_ID,
    TIMESTAMP,
    UNKNOWN_ORDER,
    arm_fault,
    cash,
    expect_error,
    expect_ok,
    get_account,
    get_order,
    list_ids,
    move_price,
    order_body,
    place,
    placed,
    position,
    same_time,
    set_clock,
    states,
    two_account_world,
    world,
)
from tests.conftest import BASE_WORLD, NOW, OTHER_TOKEN

# --- reset -----------------------------------------------------------------------------------------


def test_reset_answers_the_order_id_of_each_ref_and_keeps_a_pinned_id(sim):
    response = sim.post("/v1/sim/reset", json=world())
    refs = expect_ok(response)["orders"]

    assert set(refs) == {"A", "B", "C"}
    assert refs["B"] == "ord_accdefault_k3v9x2m1"
    assert ORDER_ID.match(refs["A"])
    assert ORDER_ID.match(refs["C"])


def test_reset_pins_the_clock_at_now_until_the_clock_is_moved(api, load_world):
    load_world()
    first = expect_ok(api.get("/v1/market/status"))["now"]
    time.sleep(0.05)
    second = expect_ok(api.get("/v1/market/status"))["now"]
    assert same_time(first, NOW)
    assert same_time(second, NOW)


def test_reset_takes_cash_and_positions_as_final_and_seeded_fills_as_history(api, load_world):
    refs = load_world()
    # B's 200 shares sold and C's 100 bought are history: cash total and positions stay as given
    assert cash(api)["total"] == Decimal("1000000.00")
    assert position(api, "000001")["qty"] == 1000
    assert position(api, "601318") is None
    assert get_order(api, refs["C"])["fills"][0]["price"] == "50.00"  # filled at its limit


def test_reset_replaces_the_whole_state(api, sim, load_world):
    refs = load_world()
    placed_before = placed(api, "600519", "BUY", 100, "1680.00")
    arm_fault(sim, kind="error_before_apply", path="/v1/market/status", status=503)

    load_world(world(orders=[]))

    for old in (placed_before["order_id"], refs["A"]):
        expect_error(api.get(f"/v1/orders/{old}"), 404, "ORDER_NOT_FOUND", "fix_input")
    assert list_ids(api) == []
    expect_ok(api.get("/v1/market/status"))  # the armed fault went with the old world
    assert [entry["path"] for entry in expect_ok(sim.get("/v1/sim/requests"))["requests"]] == [
        "/v1/orders/" + placed_before["order_id"], "/v1/orders/" + refs["A"],
        "/v1/accounts/acc_default/orders", "/v1/market/status"]


def test_reset_prices_default_last_and_previous_close_to_each_other(api, load_world):
    load_world(world(prices={"600036": {"prev_close": "40.00"}, "600000": {"last": "8.00"}}))

    assert expect_ok(api.get("/v1/quotes/600036"))["last"] == "40.00"
    assert expect_ok(api.get("/v1/quotes/600000"))["prev_close"] == "8.00"
    unpriced = expect_ok(api.get("/v1/quotes/601988"))
    assert Decimal(unpriced["limit_down"]) <= Decimal(unpriced["last"]) <= Decimal(unpriced["limit_up"])


def test_reset_seeds_orders_open_partly_filled_terminal_or_new(api, load_world):
    refs = load_world(world(orders=[
        {"ref": "early", "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1650.00",
         "at": "08:45:00"},  # before the opening auction: not yet at the exchange
        {"ref": "open", "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1660.00", "at": "10:00:00"},
        {"ref": "part", "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1670.00",
         "at": "2026-11-24T10:10:00+08:00", "filled": 40, "state": "CANCELLED"},
        {"ref": "done", "symbol": "600519", "side": "SELL", "qty": 100, "limit_price": "1690.00",
         "at": "10:20:00", "state": "FILLED"},
    ]))

    early, opened = get_order(api, refs["early"]), get_order(api, refs["open"])
    assert (early["state"], states(early)) == ("NEW", ["NEW"])
    assert (opened["state"], states(opened)) == ("WORKING", ["NEW", "WORKING"])
    assert same_time(opened["created_at"], "2026-11-24T10:00:00+08:00")
    part = get_order(api, refs["part"])
    assert (part["state"], part["filled_qty"], part["cancelled_qty"], part["remaining_qty"]) == (
        "CANCELLED", 40, 60, 0)
    assert same_time(part["created_at"], "2026-11-24T10:10:00+08:00")
    done = get_order(api, refs["done"])
    assert (done["state"], done["filled_qty"], [f["price"] for f in done["fills"]]) == ("FILLED", 100, ["1690.00"])
    # frozen: early 165042.90 (165000.00 + 41.25 + 1.65) + open 166043.16 (166000.00 + 41.50 + 1.66)
    assert cash(api)["frozen"] == Decimal("331086.06")


def test_reset_with_accounts_serves_each_account_under_its_own_token(api, other_api, load_world):
    refs = load_world(two_account_world())

    assert get_account(other_api, "acc_other")["cash"]["total"] == "500000.00"
    expect_error(other_api.get("/v1/accounts/acc_default"), 404, "ACCOUNT_NOT_FOUND", "fix_input")
    expect_error(api.get("/v1/accounts/acc_other"), 404, "ACCOUNT_NOT_FOUND", "fix_input")
    assert re.match(r"^ord_accother_[a-z0-9]{8}$", refs["X"])
    assert expect_ok(other_api.delete(f"/v1/orders/{refs['X']}"))["released"] == {"cash": "0.00", "qty": 100}
    assert get_order(api, refs["A"])["state"] == "WORKING"


def test_one_token_may_grant_several_accounts(other_api, load_world):
    load_world({"now": NOW, "accounts": [
        {"account_id": "acc_default", "cash": "100000.00"},
        {"account_id": "acc_spouse", "token": OTHER_TOKEN, "cash": "200000.00"},
        {"account_id": "acc_joint", "token": OTHER_TOKEN, "cash": "300000.00"},
    ]})

    assert get_account(other_api, "acc_spouse")["cash"]["total"] == "200000.00"
    assert get_account(other_api, "acc_joint")["cash"]["total"] == "300000.00"
    order = expect_ok(other_api.post("/v1/orders", json=order_body("600000", "BUY", 100, "9.90",
                                                                    account_id="acc_joint")), 201)
    assert re.match(r"^ord_accjoint_[a-z0-9]{8}$", order["order_id"])
    assert list_ids(other_api, "acc_spouse") == []


@pytest.mark.parametrize(("case", "change"), [
    ("duplicate refs", {"orders": [
        {"ref": "A", "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1650.00", "at": "10:05:00"},
        {"ref": "A", "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1640.00", "at": "10:06:00"}]}),
    ("malformed pinned id", {"orders": [{"ref": "A", "id": "ord_abc", "symbol": "600519", "side": "BUY",
                                         "qty": 100, "limit_price": "1650.00", "at": "10:05:00"}]}),
    ("open buys beyond the cash", {"account": {**BASE_WORLD["account"], "cash": "1000.00"}}),
    ("open sells beyond the sellable shares", {"orders": [
        {"ref": "S", "symbol": "600036", "side": "SELL", "qty": 100, "limit_price": "40.00", "at": "10:05:00"}]}),
    ("an unknown field", {"weather": "sunny"}),
    ("an unknown symbol", {"prices": {"999999": {"last": "1.00"}}}),
])
def test_reset_with_an_impossible_world_is_a_validation_error(sim, load_world, case, change):
    load_world()
    response = sim.post("/v1/sim/reset", json=world(**change))
    status = 404 if case == "an unknown symbol" else 422
    code = "INSTRUMENT_NOT_FOUND" if case == "an unknown symbol" else "VALIDATION_ERROR"
    expect_error(response, status, code, "fix_input")


# --- clock and prices ------------------------------------------------------------------------------


def test_clock_takes_now_or_advance_seconds_and_answers_the_market_status(sim, load_world):
    load_world()

    moved = set_clock(sim, "2026-11-24T12:00:00+08:00")
    assert set(moved) == {"now", "trading_day", "phase", "accepts_orders", "accepts_cancels"}
    assert (moved["phase"], same_time(moved["now"], "2026-11-24T12:00:00+08:00")) == ("LUNCH_BREAK", True)
    advanced = expect_ok(sim.post("/v1/sim/clock", json={"advance_seconds": 3600}))
    assert (advanced["phase"], same_time(advanced["now"], "2026-11-24T13:00:00+08:00")) == ("CONTINUOUS", True)


@pytest.mark.parametrize("body", [{}, {"now": NOW, "advance_seconds": 5}, {"advance_seconds": -5},
                                  {"now": "noon"}])
def test_clock_with_neither_or_both_or_a_bad_value_is_a_validation_error(sim, load_world, body):
    load_world()
    expect_error(sim.post("/v1/sim/clock", json=body), 422, "VALIDATION_ERROR", "fix_input")


def test_price_move_answers_the_new_quote_and_the_orders_it_filled(sim, load_world):
    refs = load_world()
    moved = move_price(sim, "600519", "1650.00")

    assert set(moved) == {"quote", "filled"}
    assert (moved["quote"]["symbol"], moved["quote"]["last"], moved["quote"]["prev_close"]) == (
        "600519", "1650.00", "1700.00")
    assert moved["filled"] == [refs["A"]]


def test_price_move_outside_the_band_or_for_an_unknown_symbol_is_refused(api, sim, load_world):
    refs = load_world()
    outside = sim.post("/v1/sim/prices", json={"symbol": "600519", "price": "1500.00"})  # band 1530.00..1870.00
    expect_error(outside, 422, "PRICE_OUT_OF_LIMIT", "fix_input")
    expect_error(sim.post("/v1/sim/prices", json={"symbol": "999999", "price": "10.00"}), 404,
                 "INSTRUMENT_NOT_FOUND", "fix_input")
    assert get_order(api, refs["A"])["state"] == "WORKING"
    assert expect_ok(api.get("/v1/quotes/600519"))["last"] == "1690.00"


# --- faults ----------------------------------------------------------------------------------------


def test_fault_is_armed_with_201_and_echoed(sim, load_world):
    refs = load_world()
    response = sim.post("/v1/sim/faults", json={"kind": "cancel_races_fill", "order_id": refs["A"]})
    fault = expect_ok(response, 201)
    assert (fault["kind"], fault["order_id"]) == ("cancel_races_fill", refs["A"])


@pytest.mark.parametrize("fault", [
    {"kind": "meteor_strike", "path": "/v1/market/status"},
    {"kind": "error_before_apply", "path": "/v1/market/status", "order_id": UNKNOWN_ORDER},
    {"kind": "error_before_apply"},
    {"kind": "error_before_apply", "path": "/v1/market/status", "status": 418},
])
def test_fault_that_names_no_single_target_or_an_unknown_kind_is_a_validation_error(sim, load_world, fault):
    load_world()
    expect_error(sim.post("/v1/sim/faults", json=fault), 422, "VALIDATION_ERROR", "fix_input")


def test_cancel_races_fill_answers_cancel_failed_and_the_order_ends_filled(api, sim, load_world):
    refs = load_world()
    arm_fault(sim, kind="cancel_races_fill", order_id=refs["A"])

    body = expect_error(api.delete(f"/v1/orders/{refs['A']}"), 409, "CANCEL_FAILED", "retry")

    assert body["details"]["state"] == "FILLED"
    order = get_order(api, refs["A"])
    # the rest filled at the limit: 165000.00 + commission 41.25 + transfer 1.65
    assert (order["state"], order["filled_qty"], order["cancelled_qty"]) == ("FILLED", 100, 0)
    assert [(f["qty"], f["price"], f["fee"]) for f in order["fills"]] == [(100, "1650.00", "42.90")]
    assert cash(api) == {"available": Decimal("834957.10"), "frozen": Decimal("0.00"),
                         "total": Decimal("834957.10")}
    assert position(api, "600519")["qty"] == 300
    # one-shot: the next cancel meets a FILLED order
    finished = expect_error(api.delete(f"/v1/orders/{refs['A']}"), 409, "ORDER_NOT_CANCELLABLE", "fix_input")
    assert finished["details"]["state"] == "FILLED"


def test_cancel_races_fill_on_a_partly_filled_sell_fills_the_rest_at_its_limit(api, sim, load_world):
    refs = load_world()
    arm_fault(sim, kind="cancel_races_fill", order_id=refs["B"])

    body = expect_error(api.delete(f"/v1/orders/{refs['B']}"), 409, "CANCEL_FAILED", "retry")

    assert body["details"]["state"] == "FILLED"
    order = get_order(api, refs["B"])
    assert (order["filled_qty"], order["remaining_qty"], order["fills"][-1]["qty"]) == (500, 0, 300)
    assert order["fills"][-1]["price"] == "10.80"
    held = position(api, "000001")
    assert (held["qty"], held["qty_locked_sell"], held["qty_sellable"]) == (700, 0, 200)


def test_cancel_races_fill_fires_only_for_its_order_even_in_a_batch(api, sim, load_world):
    refs = load_world()
    arm_fault(sim, kind="cancel_races_fill", order_id=refs["A"])

    body = expect_ok(api.delete("/v1/accounts/acc_default/orders", params={"order_ids": f"{refs['B']},{refs['A']}"}))

    results = {item["order_id"]: item for item in body["results"]}
    assert results[refs["B"]]["ok"] is True
    assert results[refs["A"]]["ok"] is False
    assert (results[refs["A"]]["error"]["code"], results[refs["A"]]["error"]["details"]["state"]) == (
        "CANCEL_FAILED", "FILLED")
    assert get_order(api, refs["A"])["state"] == "FILLED"


def test_delay_after_apply_answers_only_after_the_delay(api, sim, load_world):
    refs = load_world()
    arm_fault(sim, kind="delay_after_apply", order_id=refs["A"], seconds=0.6)

    started = time.monotonic()
    response = api.delete(f"/v1/orders/{refs['A']}")

    assert time.monotonic() - started >= 0.6
    assert expect_ok(response)["state"] == "CANCELLED"


def test_delay_after_apply_has_applied_the_change_before_a_client_times_out(api, sim, broker_url, load_world):
    refs = load_world()
    arm_fault(sim, kind="delay_after_apply", order_id=refs["A"], seconds=1.0)

    with httpx.Client(base_url=broker_url, headers=api.headers, timeout=0.3) as impatient, \
            pytest.raises(httpx.ReadTimeout):
        impatient.delete(f"/v1/orders/{refs['A']}")

    assert get_order(api, refs["A"])["state"] == "CANCELLED"
    assert cash(api)["frozen"] == Decimal("0.00")


def test_drop_connection_closes_without_an_answer_and_changes_nothing(api, sim, load_world):
    refs = load_world()
    arm_fault(sim, kind="drop_connection", order_id=refs["A"])

    with pytest.raises(NO_ANSWER):
        api.delete(f"/v1/orders/{refs['A']}")

    assert get_order(api, refs["A"])["state"] == "WORKING"
    assert cash(api)["frozen"] == Decimal("165042.90")
    assert expect_ok(api.delete(f"/v1/orders/{refs['A']}"))["state"] == "CANCELLED"  # one-shot


def test_drop_connection_on_a_path_drops_one_order_placement_which_places_nothing(api, sim, load_world):
    load_world()
    arm_fault(sim, kind="drop_connection", path="/v1/orders", method="POST")

    with pytest.raises(NO_ANSWER):
        place(api, "600519", "BUY", 100, "1680.00")

    assert len(list_ids(api)) == 3
    expect_ok(place(api, "600519", "BUY", 100, "1680.00"), 201)


def test_path_fault_matches_the_path_exactly_and_fires_once(api, sim, load_world):
    load_world()
    arm_fault(sim, kind="error_before_apply", path="/v1/accounts/acc_default", status=503)

    expect_ok(api.get("/v1/accounts/acc_default/positions"))  # a longer path: not this fault
    expect_error(api.get("/v1/accounts/acc_default"), 503, "SERVICE_UNAVAILABLE", "retry")
    expect_ok(api.get("/v1/accounts/acc_default"))


def test_fault_with_a_method_fires_only_on_that_method(api, sim, load_world):
    refs = load_world()
    arm_fault(sim, kind="error_before_apply", order_id=refs["A"], method="GET", status=500)

    assert expect_ok(api.delete(f"/v1/orders/{refs['B']}"))["state"] == "CANCELLED"  # another order
    expect_error(api.get(f"/v1/orders/{refs['A']}"), 500, "INTERNAL", "contact_support")
    assert get_order(api, refs["A"])["state"] == "WORKING"


def test_order_fault_without_a_method_waits_for_the_next_delete_of_that_order(api, sim, load_world):
    refs = load_world()
    arm_fault(sim, kind="error_before_apply", order_id=refs["A"], status=503)

    assert get_order(api, refs["A"])["state"] == "WORKING"  # a GET does not fire it
    expect_error(api.delete(f"/v1/orders/{refs['A']}"), 503, "SERVICE_UNAVAILABLE", "retry")
    assert get_order(api, refs["A"])["state"] == "WORKING"


# --- the request log -------------------------------------------------------------------------------


def _log(sim: httpx.Client) -> list[dict[str, Any]]:
    body = expect_ok(sim.get("/v1/sim/requests"))
    assert set(body) == {"requests"}
    return body["requests"]


def test_request_log_records_each_answered_request_with_its_outcome(api, anonymous, sim, load_world):
    refs = load_world()
    api.get("/v1/accounts/acc_default")
    new = placed(api, "600519", "BUY", 100, "1680.00")
    set_clock(sim, "2026-11-24T10:31:00+08:00")  # /v1/sim/* itself is not logged
    api.delete(f"/v1/orders/{refs['A']}")
    api.delete(f"/v1/orders/{refs['C']}")
    api.get("/v1/accounts/acc_default/orders", params={"status": "WORKING", "symbol": "600519"})
    api.get(f"/v1/orders/{UNKNOWN_ORDER}")
    api.delete("/v1/accounts/acc_default/orders", params={"order_ids": f"{refs['B']},{UNKNOWN_ORDER}"})
    anonymous.get("/v1/accounts/acc_default")

    log = _log(sim)

    assert [(e["method"], e["path"], unquote(e["query"]), e["status"], e["code"]) for e in log] == [
        ("GET", "/v1/accounts/acc_default", "", 200, None),
        ("POST", "/v1/orders", "", 201, None),
        ("DELETE", f"/v1/orders/{refs['A']}", "", 200, None),
        ("DELETE", f"/v1/orders/{refs['C']}", "", 409, "ORDER_NOT_CANCELLABLE"),
        ("GET", "/v1/accounts/acc_default/orders", "status=WORKING&symbol=600519", 200, None),
        ("GET", f"/v1/orders/{UNKNOWN_ORDER}", "", 404, "ORDER_NOT_FOUND"),
        ("DELETE", "/v1/accounts/acc_default/orders", f"order_ids={refs['B']},{UNKNOWN_ORDER}", 200, None),
        ("GET", "/v1/accounts/acc_default", "", 401, "UNAUTHENTICATED"),
    ]
    assert [e["order_ids"] for e in log] == [
        [], [new["order_id"]], [refs["A"]], [refs["C"]], [], [UNKNOWN_ORDER], [refs["B"], UNKNOWN_ORDER], []]
    assert [e["account_id"] for e in log[:3]] == ["acc_default"] * 3
    assert log[4]["account_id"] == log[6]["account_id"] == "acc_default"
    assert [e["seq"] for e in log] == sorted({e["seq"] for e in log})
    assert all(TIMESTAMP.match(e["ts"]) for e in log)
    assert same_time(log[0]["ts"], NOW)
    assert same_time(log[2]["ts"], "2026-11-24T10:31:00+08:00")
    assert all(set(e) == {"seq", "ts", "method", "path", "query", "status", "code", "account_id", "order_ids"}
               for e in log)


def test_request_log_records_fault_answers(api, sim, load_world):
    load_world()
    arm_fault(sim, kind="error_before_apply", path="/v1/market/status", status=503)
    api.get("/v1/market/status")
    assert [(e["path"], e["status"], e["code"]) for e in _log(sim)] == [
        ("/v1/market/status", 503, "SERVICE_UNAVAILABLE")]


def test_request_log_is_emptied_by_reset(api, sim, load_world):
    load_world()
    api.get("/v1/accounts/acc_default")
    assert len(_log(sim)) == 1
    load_world()
    assert _log(sim) == []


def test_sim_routes_answer_errors_in_the_contract_envelope(sim, load_world):
    load_world()
    expect_error(sim.post("/v1/sim/reset", content=b"{", headers={"Content-Type": "application/json"}), 422,
                 "VALIDATION_ERROR", "fix_input")
    expect_error(sim.post("/v1/sim/prices", json={"symbol": "600519"}), 422, "VALIDATION_ERROR", "fix_input")


# --- the OpenAPI document --------------------------------------------------------------------------


def test_openapi_document_describes_the_v1_api_and_leaves_sim_out(api):
    document = expect_ok(api.get("/openapi.json"))
    paths = document["paths"]

    expected = {
        "/v1/orders": {"post"},
        "/v1/orders/{order_id}": {"get", "delete"},
        "/v1/accounts/{account_id}": {"get"},
        "/v1/accounts/{account_id}/positions": {"get"},
        "/v1/accounts/{account_id}/orders": {"get", "delete"},
        "/v1/instruments": {"get"},
        "/v1/instruments/{symbol}": {"get"},
        "/v1/quotes/{symbol}": {"get"},
        "/v1/market/status": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    assert not [path for path in paths if path.startswith("/v1/sim")]
