"""Stored rows → the contract's models (`scripts.models`): where the broker shapes its answers.

One exception, the hottest read: the order list is written as JSON straight from its rows (`order_json`),
held byte for byte equal to what these models give by tests/broker/test_order_json.py.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal

from ..models import (
    Account,
    CancelledOrder,
    Cash,
    Fill,
    Instrument,
    MarketStatus,
    Order,
    Position,
    Quote,
    Released,
    StateChange,
    to_money,
)
from . import rules
from .clock import parse_ts
from .ledger import ReleasedAmounts
from .reference import InstrumentInfo, instruments
from .store import OrderRow
from .trading import Trading


def orders(trading: Trading, db: sqlite3.Connection, rows: list[OrderRow]) -> list[Order]:
    ids = [row.order_id for row in rows]
    fills = trading.store.fills(db, ids)
    history = trading.store.history(db, ids)
    table = instruments()
    return [_order(row, table[row.symbol], fills[row.order_id], history[row.order_id]) for row in rows]


def order(trading: Trading, row: OrderRow) -> Order:
    with trading.store.reading() as db:
        return orders(trading, db, [row])[0]


def cancelled(trading: Trading, row: OrderRow, released: ReleasedAmounts) -> CancelledOrder:
    snapshot = order(trading, row)
    return CancelledOrder(**snapshot.__dict__, released=Released(cash=released.cash, qty=released.qty))


def _order(row: OrderRow, info: InstrumentInfo, fills: list[sqlite3.Row], history: list[sqlite3.Row]) -> Order:
    avg_fill_price = to_money(row.filled_value / row.filled_qty) if row.filled_qty else None
    return Order(
        order_id=row.order_id, client_order_id=row.client_order_id, account_id=row.account_id,
        symbol=row.symbol, name=info.name, exchange=info.exchange, side=row.side,  # type: ignore[arg-type]
        type=row.type, qty=row.qty, limit_price=row.limit_price,  # type: ignore[arg-type]
        filled_qty=row.filled_qty, cancelled_qty=row.cancelled_qty,
        remaining_qty=row.remaining_qty if row.is_open else 0,
        avg_fill_price=avg_fill_price, frozen_cash=row.frozen_cash if row.is_open else Decimal("0"),
        state=row.state, reject_reason=row.reject_reason,  # type: ignore[arg-type]
        created_at=parse_ts(row.created_at), updated_at=parse_ts(row.updated_at),
        fills=[Fill(fill_id=f["fill_id"], qty=f["qty"], price=Decimal(f["price"]), fee=Decimal(f["fee"]),
                    ts=parse_ts(f["ts"])) for f in fills],
        state_history=[StateChange(state=h["state"], ts=parse_ts(h["ts"]), reason=h["reason"]) for h in history],
    )


def positions(trading: Trading, db: sqlite3.Connection, account_id: str) -> list[Position]:
    day = trading.trading_day()
    table = instruments()
    result = []
    for row in trading.store.positions(db, account_id):
        last, _ = trading.price(db, row.symbol)
        unsettled = min(row.unsettled_on(day), row.qty)
        locked = trading.store.locked_for_sell(db, account_id, row.symbol)
        avg_cost = row.cost_basis / row.qty
        result.append(Position(
            symbol=row.symbol, name=table[row.symbol].name if row.symbol in table else row.symbol,
            qty=row.qty, qty_sellable=row.qty - locked - unsettled, qty_locked_sell=locked,
            qty_unsettled=unsettled, avg_cost=to_money(avg_cost), last_price=last,
            market_value=to_money(last * row.qty), unrealized_pnl=to_money(last * row.qty - row.cost_basis),
        ))
    return result


def account(trading: Trading, account_id: str) -> Account:
    with trading.store.reading() as db:
        total = trading.store.cash_total(db, account_id)
        frozen = trading.store.frozen_cash(db, account_id)
        held = positions(trading, db, account_id)
    market_value = sum((p.market_value for p in held), Decimal("0"))
    return Account(
        account_id=account_id, environment="paper",  # the bundled broker only ever trades on paper
        cash=Cash(available=total - frozen, frozen=frozen, total=total),
        positions=held, market_value=market_value, equity=total + market_value, as_of=trading.now(),
    )


def instrument(trading: Trading, info: InstrumentInfo) -> Instrument:
    lot = rules.LOTS[info.board]
    return Instrument(symbol=info.symbol, name=info.name, exchange=info.exchange, board=info.board, lot=lot,
                      price_limit_pct=rules.price_limit_pct(info, rules.trading_day_of(trading.now())))


def quote(trading: Trading, info: InstrumentInfo) -> Quote:
    with trading.store.reading() as db:
        last, prev_close = trading.price(db, info.symbol)
        limit_down, limit_up = trading.band(db, info)
    # The paper market has no order book: one tick either side of the last price, inside the band.
    return Quote(symbol=info.symbol, last=last, prev_close=prev_close, limit_up=limit_up, limit_down=limit_down,
                 bid=max(last - rules.TICK, limit_down), ask=min(last + rules.TICK, limit_up), ts=trading.now())


def market_status(trading: Trading) -> MarketStatus:
    now = trading.now()
    clock = trading.clock
    return MarketStatus(now=now, trading_day=rules.trading_day_of(now).isoformat(), phase=clock.phase(now),
                        accepts_orders=clock.exchange_takes_orders(now),
                        accepts_cancels=clock.cancel_reopens_at(now) is None)
