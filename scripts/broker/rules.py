"""The A-share market rules the paper broker enforces, each in one place: lots, ticks, bands, fees, sessions.

Sources: SSE/SZSE/BSE trading rules as revised for 2026 (in force 2026-07-06); the CSRC/exchange fee
notices of 2022-2023 (transfer fee 0.001%, stamp duty 0.05% on sells since 2023-08-28).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from ..models import CENT, SHANGHAI, Board, Lot, Phase, Side, to_money
from .reference import InstrumentInfo, is_trading_day

# --- lots ------------------------------------------------------------------------------------------

# BUY lots by board: main boards and ChiNext trade in round lots of 100; STAR from 200 and BSE from 100,
# each then in steps of 1 share.
LOTS: dict[Board, Lot] = {
    "MAIN": Lot(min=100, step=100),
    "CHINEXT": Lot(min=100, step=100),
    "STAR": Lot(min=200, step=1),
    "BSE": Lot(min=100, step=1),
}
# Largest quantity of one limit order, by board.
MAX_ORDER_QTY: dict[Board, int] = {
    "MAIN": 1_000_000,
    "CHINEXT": 300_000,
    "STAR": 100_000,
    "BSE": 1_000_000,
}


def quantity_problem(board: Board, side: Side, qty: int, sellable: int) -> str | None:
    """Why `qty` is not a valid order quantity (None when it is).

    A SELL may be an odd lot only when it clears everything that is sellable in the position.
    """
    lot = LOTS[board]
    limit = MAX_ORDER_QTY[board]
    if qty > limit:
        return f"at most {limit} shares per order on this board"
    if side == "SELL" and qty == sellable:
        return None
    if qty < lot.min or (qty - lot.min) % lot.step:
        if lot.step == lot.min:
            return f"quantity must be a multiple of {lot.step}"
        return f"quantity must be at least {lot.min}"
    return None


# --- ticks and the daily band ----------------------------------------------------------------------

TICK = CENT
# The ST band narrowed to 5% on the main boards until the 2026 rule revision took effect.
RISK_WARNING_BAND_CHANGE = date(2026, 7, 6)


def price_limit_pct(instrument: InstrumentInfo, day: date) -> int:
    if instrument.board in ("CHINEXT", "STAR"):
        return 20
    if instrument.board == "BSE":
        return 30
    if instrument.is_risk_warning and day < RISK_WARNING_BAND_CHANGE:
        return 5
    return 10


def price_band(prev_close: Decimal, pct: int) -> tuple[Decimal, Decimal]:
    """Limit-down and limit-up from the previous close, each rounded half-up to the tick."""
    ratio = Decimal(pct) / 100
    down = (prev_close * (1 - ratio)).quantize(TICK, rounding=ROUND_HALF_UP)
    up = (prev_close * (1 + ratio)).quantize(TICK, rounding=ROUND_HALF_UP)
    return max(down, TICK), up


def is_on_tick(price: Decimal) -> bool:
    return price == price.quantize(TICK)


# --- fees ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Fees per trade; each component is rounded half-up to 0.01 on its own."""

    commission_rate: Decimal = Decimal("0.00025")  # broker commission, both sides (a typical retail rate)
    commission_min: Decimal = Decimal("5.00")  # per order, charged with its first fill
    transfer_rate: Decimal = Decimal("0.00001")  # 过户费 0.001%, both sides, since 2022-04-29
    stamp_duty_rate: Decimal = Decimal("0.0005")  # 印花税 0.05%, sell side only, since 2023-08-28

    def order_fees(self, side: Side, value: Decimal) -> Decimal:
        """What an order's whole traded value costs in fees, the commission minimum included."""
        if value <= 0:
            return Decimal("0.00")
        commission = max(to_money(value * self.commission_rate), self.commission_min)
        fees = commission + to_money(value * self.transfer_rate)
        if side == "SELL":
            fees += to_money(value * self.stamp_duty_rate)
        return fees

    def fill_fee(self, side: Side, value_before: Decimal, fill_value: Decimal) -> Decimal:
        """The fee of one fill: the order's fees after it minus its fees before.

        The first fill carries the commission minimum; an order as a whole never pays more than one
        minimum, so what a BUY froze for fees always covers its fills.
        """
        return self.order_fees(side, value_before + fill_value) - self.order_fees(side, value_before)

    def buy_freeze(self, price: Decimal, qty: int) -> Decimal:
        """Cash a BUY holds: its value at `price` plus the fees that value would cost."""
        value = price * qty
        return to_money(value) + self.order_fees("BUY", value)


