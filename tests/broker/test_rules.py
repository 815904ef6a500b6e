"""The market rules as pure functions, with no HTTP: fees, the daily price band and the session calendar.

Every expected value is worked out by hand from the rules as `docs/api.md` states them (commission 0.025% with a
5.00 minimum per order, transfer fee 0.001%, stamp duty 0.05% on sells; bands rounded half-up to the tick; no
cancels 9:20-9:30 and 14:57-15:00, Beijing time).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from scripts.broker.reference import InstrumentInfo
from scripts.broker.rules import (
    FeeSchedule,
    cancel_reopens_at,
    exchange_takes_orders,
    is_on_tick,
    phase_at,
    price_band,
    price_limit_pct,
    session_events,
    trading_day_of,
)
from scripts.models import SHANGHAI

FEES = FeeSchedule()
TUESDAY = date(2026, 11, 24)  # a trading day
SATURDAY = date(2026, 11, 28)


def beijing(day: date, clock: str) -> datetime:
    hour, minute = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


# --- fees ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("side", "value", "fees"), [
    ("BUY", "180000.00", "46.80"),  # commission 45.00 + transfer 1.80
    ("SELL", "180000.00", "136.80"),  # + stamp duty 90.00
    ("BUY", "10000.00", "5.10"),  # commission 2.50 lifted to the 5.00 minimum + transfer 0.10
    ("SELL", "10000.00", "10.10"),  # 5.00 + 0.10 + stamp duty 5.00
    ("BUY", "0", "0.00"),
])
def test_order_fees_by_side_with_the_commission_minimum(side: str, value: str, fees: str) -> None:
    assert FEES.order_fees(side, Decimal(value)) == Decimal(fees)  # type: ignore[arg-type]


def test_the_commission_minimum_is_paid_once_per_order_with_its_first_fill() -> None:
    first = FEES.fill_fee("BUY", Decimal("0"), Decimal("10000.00"))
    second = FEES.fill_fee("BUY", Decimal("10000.00"), Decimal("10000.00"))
    assert (first, second) == (Decimal("5.10"), Decimal("0.10"))  # 20,000 costs 5.00 + 0.20 in all


def test_a_buy_freezes_its_value_plus_its_fees() -> None:
    assert FEES.buy_freeze(Decimal("1800.00"), 100) == Decimal("180046.80")


# --- the daily band -------------------------------------------------------------------------------


@pytest.mark.parametrize(("prev_close", "pct", "band"), [
    ("10.00", 10, ("9.00", "11.00")),
    ("11.11", 10, ("10.00", "12.22")),  # 9.999 and 12.221, half-up to the tick
    ("10.05", 20, ("8.04", "12.06")),
    ("3.33", 5, ("3.16", "3.50")),  # 3.1635 and 3.4965
    ("0.01", 10, ("0.01", "0.01")),  # never below one tick
])
def test_the_band_is_the_previous_close_plus_and_minus_its_percentage(prev_close: str, pct: int,
                                                                       band: tuple[str, str]) -> None:
    assert price_band(Decimal(prev_close), pct) == (Decimal(band[0]), Decimal(band[1]))


@pytest.mark.parametrize(("symbol", "name", "board", "day", "pct"), [
    ("600519", "贵州茅台", "MAIN", TUESDAY, 10),
    ("300750", "宁德时代", "CHINEXT", TUESDAY, 20),
    ("688981", "中芯国际", "STAR", TUESDAY, 20),
    ("830799", "艾融软件", "BSE", TUESDAY, 30),
    ("600000", "*ST示例", "MAIN", date(2026, 7, 3), 5),  # before the 2026 revision
    ("600000", "*ST示例", "MAIN", TUESDAY, 10),
])
def test_the_band_percentage_by_board_and_risk_warning(symbol: str, name: str, board: str, day: date,
                                                       pct: int) -> None:
    exchange = "SZ" if board == "CHINEXT" else "BJ" if board == "BSE" else "SH"
    assert price_limit_pct(InstrumentInfo(symbol, name, exchange, board), day) == pct  # type: ignore[arg-type]


def test_a_price_is_on_the_tick_only_in_whole_cents() -> None:
    assert is_on_tick(Decimal("1800.01"))
    assert not is_on_tick(Decimal("1800.005"))


# --- the session calendar -------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "clock", "phase"), [
    (TUESDAY, "09:00", "PRE_OPEN"),
    (TUESDAY, "09:15", "OPENING_AUCTION"),
    (TUESDAY, "09:29", "OPENING_AUCTION"),
    (TUESDAY, "09:30", "CONTINUOUS"),
    (TUESDAY, "11:30", "LUNCH_BREAK"),
    (TUESDAY, "13:00", "CONTINUOUS"),
    (TUESDAY, "14:57", "CLOSING_AUCTION"),
    (TUESDAY, "15:00", "CLOSED"),
    (SATURDAY, "10:00", "CLOSED"),
    (date(2026, 10, 1), "10:00", "CLOSED"),  # National Day
])
def test_the_phase_follows_the_clock_and_the_trading_calendar(day: date, clock: str, phase: str) -> None:
    assert phase_at(beijing(day, clock)) == phase


@pytest.mark.parametrize(("day", "clock", "reopens"), [
    (TUESDAY, "09:19", None),
    (TUESDAY, "09:20", "09:30"),
    (TUESDAY, "09:29", "09:30"),
    (TUESDAY, "12:10", None),
    (TUESDAY, "14:57", "15:00"),
    (TUESDAY, "14:59", "15:00"),
    (SATURDAY, "09:25", None),
])
def test_the_no_cancel_windows(day: date, clock: str, reopens: str | None) -> None:
    expected = None if reopens is None else beijing(day, reopens)
    assert cancel_reopens_at(beijing(day, clock)) == expected


def test_orders_reach_the_exchange_except_in_the_last_minutes_of_the_opening_auction() -> None:
    assert exchange_takes_orders(beijing(TUESDAY, "09:24"))
    assert not exchange_takes_orders(beijing(TUESDAY, "09:26"))
    assert not exchange_takes_orders(beijing(TUESDAY, "12:00"))
    assert exchange_takes_orders(beijing(TUESDAY, "14:58"))


def test_the_trading_day_in_force_skips_weekends() -> None:
    assert trading_day_of(beijing(SATURDAY, "10:00")) == date(2026, 11, 30)
    assert trading_day_of(beijing(TUESDAY, "20:00")) == TUESDAY


def test_a_trading_day_has_four_session_events_in_order() -> None:
    events = session_events(beijing(TUESDAY, "00:00"), beijing(TUESDAY, "23:59"))
    assert [(event.moment.strftime("%H:%M"), event.kind) for event in events] == [
        ("09:15", "open"), ("09:30", "continuous"), ("13:00", "continuous"), ("15:00", "close")]
    assert session_events(beijing(SATURDAY, "00:00"), beijing(SATURDAY, "23:59")) == []
