"""Contract: instruments, quotes, market status and /healthz, and the market rules docs/api.md makes the broker
enforce — lots, ticks and bands, fees, matching and sessions — observed over real HTTP.

Fees by hand (docs/api.md): commission 0.025% (5.00 minimum per order), transfer fee 0.001%, stamp duty 0.05%
on sells; each rounded half-up to 0.01. A BUY freezes limit × qty plus the fees of that value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.broker.contract import (
    MONEY,
    TIMESTAMP,
    cash,
    expect_error,
    expect_ok,
    get_order,
    move_price,
    place,
    placed,
    position,
    same_time,
    set_clock,
    states,
    world,
)

INSTRUMENT_KEYS = {"symbol", "name", "exchange", "board", "lot", "price_limit_pct"}
MOUTAI = {"symbol": "600519", "name": "贵州茅台", "exchange": "SH", "board": "MAIN",
          "lot": {"min": 100, "step": 100}, "price_limit_pct": 10}


def plain_world(now: str = "2026-11-24T10:30:00+08:00", cash_total: str = "1000000.00",
                prices: dict[str, Any] | None = None, positions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An account with cash (and positions) and no orders."""
    return {"now": now, "account": {"cash": cash_total, "positions": positions or []},
            "prices": prices or {"600519": {"last": "1690.00", "prev_close": "1700.00"}}, "orders": []}


def search(api, q: str) -> list[dict[str, Any]]:
    body = expect_ok(api.get("/v1/instruments", params={"q": q}))
    assert set(body) == {"instruments"}
    return body["instruments"]


# --- instruments -----------------------------------------------------------------------------------


def test_instrument_search_finds_a_stock_by_part_of_its_name(api, load_world):
    load_world()
    found = search(api, "茅台")
    assert MOUTAI in found
    assert all(set(item) == INSTRUMENT_KEYS for item in found)


def test_instrument_search_by_code_puts_the_exact_code_first(api, load_world):
    load_world()
    assert search(api, "600519")[0] == MOUTAI
    by_prefix = search(api, "60051")
    assert MOUTAI in by_prefix
    assert all(item["symbol"].startswith("60051") for item in by_prefix)


@pytest.mark.parametrize("q", ["万科Ａ", "万科A"])
def test_instrument_search_folds_full_width_letters(api, load_world, q):
    load_world()
    assert [item["symbol"] for item in search(api, q)] == ["000002"]
    assert search(api, q)[0]["name"] == "万科Ａ"


@pytest.mark.parametrize("q", ["sh600519", "SH600519", "600519.SH"])
def test_instrument_search_accepts_exchange_prefixed_codes(api, load_world, q):
    load_world()
    assert search(api, q)[0] == MOUTAI


def test_instrument_search_without_a_match_is_an_empty_list(api, load_world):
    load_world()
    assert search(api, "没有这只股票") == []


@pytest.mark.parametrize("symbol", ["600519", "sh600519", "600519.SH"])
def test_one_instrument_by_code_or_prefixed_code(api, load_world, symbol):
    load_world()
    assert expect_ok(api.get(f"/v1/instruments/{symbol}")) == MOUTAI


@pytest.mark.parametrize(("symbol", "exchange", "board", "lot", "pct"), [
    ("000001", "SZ", "MAIN", {"min": 100, "step": 100}, 10),
    ("300750", "SZ", "CHINEXT", {"min": 100, "step": 100}, 20),
    ("688981", "SH", "STAR", {"min": 200, "step": 1}, 20),
    ("920819", "BJ", "BSE", {"min": 100, "step": 1}, 30),
    ("000005", "SZ", "MAIN", {"min": 100, "step": 100}, 10),  # ST星源: ±10% since 2026-07-06
])
def test_instrument_states_its_board_lot_and_band(api, load_world, symbol, exchange, board, lot, pct):
    load_world()
    instrument = expect_ok(api.get(f"/v1/instruments/{symbol}"))
    assert (instrument["exchange"], instrument["board"], instrument["lot"], instrument["price_limit_pct"]) == (
        exchange, board, lot, pct)


@pytest.mark.parametrize("path", ["/v1/instruments/999999", "/v1/quotes/999999",
                                  "/v1/instruments/000003", "/v1/quotes/000003"])  # 000003 PT金田A: delisted