# --- sessions (Beijing time) -----------------------------------------------------------------------

OPENING_AUCTION_START = time(9, 15)
OPENING_CANCEL_END = time(9, 20)  # the exchanges take no cancels 9:20-9:30
OPENING_ORDERS_END = time(9, 25)  # 9:25-9:30: matched, nothing accepted
MORNING_START = time(9, 30)
MORNING_END = time(11, 30)
AFTERNOON_START = time(13, 0)
CLOSING_AUCTION_START = time(14, 57)  # no cancels 14:57-15:00
CLOSE = time(15, 0)


def trading_day_of(moment: datetime) -> date:
    """The trading day in force: today if the exchanges trade today, else the next day they do."""
    day = moment.astimezone(SHANGHAI).date()
    while not is_trading_day(day):
        day += timedelta(days=1)
    return day


def at(day: date, clock_time: time) -> datetime:
    return datetime.combine(day, clock_time, tzinfo=SHANGHAI)


def phase_at(moment: datetime) -> Phase:
    local = moment.astimezone(SHANGHAI)
    if not is_trading_day(local.date()):
        return "CLOSED"
    now = local.time()
    if now < OPENING_AUCTION_START:
        return "PRE_OPEN"
    if now < MORNING_START:
        return "OPENING_AUCTION"
    if now < MORNING_END:
        return "CONTINUOUS"
    if now < AFTERNOON_START:
        return "LUNCH_BREAK"
    if now < CLOSING_AUCTION_START:
        return "CONTINUOUS"
    if now < CLOSE:
        return "CLOSING_AUCTION"
    return "CLOSED"


def exchange_takes_orders(moment: datetime) -> bool:
    """Whether an order entered now reaches the exchange at once (else it waits as NEW)."""
    phase = phase_at(moment)
    if phase == "OPENING_AUCTION":
        return moment.astimezone(SHANGHAI).time() < OPENING_ORDERS_END
    return phase in ("CONTINUOUS", "CLOSING_AUCTION")


def cancel_reopens_at(moment: datetime) -> datetime | None:
    """When a cancel becomes possible again if `moment` is in a no-cancel window, else None."""
    local = moment.astimezone(SHANGHAI)
    if not is_trading_day(local.date()):
        return None
    now = local.time()
    if OPENING_CANCEL_END <= now < MORNING_START:
        return at(local.date(), MORNING_START)
    if CLOSING_AUCTION_START <= now < CLOSE:
        # After the close the order has expired; the first moment the broker answers a cancel again.
        return at(local.date(), CLOSE)
    return None


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """A moment the market changes what it does to open orders."""

    moment: datetime
    kind: str  # "open": NEW orders go WORKING; "continuous": waiting orders may match; "close": expiry


def session_events(after: datetime, until: datetime) -> list[SessionEvent]:
    """The session events in (after, until], oldest first."""
    events: list[SessionEvent] = []
    day = after.astimezone(SHANGHAI).date()
    last_day = until.astimezone(SHANGHAI).date()
    while day <= last_day:
        if is_trading_day(day):
            for clock_time, kind in (
                (OPENING_AUCTION_START, "open"),
                (MORNING_START, "continuous"),
                (AFTERNOON_START, "continuous"),
                (CLOSE, "close"),
            ):
                moment = at(day, clock_time)
                if after < moment <= until:
                    events.append(SessionEvent(moment, kind))
        day += timedelta(days=1)
    return events
