"""The broker's operations: place, cancel, move a price, and let the market's sessions act on open orders.

Each operation is one serialized transaction on the store (`Store.transaction`: the lock, then
`BEGIN IMMEDIATE`), read and written inside it, so a cancel and a fill of the same order never
interleave: 20 concurrent cancels of one order give one success and 19 `ORDER_NOT_CANCELLABLE`.
Methods are called from FastAPI's worker threads, several at once.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..models import PlaceOrderRequest, to_money
from . import ledger, matching, rules
from .clock import MarketClock, format_ts, parse_ts
from .errors import BrokerError
from .reference import InstrumentInfo, instruments, normalize_symbol
from .store import OrderRow, Store

DEFAULT_PRICE = Decimal("10.00")  # for a symbol the world never priced
ORDER_ID = re.compile(r"^ord_[a-z0-9]{1,40}_[a-z0-9]{8}$")
MARKET_ORDERS_ONLY_CONTINUOUS = "market orders are accepted only during continuous trading"


def new_order_id(account_id: str) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    tail = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"ord_{account_id.replace('_', '')}_{tail}"


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    order: OrderRow
    released: ledger.ReleasedAmounts


@dataclass(frozen=True, slots=True)
class BatchItem:
    order_id: str
    outcome: CancelOutcome | None
    error: BrokerError | None


class Trading:
    """The paper broker's trading desk over one store and one clock."""

    def __init__(self, store: Store, clock: MarketClock, fees: rules.FeeSchedule | None = None) -> None:
        self.store = store
        self.clock = clock
        self.fees = fees or rules.FeeSchedule()
        stored = store.get_meta("processed_until")
        self._processed_until = parse_ts(stored) if stored else clock.now()

    # --- time --------------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def trading_day(self) -> str:
        return rules.trading_day_of(self.now()).isoformat()

    def clock_state(self) -> tuple[str, datetime | None, datetime]:
        return self.clock.mode, self.clock.pinned, self._processed_until

    def restore_clock_state(self, state: tuple[str, datetime | None, datetime]) -> None:
        self.clock.mode, self.clock.pinned, self._processed_until = state  # type: ignore[assignment]

    def restart_clock_at(self, moment: datetime) -> None:
        """Pin the clock at `moment` with no session event before it left to apply (a world reset)."""
        self.clock.pin(moment)
        self._processed_until = self.clock.now()
        self.store.set_meta("clock_pinned", format_ts(moment))
        self.store.set_meta("processed_until", format_ts(moment))

    def move_clock(self, moment: datetime) -> None:
        """Move the simulated clock (forward or back) and let the sessions between act."""
        self.clock.pin(moment)
        self.store.set_meta("clock_pinned", format_ts(moment))
        self.catch_up()

    def catch_up(self) -> None:
        """Apply every session event between the last call and now: openings, matching, the close."""
        now = self.now()
        if now <= self._processed_until:
            # A simulated clock that went back starts counting session events over from there.
            self._processed_until = min(self._processed_until, now)
            return
        if not self.clock.events(self._processed_until, now):
            # Nothing happens between: no transaction. (A thread applying events meanwhile covers a range
            # inside this one, which had none, so it cannot be skipping anything.)
            self._processed_until = max(self._processed_until, now)
            return
        with self.store.transaction() as db:
            # Read again under the lock: another thread may have applied these events while this one waited.
            events = self.clock.events(self._processed_until, now)
            for event in events:
                self._on_session_event(db, event)
            if events:
                self.store.set_meta("processed_until", format_ts(now))
            self._processed_until = max(self._processed_until, now)

    def _on_session_event(self, db: sqlite3.Connection, event: rules.SessionEvent) -> None:
        ts = format_ts(event.moment)
        open_orders = [o for o in self.store.open_orders(db) if o.created_at < ts]
        if event.kind == "close":
            for order in open_orders:
                ledger.close_open_order(self.store, db, order, "EXPIRED", ts, "day order expired at the close")
            self.store.roll_prices(db)
            return
        for order in open_orders:
            if order.state == "NEW":
                self.store.update_order(db, order.order_id, state="WORKING", updated_at=ts, awaiting_match=1)
                self.store.add_history(db, order.order_id, "WORKING", ts, None)
        if event.kind == "continuous":
            self._match_waiting(db, ts, event.moment)

    def _match_waiting(self, db: sqlite3.Connection, ts: str, moment: datetime) -> None:
        """When continuous trading starts, orders that reached the exchange outside it may match."""
        day = rules.trading_day_of(moment).isoformat()
        for order in self.store.open_orders(db):
            if not order.awaiting_match:
                continue
            last, _ = self.price(db, order.symbol)
            if matching.is_marketable(order, last):
                ledger.apply_fill(self.store, db, self.fees, order, order.remaining_qty, last, ts, day)
            else:
                self.store.update_order(db, order.order_id, awaiting_match=0)

    # --- prices ------------------------------------------------------------------------------------

    def price(self, db: sqlite3.Connection, symbol: str) -> tuple[Decimal, Decimal]:
        """(last, prev_close) of a symbol; a symbol never priced stands at the default price."""
        return self.store.price(db, symbol) or (DEFAULT_PRICE, DEFAULT_PRICE)

    def band(self, db: sqlite3.Connection, info: InstrumentInfo) -> tuple[Decimal, Decimal]:
        _, prev_close = self.price(db, info.symbol)
        return rules.price_band(prev_close, rules.price_limit_pct(info, rules.trading_day_of(self.now())))

    def move_price(self, symbol: str, price: Decimal, volume: int | None) -> list[str]:
        """Move the last price; resting orders it reaches fill at their limit, each up to `volume` shares."""
        info = instrument(symbol)
        self.catch_up()
        now = self.now()
        ts = format_ts(now)
        filled: list[str] = []
        with self.store.transaction() as db:
            limit_down, limit_up = self.band(db, info)
            if not (limit_down <= price <= limit_up) or not rules.is_on_tick(price):
                raise BrokerError("PRICE_OUT_OF_LIMIT", f"{price} is outside today's band or off the tick",
                                  {"limit_down": str(limit_down), "limit_up": str(limit_up), "tick": "0.01"})
            _, prev_close = self.price(db, info.symbol)
            self.store.set_price(db, info.symbol, price, prev_close)
            if self.clock.phase(now) != "CONTINUOUS":
                return filled
            resting = [o for o in self.store.open_orders(db, info.symbol)
                       if o.state == "WORKING" and matching.reached_by(o, price)]
            for order in matching.fill_priority(resting):
                qty = min(order.remaining_qty, volume or order.remaining_qty)
                fill_price = order.limit_price if order.limit_price is not None else price
                ledger.apply_fill(self.store, db, self.fees, order, qty, fill_price, ts, self.trading_day())
                filled.append(order.order_id)
        return filled

    # --- placing -----------------------------------------------------------------------------------

    def place(self, granted: frozenset[str], request: PlaceOrderRequest) -> tuple[OrderRow, bool]:
        """Place an order; returns (order, created). A repeated client_order_id returns the first order."""
        if request.account_id not in granted:
            raise BrokerError("ACCOUNT_NOT_FOUND", f"account {request.account_id} not found")
        info = instrument(request.symbol)
        self.catch_up()
        now = self.now()
        ts = format_ts(now)
        request_hash = _request_hash(request, info.symbol)
        with self.store.transaction() as db:
            if request.client_order_id is not None:
                existing = self.store.order_by_client_id(db, request.account_id, request.client_order_id)
                if existing is not None:
                    if existing.request_hash != request_hash:
                        raise BrokerError("IDEMPOTENCY_CONFLICT",
                                          f"client_order_id {request.client_order_id} was used for another order",
                                          {"order_id": existing.order_id})
                    return existing, False
            frozen = self._check_order(db, request, info)
            order_id = new_order_id(request.account_id)
            self.store.insert_order(db, {
                "order_id": order_id, "account_id": request.account_id,
                "client_order_id": request.client_order_id or str(uuid.uuid4()), "request_hash": request_hash,
                "symbol": info.symbol, "side": request.side, "type": request.type, "qty": request.qty,
                "limit_price": request.limit_price, "frozen_cash": frozen, "state": "NEW",
                "created_at": ts, "updated_at": ts,
            })
            self.store.add_history(db, order_id, "NEW", ts, None)
            self._route_new_order(db, self._stored(db, order_id), now)
            return self._stored(db, order_id), True

    def _check_order(self, db: sqlite3.Connection, request: PlaceOrderRequest, info: InstrumentInfo) -> Decimal:
        """Apply the market rules to a new order; returns the cash it must freeze."""
        sellable = 0
        if request.side == "SELL":
            position = self.store.position(db, request.account_id, info.symbol)
            if position is not None:
                sellable = (position.qty - position.unsettled_on(self.trading_day())
                            - self.store.locked_for_sell(db, request.account_id, info.symbol))
        problem = rules.quantity_problem(info.board, request.side, request.qty, sellable)
        if problem:
            lot = rules.LOTS[info.board]
            raise BrokerError("INVALID_QUANTITY", f"{request.qty} is not a valid quantity for {info.symbol}: {problem}",
                              {"lot": {"min": lot.min, "step": lot.step}, "max": rules.MAX_ORDER_QTY[info.board]})
        limit_down, limit_up = self.band(db, info)
        price = request.limit_price
        if price is not None and (not rules.is_on_tick(price) or not limit_down <= price <= limit_up):
            raise BrokerError("PRICE_OUT_OF_LIMIT",
                              f"limit price {price} must be on the 0.01 tick within {limit_down}..{limit_up}",
                              {"limit_down": str(limit_down), "limit_up": str(limit_up), "tick": "0.01"})
        if request.side == "SELL":
            if request.qty > sellable:
                raise BrokerError("INSUFFICIENT_POSITION",
                                  f"only {sellable} shares of {info.symbol} can be sold now",
                                  {"sellable": sellable, "requested": request.qty})
            return Decimal("0")
        # A market BUY holds cash as if it paid the limit-up price, like a real broker's protective freeze.
        required = self.fees.buy_freeze(price if price is not None else limit_up, request.qty)
        available = self.store.cash_total(db, request.account_id) - self.store.frozen_cash(db, request.account_id)
        if required > available:
            raise BrokerError("INSUFFICIENT_CASH", f"this order needs {required}, {to_money(available)} is available",
                              {"required": f"{required:.2f}", "available": f"{to_money(available):.2f}"})
        return required

    def _route_new_order(self, db: sqlite3.Connection, order: OrderRow, now: datetime) -> None:
        """NEW → WORKING when the exchange takes orders now; a marketable order fills at once."""
        ts = format_ts(now)
        phase = self.clock.phase(now)
        if order.type == "MARKET" and phase != "CONTINUOUS":
            ledger.close_open_order(self.store, db, order, "REJECTED", ts, MARKET_ORDERS_ONLY_CONTINUOUS)
            return
        if not self.clock.exchange_takes_orders(now):
            return
        self.store.update_order(db, order.order_id, state="WORKING", awaiting_match=int(phase != "CONTINUOUS"))
        self.store.add_history(db, order.order_id, "WORKING", ts, None)
        if phase != "CONTINUOUS":
            return
        last, _ = self.price(db, order.symbol)
        working = self._stored(db, order.order_id)
        if matching.is_marketable(working, last):
            ledger.apply_fill(self.store, db, self.fees, working, working.remaining_qty, last, ts,
                              self.trading_day())

    # --- reading -----------------------------------------------------------------------------------

    def get_order(self, granted: frozenset[str], order_id: str) -> OrderRow:
        self.catch_up()
        with self.store.reading() as db:
            return self._granted_order(db, granted, order_id)

    def _stored(self, db: sqlite3.Connection, order_id: str) -> OrderRow:
        """An order this transaction wrote; its absence is a fault, never something to carry on past."""
        order = self.store.order(db, order_id)
        if order is None:
            raise RuntimeError(f"order {order_id} is missing inside the transaction that wrote it")
        return order

    def _granted_order(self, db: sqlite3.Connection, granted: frozenset[str], order_id: str) -> OrderRow:
        order = self.store.order(db, order_id) if ORDER_ID.match(order_id) else None
        if order is None or order.account_id not in granted:
            # An order the token does not grant is answered exactly as one that does not exist.
            raise BrokerError("ORDER_NOT_FOUND", f"order {order_id[:80]} not found")
        return order

    # --- cancelling --------------------------------------------------------------------------------

    def cancel(self, granted: frozenset[str], order_id: str) -> CancelOutcome:
        """Cancel one NEW or WORKING order (a simulated `cancel_races_fill` fault lets a fill win instead)."""
        self.catch_up()
        now = self.now()
        ts = format_ts(now)
        with self.store.transaction() as db:
            order = self._granted_order(db, granted, order_id)
            if not order.is_open:
                raise BrokerError("ORDER_NOT_CANCELLABLE", f"order {order_id} is {order.state}",
                                  {"state": order.state})
            reopens = self.clock.cancel_reopens_at(now)
            if reopens is not None:
                raise BrokerError("CANCEL_NOT_ALLOWED_NOW",
                                  "the exchange takes no cancels in this part of the auction",
                                  {"retry_after": format_ts(reopens), "phase": self.clock.phase(now)})
            if self.store.take_fault("DELETE", "", [order_id], ("cancel_races_fill",)) is not None:
                price = order.limit_price
                if price is None:
                    price, _ = self.price(db, order.symbol)
                filled = ledger.apply_fill(self.store, db, self.fees, order, order.remaining_qty, price, ts,
                                           self.trading_day())
                race = BrokerError("CANCEL_FAILED", f"order {order_id} filled before the cancel reached it",
                                   {"state": filled.state})
            else:
                released = ledger.close_open_order(self.store, db, order, "CANCELLED", ts, None)
                return CancelOutcome(self._stored(db, order_id), released)
        raise race

    def cancel_many(self, granted: frozenset[str], account_id: str, order_ids: list[str] | None,
                    symbol: str | None, side: str | None) -> list[BatchItem]:
        """Cancel the named orders, or else every open one matching symbol/side; one failure stops nothing."""
        if account_id not in granted:
            raise BrokerError("ACCOUNT_NOT_FOUND", f"account {account_id} not found")
        self.catch_up()
        if order_ids is None:
            with self.store.reading() as db:
                rows = self.store.list_orders(db, [account_id], ["NEW", "WORKING"], symbol, side, None, None, 10_000)
            order_ids = [row.order_id for row in reversed(rows)]
        items: list[BatchItem] = []
        for order_id in order_ids:
            try:
                outcome = self.cancel(frozenset({account_id}), order_id)
                items.append(BatchItem(order_id, outcome, None))
            except BrokerError as error:
                items.append(BatchItem(order_id, None, error))
        return items


def instrument(symbol: str) -> InstrumentInfo:
    info = instruments().get(normalize_symbol(symbol))
    if info is None:
        raise BrokerError("INSTRUMENT_NOT_FOUND", f"instrument {symbol[:32]} not found")
    return info


def _request_hash(request: PlaceOrderRequest, symbol: str) -> str:
    price = None if request.limit_price is None else str(request.limit_price.normalize())
    body = {"account_id": request.account_id, "symbol": symbol, "side": request.side, "qty": request.qty,
            "type": request.type, "limit_price": price}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