def test_unknown_or_delisted_symbol_is_instrument_not_found(api, load_world, path):
    load_world()
    expect_error(api.get(path), 404, "INSTRUMENT_NOT_FOUND", "fix_input")


# --- quotes ----------------------------------------------------------------------------------------


def test_quote_gives_the_last_price_previous_close_and_the_daily_band(api, load_world):
    load_world()
    quote = expect_ok(api.get("/v1/quotes/600519"))

    assert set(quote) == {"symbol", "last", "prev_close", "limit_up", "limit_down", "bid", "ask", "ts"}
    assert (quote["symbol"], quote["last"], quote["prev_close"]) == ("600519", "1690.00", "1700.00")
    assert (quote["limit_down"], quote["limit_up"]) == ("1530.00", "1870.00")  # 1700.00 × 0.9, × 1.1
    assert all(MONEY.match(quote[field]) for field in ("last", "prev_close", "limit_up", "limit_down", "bid", "ask"))
    assert Decimal(quote["bid"]) <= Decimal(quote["last"]) <= Decimal(quote["ask"])
    assert same_time(quote["ts"], "2026-11-24T10:30:00+08:00")
    assert expect_ok(api.get("/v1/quotes/sh600519")) == quote


# --- market status and health ----------------------------------------------------------------------


@pytest.mark.parametrize(("now", "phase", "accepts_orders", "accepts_cancels", "trading_day"), [
    ("2026-11-24T09:00:00+08:00", "PRE_OPEN", False, True, "2026-11-24"),
    ("2026-11-24T09:15:00+08:00", "OPENING_AUCTION", True, True, "2026-11-24"),
    ("2026-11-24T09:20:00+08:00", "OPENING_AUCTION", True, False, "2026-11-24"),
    ("2026-11-24T09:25:00+08:00", "OPENING_AUCTION", False, False, "2026-11-24"),
    ("2026-11-24T09:30:00+08:00", "CONTINUOUS", True, True, "2026-11-24"),
    ("2026-11-24T11:30:00+08:00", "LUNCH_BREAK", False, True, "2026-11-24"),
    ("2026-11-24T13:00:00+08:00", "CONTINUOUS", True, True, "2026-11-24"),
    ("2026-11-24T14:57:00+08:00", "CLOSING_AUCTION", True, False, "2026-11-24"),
    ("2026-11-24T15:00:00+08:00", "CLOSED", False, True, "2026-11-24"),
    ("2026-11-28T10:00:00+08:00", "CLOSED", False, True, "2026-11-30"),  # Saturday
    ("2026-10-01T10:00:00+08:00", "CLOSED", False, True, "2026-10-08"),  # National Day holiday
])
def test_market_status_follows_the_sessions_and_the_trading_calendar(api, load_world, now, phase,
                                                                      accepts_orders, accepts_cancels, trading_day):
    load_world(plain_world(now))
    status = expect_ok(api.get("/v1/market/status"))

    assert set(status) == {"now", "trading_day", "phase", "accepts_orders", "accepts_cancels"}
    assert same_time(status["now"], now)
    assert (status["phase"], status["accepts_orders"], status["accepts_cancels"], status["trading_day"]) == (
        phase, accepts_orders, accepts_cancels, trading_day)


def test_healthz_answers_without_a_token(anonymous):
    response = anonymous.get("/healthz")
    assert expect_ok(response) == {"status": "ok"}


# --- lots ------------------------------------------------------------------------------------------

CHEAP = {symbol: {"last": "10.00"} for symbol in ("600000", "000001", "300750", "688981", "688001", "920819",
                                                   "600036")}


@pytest.mark.parametrize(("symbol", "qty", "valid"), [
    ("600000", 100, True), ("600000", 150, False), ("600000", 50, False), ("000001", 1100, True),
    ("300750", 200, True), ("300750", 150, False),
    ("688981", 200, True), ("688981", 201, True), ("688981", 199, False),  # STAR: from 200, then steps of 1
    ("920819", 100, True), ("920819", 101, True), ("920819", 99, False),  # BSE: from 100, then steps of 1
])
def test_buy_quantity_must_be_a_valid_lot_for_the_board(api, load_world, symbol, qty, valid):
    load_world(plain_world(prices=CHEAP))
    response = place(api, symbol, "BUY", qty, "10.00")
    if valid:
        expect_ok(response, 201)
    else:
        expect_error(response, 422, "INVALID_QUANTITY", "fix_input")


