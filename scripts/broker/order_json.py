"""The order list's JSON written straight from stored rows: byte for byte what `OrderList.model_dump_json()` gives.

Listing is the broker's hottest read (a page of 50 orders, each with its fills and state history): building
and validating a pydantic model per order, fill and state change cost four times the rest of the request.
Here each order is one f-string over the stored values, with the contract's formats applied exactly as the
models' serializers apply them (`scripts.models`): money and prices as two-place half-up strings, times in
RFC 3339 with the Beijing offset and milliseconds, strings escaped as pydantic escapes them (UTF-8 kept).
`tests/broker/test_order_json.py` holds the two serializations equal over every kind of order, so the
contract cannot drift; every other answer still goes through the models (`views`).

A finished order (FILLED, CANCELLED, REJECTED, EXPIRED) never changes again, so its JSON is kept on the store
(`Store.finished_json`, at most FINISHED_KEPT orders) with the record it was written from, and reused only while
the page's record for that id is the same tuple: its fills and state changes are then not read again either.
A world reset empties it.
"""

from __future__ import annotations

import re
import sqlite3
from decimal import Decimal
from functools import lru_cache
from json.encoder import encode_basestring  # type: ignore[attr-defined]  # C-accelerated, non-ASCII kept
from typing import Any

from ..models import OPEN_STATES, to_money
from .clock import format_ts, parse_ts
from .reference import instruments
from .store import ORDER_RECORD_COLUMNS, Store

# A stored time already in the wire's one form (`clock.format_ts`) goes out as it is.
_WIRE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\+08:00")
_CACHED_VALUES = 4096  # prices, fees and frozen amounts repeat across a page and across requests
# Finished orders' JSON kept, ~2.5 KB each with its record (~50 MB at most); the longest unused goes first.
FINISHED_KEPT = 20_000
_STATE = ORDER_RECORD_COLUMNS.index("state")


def order_list(store: Store, db: sqlite3.Connection, records: list[tuple[Any, ...]],
               next_cursor: str | None) -> bytes:
    """The body of `GET /v1/accounts/{id}/orders` for `records` (`Store.list_order_records`, one page).

    Called under the store's lock (inside `Store.reading`), which also guards `Store.finished_json`."""
    kept = store.finished_json
    written: list[str | None] = [None] * len(records)
    todo: list[int] = []  # the indexes of the orders to write now
    for index, record in enumerate(records):
        hit = kept.pop(record[0], None)
        if hit is not None and hit[0] == record:
            kept[record[0]] = hit  # back at the young end: the longest unused leaves first
            written[index] = hit[1]
        else:
            todo.append(index)
    if todo:
        order_ids = [records[index][0] for index in todo]
        fills: list[list[str]] = [[] for _ in todo]
        for at, fill_id, qty, price, fee, ts in store.fill_records(db, order_ids):
            fills[at].append(f'{{"fill_id":{encode_basestring(fill_id)},"qty":{qty},"price":{_money(price)},'
                             f'"fee":{_money(fee)},"ts":{_time(ts)}}}')
        history: list[list[str]] = [[] for _ in todo]
        for at, state, ts, reason in store.history_records(db, order_ids):
            history[at].append(f'{{"state":"{state}","ts":{_time(ts)},'
                               f'"reason":{"null" if reason is None else encode_basestring(reason)}}}')
        for at, index in enumerate(todo):
            record = records[index]
            text = _order(*record, ",".join(fills[at]), ",".join(history[at]))
            written[index] = text
            if record[_STATE] not in OPEN_STATES:
                if len(kept) >= FINISHED_KEPT:
                    del kept[next(iter(kept))]
                kept[record[0]] = (record, text)
    cursor = "null" if next_cursor is None else encode_basestring(next_cursor)
    return f'{{"orders":[{",".join(written)}],"next_cursor":{cursor}}}'.encode()  # type: ignore[arg-type]


def _order(order_id: str, client_order_id: str | None, account_id: str, symbol: str, side: str, order_type: str,
           qty: int, limit_price: str | None, filled_qty: int, cancelled_qty: int, filled_value: str,
           frozen_cash: str, state: str, reject_reason: str | None, created_at: str, updated_at: str, _seq: int,
           fills: str, history: str) -> str:
    """One order object; `fills` and `history` are its arrays' JSON elements, joined. Field order: `Order`'s."""
    is_open = state in OPEN_STATES
    # side, type and state are stored under CHECK constraints to the contract's words: nothing to escape.
    return (
        f'{{"order_id":{encode_basestring(order_id)},'
        f'"client_order_id":{"null" if client_order_id is None else encode_basestring(client_order_id)},'
        f'"account_id":{encode_basestring(account_id)},{_instrument(symbol)},"side":"{side}","type":"{order_type}",'
        f'"qty":{qty},"limit_price":{"null" if limit_price is None else _money(limit_price)},'
        f'"filled_qty":{filled_qty},"cancelled_qty":{cancelled_qty},'
        f'"remaining_qty":{qty - filled_qty - cancelled_qty if is_open else 0},'
        f'"avg_fill_price":{_average(filled_value, filled_qty) if filled_qty else "null"},'
        f'"frozen_cash":{_money(frozen_cash) if is_open else _ZERO},"state":"{state}",'
        f'"reject_reason":{"null" if reject_reason is None else encode_basestring(reject_reason)},'
        f'"created_at":{_time(created_at)},"updated_at":{_time(updated_at)},'
        f'"fills":[{fills}],"state_history":[{history}]}}'
    )


@lru_cache(maxsize=_CACHED_VALUES)
def _money(stored: str) -> str:
    """A stored decimal as the wire's quoted two-place string (`models.Money`)."""
    return f'"{to_money(Decimal(stored)):.2f}"'


_ZERO = _money("0")


@lru_cache(maxsize=_CACHED_VALUES)
def _average(filled_value: str, filled_qty: int) -> str:
    return f'"{to_money(Decimal(filled_value) / filled_qty):.2f}"'


@lru_cache(maxsize=_CACHED_VALUES)
def _instrument(symbol: str) -> str:
    """`"symbol":…,"name":…,"exchange":…` of a listed instrument (a KeyError otherwise, as in `views`)."""
    info = instruments()[symbol]
    return (f'"symbol":{encode_basestring(symbol)},"name":{encode_basestring(info.name)},'
            f'"exchange":{encode_basestring(info.exchange)}')


@lru_cache(maxsize=_CACHED_VALUES)
def _time(stored: str) -> str:
    if _WIRE_TIME.fullmatch(stored):
        return f'"{stored}"'
    return f'"{format_ts(parse_ts(stored))}"'
