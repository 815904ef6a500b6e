"""Matching against the last price (docs/api.md "Matching").

A marketable order (BUY limit >= last, SELL limit <= last, any MARKET order) fills at once at the last
price; a resting order fills at its own limit price when a price move reaches it. Only in continuous
trading: orders that reach the exchange in an auction wait for it.
"""

from __future__ import annotations

from decimal import Decimal

from .store import OrderRow


def is_marketable(order: OrderRow, last: Decimal) -> bool:
    if order.type == "MARKET" or order.limit_price is None:
        return True
    if order.side == "BUY":
        return order.limit_price >= last
    return order.limit_price <= last


def reached_by(order: OrderRow, price: Decimal) -> bool:
    """Whether a move of the last price to `price` reaches a resting limit order."""
    return order.limit_price is not None and is_marketable(order, price)


def fill_priority(orders: list[OrderRow]) -> list[OrderRow]:
    """Price, then time: the best-priced resting order fills first, and among equals the oldest."""
    def key(order: OrderRow) -> tuple[Decimal, int]:
        price = order.limit_price or Decimal("0")
        return (-price if order.side == "BUY" else price, order.seq)
    return sorted(orders, key=key)