@pytest.mark.parametrize(("symbol", "largest"), [("600000", 1_000_000), ("300750", 300_000), ("688981", 100_000)])
def test_one_order_takes_at_most_the_board_s_largest_quantity(api, load_world, symbol, largest):
    load_world(plain_world(cash_total="50000000.00", prices=CHEAP))
    step = 1 if symbol.startswith("688") else 100
    expect_error(place(api, symbol, "BUY", largest + step, "9.99"), 422, "INVALID_QUANTITY", "fix_input")
    expect_ok(place(api, symbol, "BUY", largest, "9.99"), 201)


ODD_LOTS = [
    {"symbol": "600036", "qty": 250, "avg_cost": "9.00"},  # all sellable
    {"symbol": "600000", "qty": 350, "avg_cost": "9.00", "unsettled": 100},  # 250 sellable
    {"symbol": "688981", "qty": 150, "avg_cost": "9.00"},  # STAR, below the 200 minimum
    {"symbol": "688001", "qty": 1000, "avg_cost": "9.00"},
]


@pytest.mark.parametrize(("symbol", "qty", "valid"), [
    ("600036", 250, True),  # clears the position
    ("600036", 200, True),  # a round lot
    ("600036", 50, False), ("600036", 150, False),
    ("600000", 250, True),  # clears every sellable share (100 more are unsettled)
    ("688981", 150, True),  # clears a STAR remainder under 200
    ("688001", 150, False), ("688001", 201, True),
])
def test_odd_lot_sell_is_allowed_only_when_it_clears_every_sellable_share(api, load_world, symbol, qty, valid):
    load_world(plain_world(prices=CHEAP, positions=ODD_LOTS))
    response = place(api, symbol, "SELL", qty, "10.00")
    if valid:
        expect_ok(response, 201)
    else:
        expect_error(response, 422, "INVALID_QUANTITY", "fix_input")


# --- ticks and bands -------------------------------------------------------------------------------


@pytest.mark.parametrize(("symbol", "prev_close", "limit_down", "limit_up", "qty"), [
    ("600519", "1700.00", "1530.00", "1870.00", 100),  # main board ±10%
    ("300750", "200.00", "160.00", "240.00", 100),  # ChiNext ±20%
    ("688981", "100.00", "80.00", "120.00", 200),  # STAR ±20%
    ("920819", "10.00", "7.00", "13.00", 100),  # BSE ±30%
    ("000005", "10.00", "9.00", "11.00", 100),  # ST stock ±10% from 2026-07-06
])
def test_limit_price_must_lie_in_the_daily_band_of_the_board(api, load_world, symbol, prev_close, limit_down,
                                                            limit_up, qty):
    load_world(plain_world(prices={symbol: {"last": prev_close}}))
    quote = expect_ok(api.get(f"/v1/quotes/{symbol}"))
    assert (quote["limit_down"], quote["limit_up"]) == (limit_down, limit_up)

    tick = Decimal("0.01")
    above = expect_error(place(api, symbol, "BUY", qty, str(Decimal(limit_up) + tick)), 422,
                         "PRICE_OUT_OF_LIMIT", "fix_input")
    below = expect_error(place(api, symbol, "BUY", qty, str(Decimal(limit_down) - tick)), 422,
                         "PRICE_OUT_OF_LIMIT", "fix_input")
    for body in (above, below):
        assert (body["details"]["limit_down"], body["details"]["limit_up"]) == (limit_down, limit_up)
    expect_ok(place(api, symbol, "BUY", qty, limit_up), 201)
    expect_ok(place(api, symbol, "BUY", qty, limit_down), 201)


