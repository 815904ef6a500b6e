"""Contract: /v1/orders over real HTTP — place, read and cancel one order, and every error of those routes.

BASE_WORLD at 2026-11-24 10:30 (continuous trading): cash 1,000,000.00; 600519 last 1690.00 (band
1530.00..1870.00), 200 settled shares; 000001 last 10.50, 1000 shares of which 500 bought today.
A: BUY 600519 100 @ 1650.00 WORKING, frozen 165000.00 + 41.25 commission + 1.65 transfer = 165042.90.
B: SELL 000001 500 @ 10.80, 200 filled, 300 open. C: BUY 601318 100 @ 50.00 FILLED.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest

from tests.broker.contract import (
    ORDER_ID,
    ORDER_KEYS,
    UNKNOWN_ORDER,
    assert_invariants,
    cash,
    expect_error,
    expect_ok,
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
from tests.conftest import NOW

A_FROZEN = Decimal("165042.90")  # 1650.00 × 100 = 165000.00; + 41.25 commission + 1.65 transfer

# --- placing ---------------------------------------------------------------------------------------


def test_limit_buy_below_the_last_price_rests_working_and_freezes_value_plus_fees(api, load_world):
    load_world()
    order = placed(api, "600519", "BUY", 100, "1680.00")

    assert ORDER_ID.match(order["order_id"])
    assert order["client_order_id"]
    assert (order["account_id"], order["symbol"], order["name"], order["exchange"]) == (
        "acc_default", "600519", "贵州茅台", "SH")
    assert (order["side"], order["type"], order["qty"], order["limit_price"]) == ("BUY", "LIMIT", 100, "1680.00")
    assert (order["state"], order["filled_qty"], order["cancelled_qty"], order["remaining_qty"]) == (
        "WORKING", 0, 0, 100)
    # 1680.00 × 100 = 168000.00; commission 168000 × 0.025% = 42.00; transfer 168000 × 0.001% = 1.68
    assert order["frozen_cash"] == "168043.68"
    assert order["avg_fill_price"] is None
    assert order["fills"] == []
    assert order["reject_reason"] is None
    assert states(order) == ["NEW", "WORKING"]
    assert same_time(order["created_at"], "2026-11-24T10:30:00+08:00")
    assert_invariants(order)
    # frozen: A's 165042.90 + 168043.68 = 333086.58; available 1000000.00 - 333086.58
    assert cash(api) == {"available": Decimal("666913.42"), "frozen": Decimal("333086.58"),
                         "total": Decimal("1000000.00")}


def test_order_object_carries_every_contract_field_in_wire_formats(api, load_world):
    refs = load_world()
    partly_sold = get_order(api, refs["B"])

    assert set(partly_sold) == ORDER_KEYS
    assert partly_sold["order_id"] == "ord_accdefault_k3v9x2m1"  # the id the world pinned
    assert (partly_sold["qty"], partly_sold["filled_qty"], partly_sold["cancelled_qty"],
            partly_sold["remaining_qty"]) == (500, 200, 0, 300)
    assert partly_sold["avg_fill_price"] == "10.80"
    assert partly_sold["frozen_cash"] == "0.00"  # a SELL holds no cash
    # 200 × 10.80 = 2160.00: commission 0.54 → minimum 5.00; transfer 0.0216 → 0.02; stamp duty 1.08
    assert [(f["qty"], f["price"], f["fee"]) for f in partly_sold["fills"]] == [(200, "10.80", "6.10")]
    assert partly_sold["fills"][0]["fill_id"].startswith("fil_")
    assert states(partly_sold) == ["NEW", "WORKING"]
    assert_invariants(partly_sold)

    filled = get_order(api, refs["C"])
    assert set(filled) == ORDER_KEYS
    assert (filled["state"], filled["filled_qty"], filled["remaining_qty"], filled["frozen_cash"]) == (
        "FILLED", 100, 0, "0.00")
    assert states(filled) == ["NEW", "WORKING", "FILLED"]
    assert_invariants(filled)


def test_marketable_buy_fills_at_once_at_the_last_price(api, load_world):
    load_world()
    order = placed(api, "600519", "BUY", 100, "1700.00")  # limit above the last 1690.00

    assert order["state"] == "FILLED"
    # 1690.00 × 100 = 169000.00: commission 42.25; transfer 1.69 → fee 43.94
    assert [(f["qty"], f["price"], f["fee"]) for f in order["fills"]] == [(100, "1690.00", "43.94")]
    assert (order["avg_fill_price"], order["filled_qty"], order["remaining_qty"], order["frozen_cash"]) == (
        "1690.00", 100, 0, "0.00")
    assert states(order) == ["NEW", "WORKING", "FILLED"]
    assert_invariants(order)
    # total 1000000.00 - 169043.94; only A stays frozen
    assert cash(api) == {"available": Decimal("665913.16"), "frozen": A_FROZEN, "total": Decimal("830956.06")}


def test_marketable_sell_fills_at_the_last_price_and_credits_the_cash_at_once(api, load_world):
    load_world()
    order = placed(api, "600519", "SELL", 100, "1680.00")  # limit below the last 1690.00

    assert order["state"] == "FILLED"
    # 169000.00: commission 42.25; transfer 1.69; stamp duty 84.50 → fee 128.44
    assert [(f["qty"], f["price"], f["fee"]) for f in order["fills"]] == [(100, "1690.00", "128.44")]
    # total 1000000.00 + 169000.00 - 128.44; the proceeds are available for new buys at once
    assert cash(api) == {"available": Decimal("1003828.66"), "frozen": A_FROZEN, "total": Decimal("1168871.56")}
    held = position(api, "600519")
    assert held is not None
    assert (held["qty"], held["qty_sellable"]) == (100, 100)


def test_repeated_client_order_id_with_the_same_body_returns_the_first_order_with_200(api, load_world):
    load_world()
    body = order_body("600519", "BUY", 100, "1680.00", client_order_id="0b6f3c1e-retry")
    first = expect_ok(api.post("/v1/orders", json=body), 201)
    again = expect_ok(api.post("/v1/orders", json=body), 200)

    assert again["order_id"] == first["order_id"]
    assert again["client_order_id"] == first["client_order_id"] == "0b6f3c1e-retry"
    assert list_ids(api).count(first["order_id"]) == 1
    assert len(list_ids(api)) == 4  # A, B, C and this one: no second order
    assert cash(api)["frozen"] == A_FROZEN + Decimal("168043.68")  # frozen once


def test_client_order_id_reused_with_another_body_is_an_idempotency_conflict(api, load_world):
    load_world()
    placed(api, "600519", "BUY", 100, "1680.00", client_order_id="cid-1")

    response = place(api, "600519", "BUY", 200, "1680.00", client_order_id="cid-1")

    expect_error(response, 409, "IDEMPOTENCY_CONFLICT", "fix_input")
    assert len(list_ids(api)) == 4


def test_buy_beyond_available_cash_is_insufficient_cash_with_required_and_available(api, load_world):
    load_world()
    response = place(api, "600519", "BUY", 500, "1690.00")

    body = expect_error(response, 409, "INSUFFICIENT_CASH", "fix_input")
    # 1690.00 × 500 = 845000.00 + commission 211.25 + transfer 8.45; available = 1000000.00 - A's 165042.90
    assert body["details"]["required"] == "845219.70"
    assert body["details"]["available"] == "834957.10"
    assert len(list_ids(api)) == 3


def test_sell_beyond_sellable_shares_is_insufficient_position_counting_unsettled_and_locked(api, load_world):
    load_world()
    # 000001: 1000 held - 500 bought today (T+1) - 300 locked by B = 200 sellable
    body = expect_error(place(api, "000001", "SELL", 300, "10.50"), 409, "INSUFFICIENT_POSITION", "fix_input")
    assert body["details"]["sellable"] == 200

    assert placed(api, "000001", "SELL", 200, "10.60")["state"] == "WORKING"


def test_sell_of_a_symbol_not_held_is_insufficient_position_with_nothing_sellable(api, load_world):
    load_world()
    body = expect_error(place(api, "600036", "SELL", 100, "10.00"), 409, "INSUFFICIENT_POSITION", "fix_input")
    assert body["details"]["sellable"] == 0


def test_order_for_an_unknown_symbol_is_instrument_not_found(api, load_world):
    load_world()
    expect_error(place(api, "999999", "BUY", 100, "10.00"), 404, "INSTRUMENT_NOT_FOUND", "fix_input")
    assert len(list_ids(api)) == 3


def test_order_for_an_account_the_token_does_not_grant_is_account_not_found(api, load_world):
    load_world(two_account_world())
    not_granted = api.post("/v1/orders", json=order_body("600519", "BUY", 100, "1680.00", account_id="acc_other"))
    unknown = api.post("/v1/orders", json=order_body("600519", "BUY", 100, "1680.00", account_id="acc_nobody"))

    expect_error(not_granted, 404, "ACCOUNT_NOT_FOUND", "fix_input")
    expect_error(unknown, 404, "ACCOUNT_NOT_FOUND", "fix_input")


# --- reading ---------------------------------------------------------------------------------------


def test_get_order_returns_the_order_as_placed(api, load_world):
    load_world()
    order = placed(api, "600519", "BUY", 100, "1680.00")
    assert get_order(api, order["order_id"]) == order


@pytest.mark.parametrize("order_id", [UNKNOWN_ORDER, "abc12345", "ord_abc12345", "ord_accdefault_ABC12345"])
def test_unknown_or_malformed_order_id_is_order_not_found(api, load_world, order_id):
    load_world()
    expect_error(api.get(f"/v1/orders/{order_id}"), 404, "ORDER_NOT_FOUND", "fix_input")
    expect_error(api.delete(f"/v1/orders/{order_id}"), 404, "ORDER_NOT_FOUND", "fix_input")


def test_short_form_of_a_real_order_id_is_not_accepted_by_the_server(api, load_world):
    refs = load_world()
    tail = refs["A"].rsplit("_", 1)[1]
    for short in (tail, f"ord_{tail}"):
        expect_error(api.get(f"/v1/orders/{short}"), 404, "ORDER_NOT_FOUND", "fix_input")
        expect_error(api.delete(f"/v1/orders/{short}"), 404, "ORDER_NOT_FOUND", "fix_input")
    assert get_order(api, refs["A"])["state"] == "WORKING"


def test_order_of_an_account_the_token_does_not_grant_is_answered_as_unknown(api, other_api, load_world):
    refs = load_world(two_account_world())
    theirs = refs["X"]

    seen = expect_error(api.get(f"/v1/orders/{theirs}"), 404, "ORDER_NOT_FOUND", "fix_input")
    expect_error(api.delete(f"/v1/orders/{theirs}"), 404, "ORDER_NOT_FOUND", "fix_input")
    assert get_order(other_api, theirs)["state"] == "WORKING"  # untouched

    load_world(world(orders=[]))  # now that order does not exist at all
    unknown = expect_error(api.get(f"/v1/orders/{theirs}"), 404, "ORDER_NOT_FOUND", "fix_input")
    assert {**seen, "request_id": None} == {**unknown, "request_id": None}


# --- cancelling ------------------------------------------------------------------------------------


def test_cancel_working_buy_returns_the_final_snapshot_and_releases_its_frozen_cash(api, load_world):
    refs = load_world()
    before = get_order(api, refs["A"])
    assert before["frozen_cash"] == "165042.90"

    cancelled = expect_ok(api.delete(f"/v1/orders/{refs['A']}"))

    assert set(cancelled) == ORDER_KEYS | {"released"}
    assert cancelled["released"] == {"cash": before["frozen_cash"], "qty": 0}
    assert (cancelled["state"], cancelled["filled_qty"], cancelled["cancelled_qty"], cancelled["remaining_qty"],
            cancelled["frozen_cash"]) == ("CANCELLED", 0, 100, 0, "0.00")
    assert states(cancelled) == ["NEW", "WORKING", "CANCELLED"]
    assert same_time(cancelled["state_history"][-1]["ts"], "2026-11-24T10:30:00+08:00")
    assert_invariants(cancelled)
    assert cash(api) == {"available": Decimal("1000000.00"), "frozen": Decimal("0.00"),
                         "total": Decimal("1000000.00")}
    assert get_order(api, refs["A"]) == {key: value for key, value in cancelled.items() if key != "released"}


def test_cancel_partly_filled_sell_releases_the_open_shares_to_sellable(api, load_world):
    refs = load_world()
    held = position(api, "000001")
    assert held is not None
    assert (held["qty_sellable"], held["qty_locked_sell"]) == (200, 300)

    cancelled = expect_ok(api.delete(f"/v1/orders/{refs['B']}"))

    assert cancelled["released"] == {"cash": "0.00", "qty": 300}
    assert (cancelled["state"], cancelled["filled_qty"], cancelled["cancelled_qty"],
            cancelled["remaining_qty"]) == ("CANCELLED", 200, 300, 0)
    assert_invariants(cancelled)
    after = position(api, "000001")
    assert after is not None
    assert (after["qty"], after["qty_sellable"], after["qty_locked_sell"], after["qty_unsettled"]) == (
        1000, 500, 0, 500)


def test_cancel_partly_filled_buy_releases_the_cash_still_frozen(api, sim, load_world):
    refs = load_world()
    move_price(sim, "600519", "1650.00", volume=40)  # A fills 40 at its limit
    partly = get_order(api, refs["A"])
    # fill 40 × 1650.00 = 66000.00: commission 16.50, transfer 0.66 → 17.16; 165042.90 - 66017.16 = 99025.74
    assert [(f["qty"], f["price"], f["fee"]) for f in partly["fills"]] == [(40, "1650.00", "17.16")]
    assert (partly["filled_qty"], partly["remaining_qty"], partly["frozen_cash"]) == (40, 60, "99025.74")

    cancelled = expect_ok(api.delete(f"/v1/orders/{refs['A']}"))

    assert cancelled["released"] == {"cash": "99025.74", "qty": 0}
    assert (cancelled["state"], cancelled["filled_qty"], cancelled["cancelled_qty"]) == ("CANCELLED", 40, 60)
    assert_invariants(cancelled)
    # total 1000000.00 - 66017.16; nothing frozen any more
    assert cash(api) == {"available": Decimal("933982.84"), "frozen": Decimal("0.00"),
                         "total": Decimal("933982.84")}


def test_cancel_of_a_new_order_waiting_for_the_open_goes_straight_to_cancelled(api, load_world):
    load_world(world(now="2026-11-24T08:30:00+08:00", orders=[]))
    order = placed(api, "600519", "BUY", 100, "1650.00")
    assert order["state"] == "NEW"
    assert order["frozen_cash"] == "165042.90"

    cancelled = expect_ok(api.delete(f"/v1/orders/{order['order_id']}"))

    assert cancelled["released"] == {"cash": "165042.90", "qty": 0}
    assert states(cancelled) == ["NEW", "CANCELLED"]
    assert cash(api)["available"] == Decimal("1000000.00")


@pytest.mark.parametrize("state", ["FILLED", "CANCELLED", "REJECTED", "EXPIRED"])
def test_cancel_of_a_finished_order_is_not_cancellable_and_names_its_state(api, load_world, state):
    refs = load_world(world(orders=[{"ref": "D", "symbol": "600519", "side": "BUY", "qty": 100,
                                     "limit_price": "1650.00", "at": "10:05:00", "state": state}]))

    body = expect_error(api.delete(f"/v1/orders/{refs['D']}"), 409, "ORDER_NOT_CANCELLABLE", "fix_input")

    assert body["details"]["state"] == state
    assert get_order(api, refs["D"])["state"] == state


def test_second_cancel_of_the_same_order_is_not_cancellable(api, load_world):
    refs = load_world()
    expect_ok(api.delete(f"/v1/orders/{refs['A']}"))

    body = expect_error(api.delete(f"/v1/orders/{refs['A']}"), 409, "ORDER_NOT_CANCELLABLE", "fix_input")

    assert body["details"]["state"] == "CANCELLED"
    assert cash(api)["available"] == Decimal("1000000.00")  # released once, not twice


def _auction_world(now: str) -> dict:
    return world(now=now, orders=[{"ref": "O", "symbol": "600519", "side": "BUY", "qty": 100,
                                   "limit_price": "1650.00", "at": "09:16:00"}])


@pytest.mark.parametrize(("now", "retry_after"), [
    ("2026-11-24T09:20:00+08:00", "2026-11-24T09:30:00+08:00"),
    ("2026-11-24T09:25:00+08:00", "2026-11-24T09:30:00+08:00"),
    ("2026-11-24T09:29:59+08:00", "2026-11-24T09:30:00+08:00"),
    ("2026-11-24T14:57:00+08:00", "2026-11-24T15:00:00+08:00"),
    ("2026-11-24T14:59:59+08:00", "2026-11-24T15:00:00+08:00"),
])
def test_cancel_in_a_no_cancel_window_is_refused_with_retry_after(api, load_world, now, retry_after):
    refs = load_world(_auction_world(now))

    body = expect_error(api.delete(f"/v1/orders/{refs['O']}"), 409, "CANCEL_NOT_ALLOWED_NOW", "retry_later")

    assert same_time(body["details"]["retry_after"], retry_after)
    order = get_order(api, refs["O"])
    assert (order["state"], order["frozen_cash"]) == ("WORKING", "165042.90")


@pytest.mark.parametrize("now", ["2026-11-24T09:19:59+08:00", "2026-11-24T09:30:00+08:00",
                                 "2026-11-24T14:56:59+08:00"])
def test_cancel_just_outside_the_no_cancel_windows_is_accepted(api, load_world, now):
    refs = load_world(_auction_world(now))
    assert expect_ok(api.delete(f"/v1/orders/{refs['O']}"))["state"] == "CANCELLED"


def test_cancel_refused_at_9_22_succeeds_once_the_clock_reaches_retry_after(api, sim, load_world):
    refs = load_world(_auction_world("2026-11-24T09:22:00+08:00"))
    body = expect_error(api.delete(f"/v1/orders/{refs['O']}"), 409, "CANCEL_NOT_ALLOWED_NOW", "retry_later")

    set_clock(sim, body["details"]["retry_after"])

    assert expect_ok(api.delete(f"/v1/orders/{refs['O']}"))["released"] == {"cash": "165042.90", "qty": 0}



def test_buy_needing_exactly_the_available_cash_is_accepted_and_a_cent_more_is_not(api, load_world):
    # 100 × 10.00 = 1000.00 + commission 0.25 → minimum 5.00 + transfer 0.01 = 1005.01 to freeze
    load_world({"now": NOW, "account": {"cash": "1005.00"}, "prices": {"000001": {"last": "10.05"}}})
    body = expect_error(place(api, "000001", "BUY", 100, "10.00"), 409, "INSUFFICIENT_CASH", "fix_input")
    assert (body["details"]["required"], body["details"]["available"]) == ("1005.01", "1005.00")

    load_world({"now": NOW, "account": {"cash": "1005.01"}, "prices": {"000001": {"last": "10.05"}}})
    assert placed(api, "000001", "BUY", 100, "10.00")["frozen_cash"] == "1005.01"
    assert cash(api)["available"] == Decimal("0.00")


# --- serialization ---------------------------------------------------------------------------------


def _concurrently(broker_url: str, headers: httpx.Headers, count: int,
                  call: Callable[[httpx.Client], httpx.Response]) -> list[httpx.Response]:
    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=broker_url, headers=headers, timeout=10) as client:
            return call(client)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_concurrent_cancels_of_one_order_succeed_once_and_release_its_cash_once(api, broker_url, load_world):
    refs = load_world()

    responses = _concurrently(broker_url, api.headers, 10, lambda c: c.delete(f"/v1/orders/{refs['A']}"))

    assert sorted(r.status_code for r in responses) == [200] + [409] * 9
    for response in responses:
        if response.status_code == 409:
            expect_error(response, 409, "ORDER_NOT_CANCELLABLE", "fix_input")
    assert cash(api)["available"] == Decimal("1000000.00")


def test_concurrent_retries_with_one_client_order_id_place_one_order(api, broker_url, load_world):
    load_world()
    body = order_body("600519", "BUY", 100, "1680.00", client_order_id="retry-storm")

    responses = _concurrently(broker_url, api.headers, 8, lambda c: c.post("/v1/orders", json=body))

    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({r.json()["order_id"] for r in responses}) == 1
    assert len(list_ids(api)) == 4
    assert cash(api)["frozen"] == A_FROZEN + Decimal("168043.68")


def test_cancel_racing_a_price_move_lets_exactly_one_of_them_win(api, sim, load_world):
    refs = load_world()

    with ThreadPoolExecutor(2) as pool:
        cancelling = pool.submit(api.delete, f"/v1/orders/{refs['A']}")
        moving = pool.submit(sim.post, "/v1/sim/prices", json={"symbol": "600519", "price": "1650.00"})
    cancel, move = cancelling.result(), expect_ok(moving.result())

    order = get_order(api, refs["A"])
    if cancel.status_code == 200:
        assert (order["state"], order["filled_qty"], move["filled"]) == ("CANCELLED", 0, [])
        assert cash(api)["total"] == Decimal("1000000.00")
    else:
        expect_error(cancel, 409, "ORDER_NOT_CANCELLABLE", "fix_input")
        assert (order["state"], order["filled_qty"], move["filled"]) == ("FILLED", 100, [refs["A"]])
        assert cash(api)["total"] == Decimal("834957.10")  # 1000000.00 - 165042.90
    assert cash(api)["frozen"] == Decimal("0.00")
