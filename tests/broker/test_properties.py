"""Property-based tests of the paper broker's books: random sequences of operations over real HTTP.

A hypothesis state machine places orders (BUY/SELL, LIMIT/MARKET, valid and invalid quantities and
prices), moves prices (with and without `volume`), cancels one order or a batch, and moves the simulated
clock across lunch, the close and the next opening. After every step it reads the account and every
order back and checks the invariants of docs/api.md, and it checks each answer against a small model of the
market rules, written from docs/api.md (it borrows only the broker's trading calendar, which is data).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

import httpx
import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from scripts.broker import BrokerSettings, running_broker
from scripts.broker.reference import is_trading_day
from tests.conftest import TEST_TOKEN

SHANGHAI = timezone(timedelta(hours=8))
START = datetime(2026, 11, 24, 10, 30, tzinfo=SHANGHAI)  # a Tuesday, continuous trading
ACCOUNT = "acc_default"
TICK = Decimal("0.01")
ZERO = Decimal("0")
MONEY = re.compile(r"^\d+\.\d{2}$")
SIGNED_MONEY = re.compile(r"^-?\d+\.\d{2}$")
OPEN = ("NEW", "WORKING")
UNKNOWN_ORDER_ID = "ord_accdefault_zz99zz99"


@dataclass(frozen=True)
class Board:
    """Lot, size limit and daily band of a board, as docs/api.md states them."""

    lot_min: int
    lot_step: int
    max_qty: int
    band_pct: int


MAIN = Board(100, 100, 1_000_000, 10)
STAR = Board(200, 1, 100_000, 20)
CHINEXT = Board(100, 100, 300_000, 20)
BOARDS = {"600519": MAIN, "000001": MAIN, "688981": STAR, "300750": CHINEXT}
SYMBOLS = sorted(BOARDS)

WORLD: dict[str, Any] = {
    "now": START.isoformat(),
    "account": {
        "cash": "800000.00",
        "positions": [
            {"symbol": "600519", "qty": 300, "avg_cost": "1600.00"},
            {"symbol": "000001", "qty": 5000, "avg_cost": "10.20", "unsettled": 1000},
            {"symbol": "688981", "qty": 1250, "avg_cost": "80.00"},
            {"symbol": "300750", "qty": 700, "avg_cost": "230.00", "unsettled": 200},
        ],
    },
    "prices": {
        "600519": {"last": "1690.00", "prev_close": "1700.00"},
        "000001": {"last": "10.50", "prev_close": "10.40"},
        "688981": {"last": "90.00", "prev_close": "88.00"},
        "300750": {"last": "250.00", "prev_close": "255.00"},
    },
    "orders": [
        {"ref": "buy_resting", "symbol": "000001", "side": "BUY", "qty": 2000, "limit_price": "10.30",
         "at": "10:05:00"},
        {"ref": "sell_partly", "symbol": "688981", "side": "SELL", "qty": 600, "limit_price": "92.00",
         "at": "10:10:00", "filled": 150},
        {"ref": "buy_partly", "symbol": "300750", "side": "BUY", "qty": 300, "limit_price": "248.00",
         "at": "10:12:00", "filled": 100},
        {"ref": "filled", "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1680.00",
         "at": "09:45:00", "state": "FILLED"},
    ],
}

# --- the market rules of docs/api.md, written out independently of the broker ---------------------------------


def money(value: Decimal) -> Decimal:
    return value.quantize(TICK, rounding=ROUND_HALF_UP)


def order_fees(side: str, value: Decimal) -> Decimal:
    """Commission 0.025% (5.00 minimum per order), transfer fee 0.001%, stamp duty 0.05% on sells."""
    if value <= 0:
        return ZERO
    fees = max(money(value * Decimal("0.00025")), Decimal("5.00")) + money(value * Decimal("0.00001"))
    if side == "SELL":
        fees += money(value * Decimal("0.0005"))
    return fees


def buy_freeze(price: Decimal, qty: int) -> Decimal:
    return money(price * qty) + order_fees("BUY", price * qty)


def band(prev_close: Decimal, pct: int) -> tuple[Decimal, Decimal]:
    ratio = Decimal(pct) / 100
    return max(money(prev_close * (1 - ratio)), TICK), money(prev_close * (1 + ratio))


def phase_at(moment: datetime) -> str:
    if not is_trading_day(moment.date()):
        return "CLOSED"
    now = moment.time()
    for end, phase in ((time(9, 15), "PRE_OPEN"), (time(9, 30), "OPENING_AUCTION"), (time(11, 30), "CONTINUOUS"),
                       (time(13, 0), "LUNCH_BREAK"), (time(14, 57), "CONTINUOUS"), (time(15, 0), "CLOSING_AUCTION")):
        if now < end:
            return phase
    return "CLOSED"


def exchange_takes_orders(moment: datetime) -> bool:
    phase = phase_at(moment)
    return phase in ("CONTINUOUS", "CLOSING_AUCTION") or (phase == "OPENING_AUCTION" and moment.time() < time(9, 25))


def cancels_blocked(moment: datetime) -> bool:
    if not is_trading_day(moment.date()):
        return False
    return time(9, 20) <= moment.time() < time(9, 30) or time(14, 57) <= moment.time() < time(15, 0)


def trading_day_of(moment: datetime) -> date:
    day = moment.date()
    while not is_trading_day(day):
        day += timedelta(days=1)
    return day


def session_events(after: datetime, until: datetime) -> list[tuple[datetime, str]]:
    """Openings (9:15), starts of continuous trading (9:30, 13:00) and closes (15:00) in (after, until]."""
    events = []
    day = after.date()
    while day <= until.date():
        if is_trading_day(day):
            for clock_time, kind in ((time(9, 15), "open"), (time(9, 30), "continuous"),
                                     (time(13, 0), "continuous"), (time(15, 0), "close")):
                moment = datetime.combine(day, clock_time, tzinfo=SHANGHAI)
                if after < moment <= until:
                    events.append((moment, kind))
        day += timedelta(days=1)
    return events


def marketable(side: str, limit: Decimal | None, last: Decimal) -> bool:
    if limit is None:
        return True
    return limit >= last if side == "BUY" else limit <= last


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- the model ---------------------------------------------------------------------------------------------


@dataclass
class ModelOrder:
    order_id: str
    seq: int
    symbol: str
    side: str
    type: str
    qty: int
    limit: Decimal | None
    created: datetime
    state: str = "NEW"
    filled: int = 0
    cancelled: int = 0
    awaiting_match: bool = False  # reached the exchange outside continuous trading: matches when it starts
    fills: list[tuple[int, Decimal, datetime]] = field(default_factory=list)
    history: list[tuple[str, datetime]] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN

    @property
    def remaining(self) -> int:
        return self.qty - self.filled - self.cancelled if self.is_open else 0

    def move_to(self, state: str, moment: datetime) -> None:
        self.state = state
        self.history.append((state, moment))

    def close(self, state: str, moment: datetime) -> None:
        self.cancelled += self.qty - self.filled - self.cancelled
        self.awaiting_match = False
        self.move_to(state, moment)


@dataclass
class Snapshot:
    account: dict[str, Any]
    orders: list[dict[str, Any]]
    status: dict[str, Any]

    @property
    def by_id(self) -> dict[str, dict[str, Any]]:
        return {order["order_id"]: order for order in self.orders}

    def comparable(self) -> tuple[Any, ...]:
        return self.account, self.orders, self.status


def is_valid_quantity(board: Board, side: str, qty: int, sellable: int) -> bool:
    """docs/api.md: round lots on the main boards and ChiNext, STAR from 200 in steps of 1; a SELL may be an
    odd lot when it clears what can be sold."""
    if qty > board.max_qty:
        return False
    if side == "SELL" and qty == sellable:
        return True
    return qty >= board.lot_min and (qty - board.lot_min) % board.lot_step == 0


# --- the state machine -------------------------------------------------------------------------------------

QTY_KINDS = ("lots", "lots", "lots", "lots", "lots", "odd", "all_sellable", "not_positive", "over_max")
PRICE_KINDS = ("below", "below", "above", "at_last", "limit_up", "limit_down", "off_tick", "over_band",
               "under_band")
MOVE_KINDS = ("to_open_order", "to_open_order", "to_open_order", "to_open_order", "bps_up", "bps_down",
              "limit_up", "limit_down", "off_tick", "over_band")
# Small steps (in seconds) and the next occurrence of a time of day: pre-open, the opening auction (cancels
# allowed, then not, then no orders), continuous trading, lunch, the closing auction, after the close.
CLOCK_TARGETS = ("+47", "+313", "+313", "+1799", "+1799", "+5399", "09:10", "09:16", "09:16", "09:22", "09:27",
                 "09:45", "11:45", "13:10", "14:58", "15:01")


class BrokerBooks(RuleBasedStateMachine):
    """Random operations against one broker; every answer is checked, then the whole state is."""

    url: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self.api = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {TEST_TOKEN}"}, timeout=30)
        self.sim = httpx.Client(base_url=self.url, timeout=30)
        response = self.sim.post("/v1/sim/reset", json=WORLD)
        assert response.status_code == 200, response.text
        self.now = START
        self.last = {symbol: Decimal(p["last"]) for symbol, p in WORLD["prices"].items()}
        self.prev_close = {symbol: Decimal(p["prev_close"]) for symbol, p in WORLD["prices"].items()}
        self.held = {p["symbol"]: p["qty"] for p in WORLD["account"]["positions"]}
        start_day = trading_day_of(START)
        self.unsettled = {p["symbol"]: (p.get("unsettled", 0), start_day) for p in WORLD["account"]["positions"]}
        self.initial_total = Decimal(WORLD["account"]["cash"])
        self.snapshot = self.read_snapshot()
        # Seeded fills are history: they moved neither cash nor shares (docs/api.md, /v1/sim/reset).
        self.seeded_fills = {f["fill_id"] for order in self.snapshot.orders for f in order["fills"]}
        self.orders: dict[str, ModelOrder] = {}
        seeded = self.snapshot.by_id
        for seq, order_id in enumerate(response.json()["orders"].values()):
            order = seeded[order_id]
            model = ModelOrder(order["order_id"], seq, order["symbol"], order["side"], order["type"], order["qty"],
                               Decimal(order["limit_price"]), ts(order["created_at"]), order["state"],
                               order["filled_qty"], order["cancelled_qty"])
            model.fills = [(f["qty"], Decimal(f["price"]), ts(f["ts"])) for f in order["fills"]]
            model.history = [(h["state"], ts(h["ts"])) for h in order["state_history"]]
            self.orders[model.order_id] = model
        self.check_everything(self.snapshot)

    def teardown(self) -> None:
        self.api.close()
        self.sim.close()

    # --- reading and checking ------------------------------------------------------------------------------

    def read_snapshot(self) -> Snapshot:
        account = self.api.get(f"/v1/accounts/{ACCOUNT}")
        orders = self.api.get(f"/v1/accounts/{ACCOUNT}/orders", params={"limit": 500})
        status = self.api.get("/v1/market/status")
        for response in (account, orders, status):
            assert response.status_code == 200, response.text
        assert orders.json()["next_cursor"] is None
        return Snapshot(account.json(), orders.json()["orders"], status.json())

    def step_done(self, *, changed: bool = True) -> None:
        """Read the whole state back and check it; a refused request must have changed nothing at all."""
        before = self.snapshot
        self.snapshot = self.read_snapshot()
        if not changed:
            assert self.snapshot.comparable() == before.comparable(), "a refused request changed the state"
        self.check_everything(self.snapshot)

    def check_everything(self, snap: Snapshot) -> None:
        self.check_figures(snap)
        self.check_cash(snap)
        self.check_orders(snap)
        self.check_positions(snap)
        self.check_against_model(snap)

    def check_figures(self, snap: Snapshot) -> None:
        """No negative figure anywhere (a P&L may be negative, nothing else); money has two places."""

        def walk(value: Any, key: str) -> None:
            if isinstance(value, dict):
                for name, item in value.items():
                    walk(item, name)
            elif isinstance(value, list):
                for item in value:
                    walk(item, key)
            elif isinstance(value, bool) or value is None:
                return
            elif isinstance(value, int):
                assert value >= 0, f"{key} is negative: {value}"
            elif isinstance(value, float):
                raise AssertionError(f"{key} is a binary float on the wire: {value}")
            elif isinstance(value, str) and re.match(r"^-?\d+\.\d+$", value):
                pattern = SIGNED_MONEY if key == "unrealized_pnl" else MONEY
                assert pattern.match(value), f"{key} is not a non-negative two-place decimal: {value}"

        walk(snap.account, "account")
        walk(snap.orders, "orders")

    def check_cash(self, snap: Snapshot) -> None:
        cash = {name: Decimal(value) for name, value in snap.account["cash"].items()}
        assert cash["total"] == cash["available"] + cash["frozen"], cash
        open_buys = [o for o in snap.orders if o["side"] == "BUY" and o["state"] in OPEN]
        assert cash["frozen"] == sum((Decimal(o["frozen_cash"]) for o in open_buys), ZERO), cash
        moved = ZERO
        for order in snap.orders:
            for fill in order["fills"]:
                if fill["fill_id"] in self.seeded_fills:
                    continue
                value = Decimal(fill["price"]) * fill["qty"]
                fee = Decimal(fill["fee"])
                moved += value - fee if order["side"] == "SELL" else -(value + fee)
        assert cash["total"] == self.initial_total + moved, (
            f"cash.total {cash['total']} moved by other than fills: expected {self.initial_total + moved}")

    def check_orders(self, snap: Snapshot) -> None:
        for order in snap.orders:
            oid = order["order_id"]
            assert order["qty"] == order["filled_qty"] + order["cancelled_qty"] + order["remaining_qty"], order
            assert order["filled_qty"] == sum(f["qty"] for f in order["fills"]), order
            frozen = Decimal(order["frozen_cash"])
            if order["state"] not in OPEN:
                assert order["remaining_qty"] == 0, f"{oid} is {order['state']} with shares still open"
                assert frozen == 0, f"{oid} is {order['state']} and still holds cash"
            if order["side"] == "SELL":
                assert frozen == 0, f"SELL {oid} holds cash"
            if order["state"] == "FILLED":
                assert order["filled_qty"] == order["qty"], order
            if order["state"] in ("CANCELLED", "EXPIRED", "REJECTED"):
                assert order["cancelled_qty"] == order["qty"] - order["filled_qty"], order
            if order["state"] in OPEN:
                assert order["cancelled_qty"] == 0, order
            # Fees: the commission minimum once per order, so the fees of the first k fills are the fees of
            # their summed value (and the first fill's fee is the fee of its own value).
            value, fees = ZERO, ZERO
            for fill in order["fills"]:
                value += Decimal(fill["price"]) * fill["qty"]
                fees += Decimal(fill["fee"])
                assert fees == order_fees(order["side"], value), f"{oid}: fees {fees} on a traded value {value}"
            if order["filled_qty"]:
                assert Decimal(order["avg_fill_price"]) == money(value / order["filled_qty"]), order
            else:
                assert order["avg_fill_price"] is None, order
            # An open BUY holds what it froze (its limit value plus fees) less what its fills have cost.
            if order["side"] == "BUY" and order["state"] in OPEN:
                spent = value + fees
                assert frozen == buy_freeze(Decimal(order["limit_price"]), order["qty"]) - spent, (
                    f"{oid} holds {frozen}")
            history = [h["state"] for h in order["state_history"]]
            assert (history[0], history[-1]) == ("NEW", order["state"]), f"{oid}: history {history}"

    def check_positions(self, snap: Snapshot) -> None:
        day = trading_day_of(self.now)
        locked: dict[str, int] = {}
        for order in snap.orders:
            if order["side"] == "SELL" and order["state"] in OPEN:
                locked[order["symbol"]] = locked.get(order["symbol"], 0) + order["remaining_qty"]
        positions = {p["symbol"]: p for p in snap.account["positions"]}
        assert set(positions) == {s for s, qty in self.held.items() if qty > 0}, (positions, self.held)
        assert set(locked) <= set(positions), f"shares locked for sale in no position: {locked}"
        market_value = ZERO
        for symbol, position in positions.items():
            assert position["qty"] == (position["qty_sellable"] + position["qty_locked_sell"]
                                       + position["qty_unsettled"]), position
            assert position["qty_locked_sell"] == locked.get(symbol, 0), (position, locked)
            assert position["qty"] == self.held[symbol], f"{symbol}: shares moved by other than fills"
            unsettled, bought_on = self.unsettled.get(symbol, (0, day))
            assert position["qty_unsettled"] == (unsettled if bought_on >= day else 0), (
                f"{symbol}: T+1 wrong on {day}: {position}")
            assert Decimal(position["last_price"]) == self.last[symbol], position
            assert Decimal(position["market_value"]) == money(self.last[symbol] * position["qty"]), position
            market_value += Decimal(position["market_value"])
        assert Decimal(snap.account["market_value"]) == market_value
        assert Decimal(snap.account["equity"]) == Decimal(snap.account["cash"]["total"]) + market_value

    def check_against_model(self, snap: Snapshot) -> None:
        assert ts(snap.status["now"]) == self.now
        assert snap.status["phase"] == phase_at(self.now), snap.status
        assert snap.status["trading_day"] == trading_day_of(self.now).isoformat(), snap.status
        newest_first = sorted(self.orders.values(), key=lambda o: (o.created, o.seq), reverse=True)
        assert [o["order_id"] for o in snap.orders] == [o.order_id for o in newest_first], "list order"
        for order in snap.orders:
            model = self.orders[order["order_id"]]
            actual = (order["state"], order["filled_qty"], order["cancelled_qty"], order["remaining_qty"])
            expected = (model.state, model.filled, model.cancelled, model.remaining)
            assert actual == expected, f"{model.order_id} ({model.side} {model.symbol}): {actual} != {expected}"
            fills = [(f["qty"], Decimal(f["price"]), ts(f["ts"])) for f in order["fills"]]
            assert fills == model.fills, f"{model.order_id}: fills {fills} != {model.fills}"
            history = [(h["state"], ts(h["ts"])) for h in order["state_history"]]
            assert history == model.history, f"{model.order_id}: history {history} != {model.history}"

    # --- the model's view ----------------------------------------------------------------------------------

    def band(self, symbol: str) -> tuple[Decimal, Decimal]:
        return band(self.prev_close[symbol], BOARDS[symbol].band_pct)

    def sellable(self, symbol: str) -> int:
        day = trading_day_of(self.now)
        unsettled, bought_on = self.unsettled.get(symbol, (0, day))
        locked = sum(o.remaining for o in self.orders.values() if o.side == "SELL" and o.symbol == symbol)
        return self.held.get(symbol, 0) - (unsettled if bought_on >= day else 0) - locked

    def fill(self, order: ModelOrder, qty: int, price: Decimal, moment: datetime) -> None:
        order.fills.append((qty, price, moment))
        order.filled += qty
        order.awaiting_match = False
        if order.side == "BUY":
            self.held[order.symbol] = self.held.get(order.symbol, 0) + qty
            day = moment.date()
            unsettled, bought_on = self.unsettled.get(order.symbol, (0, day))
            self.unsettled[order.symbol] = (unsettled + qty if bought_on >= day else qty, day)
        else:
            self.held[order.symbol] -= qty
        if order.filled == order.qty:
            order.move_to("FILLED", moment)

    def expected_refusal(self, symbol: str, side: str, qty: int, price: Decimal | None) -> str | None:
        """The code docs/api.md gives a new order that is refused, or None when it is accepted."""
        if qty <= 0 or (price is not None and price <= 0):
            return "VALIDATION_ERROR"
        sellable = self.sellable(symbol)
        if not is_valid_quantity(BOARDS[symbol], side, qty, sellable):
            return "INVALID_QUANTITY"
        limit_down, limit_up = self.band(symbol)
        if price is not None and (price != price.quantize(TICK) or not limit_down <= price <= limit_up):
            return "PRICE_OUT_OF_LIMIT"
        if side == "SELL":
            return "INSUFFICIENT_POSITION" if qty > sellable else None
        # A MARKET BUY holds cash as if it paid the limit-up price.
        required = buy_freeze(price if price is not None else limit_up, qty)
        available = Decimal(self.snapshot.account["cash"]["available"])
        return "INSUFFICIENT_CASH" if required > available else None

    def cancel_outcome(self, order_id: str) -> str | None:
        """The error code a cancel of `order_id` gets now, or None when it succeeds."""
        model = self.orders.get(order_id)
        if model is None:
            return "ORDER_NOT_FOUND"
        if not model.is_open:
            return "ORDER_NOT_CANCELLABLE"
        if cancels_blocked(self.now):
            return "CANCEL_NOT_ALLOWED_NOW"
        return None

    def check_cancel_answer(self, order_id: str, ok: bool, body: dict[str, Any], expected: str | None) -> None:
        """One cancel's answer (single or one batch item) against the model; applies it to the model."""
        if expected is not None:
            assert (ok, body["code"]) == (False, expected), f"cancel {order_id}: {body}, expected {expected}"
            if expected == "ORDER_NOT_CANCELLABLE":
                assert body["details"]["state"] == self.orders[order_id].state, body
            return
        assert ok, f"cancel {order_id} failed: {body}"
        before = self.snapshot.by_id[order_id]
        model = self.orders[order_id]
        assert body["state"] == "CANCELLED", body
        released = body["released"]
        if model.side == "BUY":
            assert released == {"cash": before["frozen_cash"], "qty": 0}, (released, before["frozen_cash"])
        else:
            assert released == {"cash": "0.00", "qty": before["remaining_qty"]}, (released, before)
        model.close("CANCELLED", self.now)
        assert (body["cancelled_qty"], body["filled_qty"]) == (model.cancelled, model.filled), body

    def pick_order(self, index: int, *, open_only: bool = False) -> str:
        """An order by index: any order, or an open one while there is one."""
        ids = [o.order_id for o in sorted(self.orders.values(), key=lambda o: o.seq)]
        open_ids = [oid for oid in ids if self.orders[oid].is_open]
        chosen = open_ids if open_only and open_ids else ids
        return chosen[index % len(chosen)]

    # --- rules ---------------------------------------------------------------------------------------------

    @rule(symbol=st.sampled_from(SYMBOLS), side=st.sampled_from(("BUY", "SELL")),
          order_type=st.sampled_from(("LIMIT", "LIMIT", "MARKET")), qty_kind=st.sampled_from(QTY_KINDS),
          n=st.integers(1, 12), price_kind=st.sampled_from(PRICE_KINDS), bps=st.integers(0, 600))
    def place(self, symbol: str, side: str, order_type: str, qty_kind: str, n: int, price_kind: str,
              bps: int) -> None:
        self.place_order(symbol, side, order_type, qty_kind, n, price_kind, bps)

    @rule(symbol=st.sampled_from(SYMBOLS), side=st.sampled_from(("BUY", "SELL")), n=st.integers(1, 4),
          bps=st.integers(0, 300))
    def place_resting_limit(self, symbol: str, side: str, n: int, bps: int) -> None:
        """A valid LIMIT order on the passive side of the last price, so the book has orders to fill."""
        self.place_order(symbol, side, "LIMIT", "lots", n, "below" if side == "BUY" else "above", bps)

    @rule(symbol=st.sampled_from(SYMBOLS), side=st.sampled_from(("BUY", "SELL")), n=st.integers(1, 3),
          bps=st.integers(0, 200))
    def place_marketable_limit(self, symbol: str, side: str, n: int, bps: int) -> None:
        """A valid LIMIT order that crosses the last price: it fills at once, or waits for continuous trading."""
        self.place_order(symbol, side, "LIMIT", "lots", n, "above" if side == "BUY" else "below", bps)

    def place_order(self, symbol: str, side: str, order_type: str, qty_kind: str, n: int, price_kind: str,
                    bps: int) -> None:
        board = BOARDS[symbol]
        qty = {
            "lots": board.lot_min + (n - 1) * (board.lot_step if board.lot_step > 1 else 53),
            "odd": (n - 1) * 100 + 50 if board.lot_step > 1 else 50 + n,
            "all_sellable": self.sellable(symbol),
            "not_positive": -100 * (n - 1),
            "over_max": board.max_qty + n,
        }[qty_kind]
        last = self.last[symbol]
        limit_down, limit_up = self.band(symbol)
        price: Decimal | None = None
        if order_type == "LIMIT":
            offset = money(last * bps / 10_000)
            price = {
                "below": last - offset, "above": last + offset, "at_last": last, "limit_up": limit_up,
                "limit_down": limit_down, "off_tick": last + Decimal("0.005"), "over_band": limit_up + TICK,
                "under_band": limit_down - TICK,
            }[price_kind]
        body: dict[str, Any] = {"account_id": ACCOUNT, "symbol": symbol, "side": side, "qty": qty,
                                "type": order_type}
        if price is not None:
            body["limit_price"] = str(price)
        expected = self.expected_refusal(symbol, side, qty, price)
        response = self.api.post("/v1/orders", json=body)
        event(f"place {order_type} {side}: {expected or 'accepted'}")
        if expected is not None:
            status = 409 if expected.startswith("INSUFFICIENT") else 422
            assert (response.status_code, response.json()["code"]) == (status, expected), (
                f"{body}: {response.text}, expected {expected}")
            self.step_done(changed=False)
            return
        assert response.status_code == 201, f"{body}: {response.text}"
        placed = response.json()
        model = ModelOrder(placed["order_id"], len(self.orders), symbol, side, order_type, qty, price, self.now)
        model.history.append(("NEW", self.now))
        self.orders[model.order_id] = model
        phase = phase_at(self.now)
        if order_type == "MARKET" and phase != "CONTINUOUS":
            model.close("REJECTED", self.now)
        elif exchange_takes_orders(self.now):
            model.move_to("WORKING", self.now)
            model.awaiting_match = phase != "CONTINUOUS"
            if phase == "CONTINUOUS" and marketable(side, price, last):
                self.fill(model, qty, last, self.now)
        event(f"placed in {phase}: {model.state}")
        assert (placed["state"], placed["filled_qty"]) == (model.state, model.filled), (placed, model)
        if side == "BUY" and model.state in OPEN:
            assert Decimal(placed["frozen_cash"]) == buy_freeze(price or limit_up, qty), placed
        self.step_done()

    @rule(symbol=st.sampled_from(SYMBOLS), kind=st.sampled_from(MOVE_KINDS), pick=st.integers(0, 1000),
          bps=st.integers(1, 500), volume=st.one_of(st.none(), st.integers(1, 400)))
    def move_price(self, symbol: str, kind: str, pick: int, bps: int, volume: int | None) -> None:
        open_limits = [o for o in self.orders.values() if o.is_open and o.limit is not None]
        if kind == "to_open_order" and open_limits:
            symbol = open_limits[pick % len(open_limits)].symbol
        last = self.last[symbol]
        limit_down, limit_up = self.band(symbol)
        resting = [o for o in open_limits if o.symbol == symbol]
        price = {
            "to_open_order": resting[pick % len(resting)].limit if resting else last,
            "bps_up": last + money(last * bps / 10_000), "bps_down": last - money(last * bps / 10_000),
            "limit_up": limit_up, "limit_down": limit_down, "off_tick": last + Decimal("0.005"),
            "over_band": limit_up + TICK,
        }[kind]
        assert price is not None
        body: dict[str, Any] = {"symbol": symbol, "price": str(price)}
        if volume is not None:
            body["volume"] = volume
        response = self.sim.post("/v1/sim/prices", json=body)
        if price != price.quantize(TICK) or not limit_down <= price <= limit_up:
            assert (response.status_code, response.json()["code"]) == (422, "PRICE_OUT_OF_LIMIT"), response.text
            event("price move refused")
            self.step_done(changed=False)
            return
        assert response.status_code == 200, response.text
        self.last[symbol] = price
        reached = []
        if phase_at(self.now) == "CONTINUOUS":
            for order in sorted(resting, key=lambda o: o.seq):
                if order.state == "WORKING" and marketable(order.side, order.limit, price):
                    assert order.limit is not None
                    reached.append(order.order_id)
                    self.fill(order, min(order.remaining, volume or order.remaining), order.limit, self.now)
        result = response.json()
        event(f"price move fills {min(len(reached), 2)}{'' if volume is None else ' with volume'}")
        assert sorted(result["filled"]) == sorted(reached), (result["filled"], reached)
        assert Decimal(result["quote"]["last"]) == price
        assert (Decimal(result["quote"]["limit_down"]), Decimal(result["quote"]["limit_up"])) == (limit_down, limit_up)
        self.step_done()

    @rule(pick=st.integers(0, 1000),
          which=st.sampled_from(("open", "open", "open", "any", "any", "unknown", "malformed")))
    def cancel_one(self, pick: int, which: str) -> None:
        order_id = {"open": self.pick_order(pick, open_only=True), "any": self.pick_order(pick),
                    "unknown": UNKNOWN_ORDER_ID, "malformed": "abc12345"}[which]
        expected = self.cancel_outcome(order_id)
        event(f"cancel: {expected or 'ok'}")
        response = self.api.delete(f"/v1/orders/{order_id}")
        status = {None: 200, "ORDER_NOT_FOUND": 404}.get(expected, 409)
        assert response.status_code == status, f"cancel {order_id}: {response.text}, expected {expected}"
        self.check_cancel_answer(order_id, response.status_code == 200, response.json(), expected)
        self.step_done(changed=expected is None)

    @rule(picks=st.lists(st.integers(0, 1000), min_size=1, max_size=6), open_only=st.booleans(),
          with_unknown=st.booleans())
    def cancel_batch(self, picks: list[int], open_only: bool, with_unknown: bool) -> None:
        ids = [self.pick_order(pick, open_only=open_only) for pick in picks]
        ids += [UNKNOWN_ORDER_ID] if with_unknown else []
        unique = list(dict.fromkeys(ids))
        response = self.api.delete(f"/v1/accounts/{ACCOUNT}/orders", params={"order_ids": ",".join(ids)})
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert [item["order_id"] for item in results] == unique, "one result per named order, in order"
        changed = False
        for item in results:
            expected = self.cancel_outcome(item["order_id"])
            event(f"batch cancel item: {expected or 'ok'}")
            body = item["order"] if item["ok"] else item["error"]
            self.check_cancel_answer(item["order_id"], item["ok"], body, expected)
            changed = changed or expected is None
        self.step_done(changed=changed)

    @rule(destination=st.sampled_from(CLOCK_TARGETS))
    def move_clock(self, destination: str) -> None:
        if destination.startswith("+"):
            moment = self.now + timedelta(seconds=int(destination[1:]))
        else:
            moment = datetime.combine(self.now.date(), time.fromisoformat(destination), tzinfo=SHANGHAI)
            if moment <= self.now:
                moment += timedelta(days=1)
        response = self.sim.post("/v1/sim/clock", json={"now": moment.isoformat()})
        assert response.status_code == 200, response.text
        for event_moment, kind in session_events(self.now, moment):
            event(f"clock crosses {kind}")
            self.apply_session_event(event_moment, kind)
        self.now = moment
        assert response.json()["phase"] == phase_at(moment), response.text
        self.step_done()

    def apply_session_event(self, moment: datetime, kind: str) -> None:
        earlier = [o for o in sorted(self.orders.values(), key=lambda o: o.seq) if o.is_open and o.created < moment]
        if kind == "close":
            for order in earlier:
                event("an order expires")
                order.close("EXPIRED", moment)
            self.prev_close = dict(self.last)  # today's last anchors tomorrow's band
            return
        for order in earlier:
            if order.state == "NEW":
                order.move_to("WORKING", moment)
                order.awaiting_match = True
        if kind == "continuous":
            for order in earlier:
                if order.awaiting_match:
                    last = self.last[order.symbol]
                    if marketable(order.side, order.limit, last):
                        event("a waiting order fills when continuous trading starts")
                        self.fill(order, order.remaining, last, moment)
                    order.awaiting_match = False


@pytest.fixture(scope="module")
def books_broker() -> Iterator[str]:
    with running_broker(BrokerSettings(sim=True, token=TEST_TOKEN)) as url:
        yield url


@pytest.mark.slow
def test_random_operation_sequences_keep_cash_shares_and_orders_consistent(books_broker: str) -> None:
    BrokerBooks.url = books_broker
    run_state_machine_as_test(BrokerBooks, settings=settings(
        max_examples=50, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