def test_band_prices_are_rounded_half_up_to_the_tick(api, load_world):
    load_world(plain_world(prices={"600000": {"last": "10.95"}}))
    quote = expect_ok(api.get("/v1/quotes/600000"))
    # 10.95 × 1.1 = 12.045 → 12.05 half-up (half-even would give 12.04); 10.95 × 0.9 = 9.855 → 9.86
    assert (quote["limit_down"], quote["limit_up"]) == ("9.86", "12.05")
    expect_ok(place(api, "600000", "BUY", 100, "12.05"), 201)
    expect_error(place(api, "600000", "BUY", 100, "12.06"), 422, "PRICE_OUT_OF_LIMIT", "fix_input")
    expect_ok(place(api, "600000", "BUY", 100, "9.86"), 201)
    expect_error(place(api, "600000", "BUY", 100, "9.85"), 422, "PRICE_OUT_OF_LIMIT", "fix_input")


@pytest.mark.parametrize(("now", "pct", "limit_up", "accepted", "refused"), [
    ("2026-07-03T10:30:00+08:00", 5, "10.50", "10.50", "10.51"),  # Friday before the 2026 rules
    ("2026-07-06T10:30:00+08:00", 10, "11.00", "10.51", "11.01"),  # the Monday they took effect
])
def test_st_stock_band_is_5_percent_before_2026_07_06_and_10_percent_after(api, load_world, now, pct, limit_up,
                                                                          accepted, refused):
    load_world(plain_world(now, prices={"000005": {"last": "10.00"}}))  # ST星源

    assert expect_ok(api.get("/v1/instruments/000005"))["price_limit_pct"] == pct
    assert expect_ok(api.get("/v1/quotes/000005"))["limit_up"] == limit_up
    expect_ok(place(api, "000005", "BUY", 100, accepted), 201)
    body = expect_error(place(api, "000005", "BUY", 100, refused), 422, "PRICE_OUT_OF_LIMIT", "fix_input")
    assert body["details"]["limit_up"] == limit_up


def test_price_off_the_tick_is_price_out_of_limit_even_inside_the_band(api, load_world):
    load_world()
    body = expect_error(place(api, "600519", "BUY", 100, "1800.005"), 422, "PRICE_OUT_OF_LIMIT", "fix_input")
    assert (body["details"]["limit_down"], body["details"]["limit_up"]) == ("1530.00", "1870.00")
    assert placed(api, "600519", "BUY", 100, "1600.1")["limit_price"] == "1600.10"  # on the tick


# --- fees ------------------------------------------------------------------------------------------


def test_buy_fill_pays_commission_and_transfer_fee_each_rounded_half_up(api, load_world):
    load_world(plain_world(prices={"000001": {"last": "10.05"}}))
    order = placed(api, "000001", "BUY", 10000, "10.05")

    value = Decimal("100500.00")  # 10000 × 10.05
    commission = Decimal("25.13")  # 100500.00 × 0.025% = 25.125 → half-up (half-even would give 25.12)
    transfer = Decimal("1.01")  # 100500.00 × 0.001% = 1.005 → half-up (half-even would give 1.00)
    assert [(f["qty"], f["price"], f["fee"]) for f in order["fills"]] == [(10000, "10.05", str(commission + transfer))]
    assert cash(api)["total"] == Decimal("1000000.00") - value - commission - transfer


def test_buy_freezes_the_limit_value_plus_the_fees_that_value_would_cost(api, load_world):
    load_world(plain_world(prices={"000001": {"last": "10.10"}}))
    order = placed(api, "000001", "BUY", 10000, "10.05")  # below the last: rests

    frozen = Decimal("100500.00") + Decimal("25.13") + Decimal("1.01")  # limit value + commission + transfer
    assert (order["state"], order["frozen_cash"]) == ("WORKING", str(frozen))
    assert cash(api) == {"available": Decimal("1000000.00") - frozen, "frozen": frozen,
                         "total": Decimal("1000000.00")}


def test_commission_is_at_least_5_yuan_per_order(api, load_world):
    load_world(plain_world(prices={"000001": {"last": "10.05"}}))
    resting = placed(api, "000001", "BUY", 100, "10.00")
    # 1000.00 + commission 0.25 → minimum 5.00 + transfer 0.01
    assert resting["frozen_cash"] == str(Decimal("1000.00") + Decimal("5.00") + Decimal("0.01"))

    filled = placed(api, "000001", "BUY", 100, "10.05")
    # 1005.00: commission 0.25125 → minimum 5.00; transfer 0.01005 → 0.01
    assert [(f["price"], f["fee"]) for f in filled["fills"]] == [("10.05", str(Decimal("5.00") + Decimal("0.01")))]


