"""Cash and shares: what a fill, a cancel or an expiry does to an order, its account and its position.

Conservation holds by construction: `cash.total` moves only by a fill's value and fee; frozen cash is
the sum of open BUY orders' `frozen_cash`; locked shares are the open SELL orders' remaining quantity.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass, replace
from decimal import Decimal

from .rules import FeeSchedule
from .store import OrderRow, PositionRow, Store

ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class ReleasedAmounts:
    cash: Decimal
    qty: int


def new_fill_id() -> str:
    return "fil_" + secrets.token_hex(6)


def apply_fill(store: Store, db: sqlite3.Connection, fees: FeeSchedule, order: OrderRow, qty: int,
               price: Decimal, ts: str, trading_day: str) -> OrderRow:
    """Fill `qty` shares of an open order at `price`; returns the order as it now stands."""
    value = price * qty
    fee = fees.fill_fee(order.side, order.filled_value, value)  # type: ignore[arg-type]
    filled_qty = order.filled_qty + qty
    done = filled_qty == order.qty
    position = store.position(db, order.account_id, order.symbol) or PositionRow(
        order.account_id, order.symbol, 0, ZERO, 0, None)
    total = store.cash_total(db, order.account_id)

    if order.side == "BUY":
        cost = value + fee
        store.set_cash_total(db, order.account_id, total - cost)
        # Fills at or below the limit, with fees on the cumulative value, never cost more than was frozen.
        frozen = ZERO if done else max(order.frozen_cash - cost, ZERO)
        unsettled = qty + (position.unsettled_on(trading_day))
        store.put_position(db, replace(position, qty=position.qty + qty, cost_basis=position.cost_basis + cost,
                                       unsettled_qty=unsettled, unsettled_day=trading_day))
    else:
        store.set_cash_total(db, order.account_id, total + value - fee)
        frozen = ZERO
        remaining = position.qty - qty
        # Selling keeps the average cost of what is left.
        basis = position.cost_basis * remaining / position.qty if position.qty else ZERO
        store.put_position(db, replace(position, qty=remaining, cost_basis=basis))

    store.add_fill(db, new_fill_id(), order.order_id, qty, price, fee, ts)
    state = "FILLED" if done else order.state
    store.update_order(db, order.order_id, filled_qty=filled_qty, filled_value=order.filled_value + value,
                       fees_paid=order.fees_paid + fee, frozen_cash=frozen, state=state, updated_at=ts,
                       awaiting_match=0)
    if done:
        store.add_history(db, order.order_id, "FILLED", ts, None)
    return replace(order, filled_qty=filled_qty, filled_value=order.filled_value + value,
                   fees_paid=order.fees_paid + fee, frozen_cash=frozen, state=state, updated_at=ts,
                   awaiting_match=False)


def close_open_order(store: Store, db: sqlite3.Connection, order: OrderRow, state: str, ts: str,
                     reason: str | None) -> ReleasedAmounts:
    """End an open order as CANCELLED, EXPIRED or REJECTED; release exactly what it still holds."""
    released = ReleasedAmounts(
        cash=order.frozen_cash if order.side == "BUY" else ZERO,
        qty=order.remaining_qty if order.side == "SELL" else 0,
    )
    store.update_order(db, order.order_id, cancelled_qty=order.cancelled_qty + order.remaining_qty,
                       frozen_cash=ZERO, state=state, updated_at=ts, awaiting_match=0,
                       **({"reject_reason": reason} if state == "REJECTED" else {}))
    store.add_history(db, order.order_id, state, ts, reason)
    return released