def test_sell_fill_adds_stamp_duty_rounded_half_up(api, load_world):
    load_world(plain_world(prices={"600036": {"last": "100.49"}},
                           positions=[{"symbol": "600036", "qty": 1000, "avg_cost": "100.00"}]))
    order = placed(api, "600036", "SELL", 1000, "100.49")

    value = Decimal("100490.00")  # 1000 × 100.49
    commission = Decimal("25.12")  # 25.1225
    transfer = Decimal("1.00")  # 1.0049
    stamp_duty = Decimal("50.25")  # 100490.00 × 0.05% = 50.245 → half-up (half-even would give 50.24)
    fee = commission + transfer + stamp_duty
    assert [(f["qty"], f["price"], f["fee"]) for f in order["fills"]] == [(1000, "100.49", str(fee))]
    assert cash(api)["total"] == Decimal("1000000.00") + value - fee
    assert position(api, "600036") is None


def test_partial_fills_pay_fees_on_their_value_and_use_up_exactly_the_frozen_cash(api, sim, load_world):
    load_world(plain_world(prices={"000001": {"last": "10.05"}}))
    order = placed(api, "000001", "BUY", 10000, "10.00")
    # 100000.00 + commission 25.00 + transfer 1.00
    assert order["frozen_cash"] == "100026.00"

    move_price(sim, "000001", "10.00", volume=4000)
    first = get_order(api, order["order_id"])
    # 40000.00: commission 10.00, transfer 0.40; still frozen 100026.00 - 40010.40
    assert [(f["qty"], f["fee"]) for f in first["fills"]] == [(4000, "10.40")]
    assert (first["state"], first["remaining_qty"], first["frozen_cash"]) == ("WORKING", 6000, "60015.60")

    move_price(sim, "000001", "10.00")
    done = get_order(api, order["order_id"])
    # 60000.00: commission 15.00, transfer 0.60
    assert [(f["qty"], f["price"], f["fee"]) for f in done["fills"]] == [(4000, "10.00", "10.40"),
                                                                        (6000, "10.00", "15.60")]
    assert (done["state"], done["frozen_cash"], done["avg_fill_price"]) == ("FILLED", "0.00", "10.00")
    assert cash(api) == {"available": Decimal("899974.00"), "frozen": Decimal("0.00"), "total": Decimal("899974.00")}


def test_commission_minimum_is_charged_once_per_order_across_its_fills(api, sim, load_world):
    # docs/api.md: "the commission minimum applies once per order, to its first fill". The broker reads it as:
    # an order's fees are the fees of its whole traded value, the first fill carrying the minimum.
    load_world(plain_world(prices={"000001": {"last": "10.05"}}))
    order = placed(api, "000001", "BUY", 1000, "10.00")
    assert order["frozen_cash"] == "10005.10"  # 10000.00 + commission 2.50 → 5.00 + transfer 0.10

    move_price(sim, "000001", "10.00", volume=300)
    move_price(sim, "000001", "10.00")
    done = get_order(api, order["order_id"])

    # first 3000.00: commission 0.75 → minimum 5.00 + transfer 0.03 = 5.03; the order's 10000.00 costs
    # 5.00 + 0.10 = 5.10 in all, so the second fill adds 0.07
    assert [(f["qty"], f["fee"]) for f in done["fills"]] == [(300, "5.03"), (700, "0.07")]
    assert cash(api)["total"] == Decimal("989994.90")  # 1000000.00 - 10005.10: exactly what was frozen


# --- matching --------------------------------------------------------------------------------------


def test_resting_buy_fills_at_its_own_limit_when_the_price_reaches_it(api, sim, load_world):
    refs = load_world()  # A: BUY 600519 100 @ 1650.00, last 1690.00

    assert move_price(sim, "600519", "1660.00")["filled"] == []
    assert get_order(api, refs["A"])["state"] == "WORKING"
    moved = move_price(sim, "600519", "1640.00")  # through the limit

    assert moved["filled"] == [refs["A"]]
    assert moved["quote"]["last"] == "1640.00"
    filled = get_order(api, refs["A"])
    # at its limit 1650.00, not at 1640.00: 165000.00 + commission 41.25 + transfer 1.65
    assert [(f["qty"], f["price"], f["fee"]) for f in filled["fills"]] == [(100, "1650.00", "42.90")]
    assert (filled["state"], filled["frozen_cash"]) == ("FILLED", "0.00")
    assert cash(api) == {"available": Decimal("834957.10"), "frozen": Decimal("0.00"), "total": Decimal("834957.10")}
    held = position(api, "600519")
    assert (held["qty"], held["qty_unsettled"], held["qty_sellable"]) == (300, 100, 200)


def test_price_move_with_a_volume_fills_a_resting_sell_in_part(api, sim, load_world):
    refs = load_world()  # B: SELL 000001 500 @ 10.80, 200 filled

    move_price(sim, "000001", "10.80", volume=100)
    partly = get_order(api, refs["B"])
    assert (partly["state"], partly["filled_qty"], partly["remaining_qty"]) == ("WORKING", 300, 200)
    assert [(f["qty"], f["price"]) for f in partly["fills"]][-1] == (100, "10.80")
    assert position(api, "000001")["qty_locked_sell"] == 200

    move_price(sim, "000001", "10.90")
    done = get_order(api, refs["B"])
    assert (done["state"], done["filled_qty"], done["remaining_qty"]) == ("FILLED", 500, 0)
    assert [f["price"] for f in done["fills"]] == ["10.80", "10.80", "10.80"]


def test_market_order_fills_at_once_at_the_last_price(api, load_world):
    load_world()
    bought = placed(api, "000001", "BUY", 100)
    # 100 × 10.50 = 1050.00: commission 0.2625 → minimum 5.00; transfer 0.0105 → 0.01
    assert (bought["type"], bought["limit_price"], bought["state"]) == ("MARKET", None, "FILLED")
    assert [(f["qty"], f["price"], f["fee"]) for f in bought["fills"]] == [(100, "10.50", "5.01")]
    sold = placed(api, "600519", "SELL", 100)
    assert (sold["state"], sold["avg_fill_price"]) == ("FILLED", "1690.00")


def test_price_moves_outside_continuous_trading_fill_nothing(api, sim, load_world):
    refs = load_world(world(now="2026-11-24T12:00:00+08:00"))
    assert move_price(sim, "600519", "1640.00")["filled"] == []
    assert get_order(api, refs["A"])["state"] == "WORKING"


# --- sessions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("entered", "later", "opening"), [
    ("2026-11-24T08:30:00+08:00", "2026-11-24T09:16:00+08:00", "2026-11-24T09:15:00+08:00"),  # pre-open
    ("2026-11-24T09:26:00+08:00", "2026-11-24T09:31:00+08:00", "2026-11-24T09:30:00+08:00"),  # 9:25-9:30
    ("2026-11-24T12:00:00+08:00", "2026-11-24T13:05:00+08:00", "2026-11-24T13:00:00+08:00"),  # lunch
    ("2026-11-24T15:30:00+08:00", "2026-11-25T09:20:00+08:00", "2026-11-25T09:15:00+08:00"),  # after the close
    ("2026-11-28T10:00:00+08:00", "2026-11-30T09:20:00+08:00", "2026-11-30T09:15:00+08:00"),  # Saturday
    ("2026-10-01T10:00:00+08:00", "2026-10-08T09:20:00+08:00", "2026-10-08T09:15:00+08:00"),  # holiday
])
def test_order_entered_when_the_exchange_takes_none_is_new_and_works_from_the_next_opening(
        api, sim, load_world, entered, later, opening):
    load_world(plain_world(entered))
    order = placed(api, "600519", "BUY", 100, "1650.00")
    assert (order["state"], order["frozen_cash"], states(order)) == ("NEW", "165042.90", ["NEW"])
    assert cash(api)["frozen"] == Decimal("165042.90")  # a NEW BUY holds its cash too

    set_clock(sim, later)

    working = get_order(api, order["order_id"])
    assert states(working) == ["NEW", "WORKING"]
    assert same_time(working["state_history"][-1]["ts"], opening)


def test_marketable_order_waiting_for_the_open_fills_when_continuous_trading_starts(api, sim, load_world):
    load_world(plain_world("2026-11-24T08:30:00+08:00"))
    order = placed(api, "600519", "BUY", 100, "1700.00")  # above the last 1690.00

    set_clock(sim, "2026-11-24T09:20:00+08:00")
    assert get_order(api, order["order_id"])["state"] == "WORKING"  # the auction matches nothing here
    set_clock(sim, "2026-11-24T09:31:00+08:00")

    filled = get_order(api, order["order_id"])
    assert filled["state"] == "FILLED"
    assert [(f["qty"], f["price"]) for f in filled["fills"]] == [(100, "1690.00")]
    assert same_time(filled["fills"][0]["ts"], "2026-11-24T09:30:00+08:00")


def test_order_entered_in_the_opening_auction_works_at_once_but_fills_only_from_9_30(api, sim, load_world):
    load_world(plain_world("2026-11-24T09:16:00+08:00"))
    order = placed(api, "600519", "BUY", 100, "1700.00")
    assert (order["state"], order["fills"]) == ("WORKING", [])

    set_clock(sim, "2026-11-24T09:31:00+08:00")
    assert get_order(api, order["order_id"])["state"] == "FILLED"


def test_crossing_15_00_expires_open_orders_and_releases_their_cash_and_shares(api, sim, load_world):
    refs = load_world()
    status = set_clock(sim, "2026-11-24T15:05:00+08:00")
    assert status["phase"] == "CLOSED"

    bought, sold = get_order(api, refs["A"]), get_order(api, refs["B"])
    assert (bought["state"], bought["frozen_cash"], bought["cancelled_qty"]) == ("EXPIRED", "0.00", 100)
    assert (sold["state"], sold["filled_qty"], sold["cancelled_qty"], sold["remaining_qty"]) == (
        "EXPIRED", 200, 300, 0)
    for order in (bought, sold):
        assert states(order)[-1] == "EXPIRED"
        assert same_time(order["state_history"][-1]["ts"], "2026-11-24T15:00:00+08:00")
    assert get_order(api, refs["C"])["state"] == "FILLED"
    assert cash(api) == {"available": Decimal("1000000.00"), "frozen": Decimal("0.00"), "total": Decimal("1000000.00")}
    held = position(api, "000001")
    assert (held["qty_locked_sell"], held["qty_sellable"], held["qty_unsettled"]) == (0, 500, 500)
    expect_error(api.delete(f"/v1/orders/{refs['A']}"), 409, "ORDER_NOT_CANCELLABLE", "fix_input")


@pytest.mark.parametrize(("now", "side"), [
    ("2026-11-24T08:30:00+08:00", "BUY"),  # PRE_OPEN
    ("2026-11-24T09:16:00+08:00", "BUY"),  # OPENING_AUCTION
    ("2026-11-24T09:27:00+08:00", "SELL"),
    ("2026-11-24T12:00:00+08:00", "BUY"),  # LUNCH_BREAK
    ("2026-11-24T14:58:00+08:00", "SELL"),  # CLOSING_AUCTION
    ("2026-11-24T15:30:00+08:00", "BUY"),  # CLOSED
    ("2026-11-28T10:00:00+08:00", "BUY"),  # Saturday
])
def test_market_order_outside_continuous_trading_is_rejected(api, load_world, now, side):
    load_world(plain_world(now, positions=[{"symbol": "600519", "qty": 100, "avg_cost": "1700.00"}]))
    order = placed(api, "600519", side, 100)

    assert (order["state"], order["fills"], order["frozen_cash"]) == ("REJECTED", [], "0.00")
    assert order["reject_reason"]
    assert (order["filled_qty"], order["remaining_qty"]) == (0, 0)
    assert states(order) == ["NEW", "REJECTED"]
    assert cash(api) == {"available": Decimal("1000000.00"), "frozen": Decimal("0.00"), "total": Decimal("1000000.00")}
    assert position(api, "600519")["qty_sellable"] == 100
    assert TIMESTAMP.match(order["updated_at"])
