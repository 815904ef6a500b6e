"""The order list's JSON, written straight from rows (`order_json`), is the contract models' JSON byte for byte.

A world with every kind of order (open, partly filled at several prices, filled, cancelled after fills,
rejected, expired, waiting as NEW, MARKET, SELL, odd client ids and reasons), plus stored values in forms the
broker itself never writes (a time in UTC, decimals off two places), is listed both ways: through
`OrderList(orders=views.orders(...))` and through `order_json.order_list`. Any drift from the contract's
field order, formats or escaping fails here, and over HTTP the list agrees with `GET /v1/orders/{id}`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from scripts.broker import BrokerSettings, order_json, views, world
from scripts.broker.app import build_trading
from scripts.broker.trading import Trading
from scripts.models import SHANGHAI, Order, OrderList, PlaceOrderRequest, SimWorld
from tests.conftest import TEST_TOKEN

ACCOUNT = "acc_default"
GRANTED = frozenset({ACCOUNT})
MORNING = "2026-11-24T10:30:00+08:00"  # a Tuesday, continuous trading

VARIED_WORLD: dict[str, Any] = {
    "now": MORNING,
    "account": {"cash": "5000000.00", "positions": [
        {"symbol": "600519", "qty": 500, "avg_cost": "1700.00"},
        {"symbol": "000001", "qty": 3000, "avg_cost": "10.20", "unsettled": 1000},
        {"symbol": "300750", "qty": 400, "avg_cost": "230.00"},
    ]},
    "prices": {"600519": {"last": "1690.00", "prev_close": "1700.00"}, "000001": {"last": "10.50"},
               "300750": {"last": "250.00"}, "688981": {"last": "50.00"}},
    "orders": [
        {"ref": "working", "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1650.00", "at": "09:31:00"},
        {"ref": "partly", "symbol": "000001", "side": "SELL", "qty": 500, "limit_price": "10.80", "at": "09:40:00",
         "filled": 200, "client_order_id": 'quote" back\\slash \u8d35\u5dde\ttab'},
        {"ref": "filled", "symbol": "300750", "side": "BUY", "qty": 200, "limit_price": "240", "at": "09:45:00",
         "state": "FILLED"},
        {"ref": "cancelled-after-fill", "symbol": "600519", "side": "BUY", "qty": 300, "limit_price": "1640.50",
         "at": "09:50:00", "filled": 100, "state": "CANCELLED"},
        {"ref": "rejected", "symbol": "688981", "side": "BUY", "qty": 200, "limit_price": "49.99", "at": "09:55:00",
         "state": "REJECTED", "reject_reason": "价格超出涨跌停 \"band\"\nline two \x01 end"},
        {"ref": "expired", "symbol": "000001", "side": "BUY", "qty": 1000, "limit_price": "10.01",
         "at": "2026-11-23T10:00:00+08:00", "state": "EXPIRED"},
        {"ref": "new", "symbol": "300750", "side": "SELL", "qty": 100, "limit_price": "260.00",
         "at": "2026-11-24T09:00:00+08:00"},
    ],
}


def place(trading: Trading, symbol: str, side: str, qty: int, limit_price: str | None = None,
          order_type: str = "LIMIT", client_order_id: str | None = None) -> str:
    request = PlaceOrderRequest(account_id=ACCOUNT, symbol=symbol, side=side, qty=qty, type=order_type,
                                limit_price=limit_price, client_order_id=client_order_id)
    row, _ = trading.place(GRANTED, request)
    return row.order_id


@pytest.fixture
def trading() -> Iterator[Trading]:
    """A simulation broker's desk in this process, holding a world with every kind of order."""
    desk = build_trading(BrokerSettings(sim=True, token=TEST_TOKEN))
    world.reset(desk, SimWorld.model_validate(VARIED_WORLD), TEST_TOKEN)
    place(desk, "600519", "BUY", 100, order_type="MARKET")  # filled at once at the last price
    place(desk, "000001", "SELL", 300, order_type="MARKET", client_order_id="cli-market-sell")
    place(desk, "600519", "BUY", 300, "1689.99")
    desk.move_price("600519", Decimal("1689.99"), 100)  # three fills of one order, each at its limit
    desk.move_price("600519", Decimal("1689.50"), 100)
    desk.move_price("600519", Decimal("1689.00"), 100)
    place(desk, "300750", "BUY", 300, "249.37")
    desk.move_price("300750", Decimal("249.37"), 100)  # fills with fees of odd cents
    desk.cancel(GRANTED, place(desk, "600519", "SELL", 100, "1750.00"))
    desk.move_clock(datetime(2026, 11, 24, 12, 0, tzinfo=SHANGHAI))  # the lunch break
    place(desk, "000001", "BUY", 100, "10.40")  # waits as NEW
    place(desk, "600519", "SELL", 100, order_type="MARKET")  # no market to fill it: REJECTED
    yield desk
    desk.store.close()


def pydantic_body(trading: Trading, states: list[str] | None, limit: int,
                  after: tuple[str, int] | None = None) -> tuple[OrderList, str | None]:
    """The page as the contract models serialize it: what the list endpoint answered before `order_json`."""
    with trading.store.reading() as db:
        rows = trading.store.list_orders(db, [ACCOUNT], states, None, None, None, after, limit + 1)
        orders = views.orders(trading, db, rows[:limit])
    cursor = None
    if len(rows) > limit:
        cursor = base64.urlsafe_b64encode(f"{rows[limit - 1].created_at}|{rows[limit - 1].seq}".encode()).decode()
    return OrderList(orders=orders, next_cursor=cursor), cursor


def fast_body(trading: Trading, states: list[str] | None, limit: int, cursor: str | None,
              after: tuple[str, int] | None = None) -> bytes:
    with trading.store.reading() as db:
        records = trading.store.list_order_records(db, [ACCOUNT], states, None, None, None, after, limit + 1)
        return order_json.order_list(trading.store, db, records[:limit], cursor)


def assert_same_serialization(trading: Trading, states: list[str] | None = None, limit: int = 500) -> OrderList:
    models, cursor = pydantic_body(trading, states, limit)
    fast = fast_body(trading, states, limit, cursor)
    assert fast == models.model_dump_json().encode()
    assert json.loads(fast) == models.model_dump(mode="json")
    return models


def test_the_world_holds_every_kind_of_order_the_list_must_render(trading):
    listed = assert_same_serialization(trading).orders

    assert {order.state for order in listed} == {"NEW", "WORKING", "FILLED", "CANCELLED", "REJECTED", "EXPIRED"}
    assert {order.type for order in listed} == {"LIMIT", "MARKET"}
    assert {order.side for order in listed} == {"BUY", "SELL"}
    assert max(len(order.fills) for order in listed) >= 3
    assert any(order.state == "CANCELLED" and order.filled_qty for order in listed)
    assert any(order.state == "WORKING" and order.filled_qty for order in listed)
    assert any(order.reject_reason and "\n" in order.reject_reason for order in listed)
    assert any(order.client_order_id and '"' in order.client_order_id for order in listed)


@pytest.mark.parametrize("states", [None, ["NEW", "WORKING"], ["FILLED"], ["CANCELLED", "REJECTED", "EXPIRED"]])
def test_fast_list_equals_the_models_serialization_for_each_status_filter(trading, states):
    assert_same_serialization(trading, states)


def test_fast_list_equals_the_models_serialization_page_by_page(trading):
    after = None
    pages = 0
    while True:
        models, cursor = pydantic_body(trading, None, 3, after)
        assert fast_body(trading, None, 3, cursor, after) == models.model_dump_json().encode()
        pages += 1
        if cursor is None:
            break
        created_at, _, seq = base64.urlsafe_b64decode(cursor).decode().rpartition("|")
        after = (created_at, int(seq))
    assert pages >= 4


def test_an_empty_page_is_the_empty_envelope(trading):
    before_any_order = ("2000-01-01T00:00:00.000+08:00", 0)
    models, cursor = pydantic_body(trading, None, 50, before_any_order)

    assert fast_body(trading, None, 50, cursor, before_any_order) == models.model_dump_json().encode()
    assert models.model_dump_json() == '{"orders":[],"next_cursor":null}'


def test_stored_values_in_forms_the_broker_never_writes_are_still_rendered_as_the_models_render_them(trading):
    """Times in another offset or precision and decimals off two places take the slow road, with the same result."""
    with trading.store.transaction() as db:
        working = db.execute("SELECT order_id FROM orders WHERE state = 'WORKING' AND side = 'BUY' "
                             "AND filled_qty = 0 LIMIT 1").fetchone()[0]
        db.execute("UPDATE orders SET created_at = '2026-11-24T01:31:00+00:00', "
                   "updated_at = '2026-11-24T10:31:00.5+08:00', limit_price = '1650', frozen_cash = '165042.905' "
                   "WHERE order_id = ?", (working,))
        db.execute("UPDATE state_history SET ts = '2026-11-24T09:31:00.000001+08:00' WHERE order_id = ?", (working,))
        db.execute("UPDATE fills SET price = '1689.994', fee = '0.005' WHERE rowid = (SELECT MIN(rowid) FROM fills)")

    listed = assert_same_serialization(trading).orders

    odd = next(order for order in listed if order.order_id == working)
    assert (odd.limit_price, odd.frozen_cash) == (Decimal("1650"), Decimal("165042.905"))


def test_listed_orders_over_http_equal_each_order_read_alone(api, load_world, sim):
    """End to end: the list route's bytes agree with `GET /v1/orders/{id}`, which serializes through the models."""
    load_world(VARIED_WORLD)
    api.post("/v1/orders", json={"account_id": ACCOUNT, "symbol": "600519", "side": "BUY", "qty": 100,
                                 "type": "MARKET"}).raise_for_status()
    sim.post("/v1/sim/prices", json={"symbol": "000001", "price": "10.80", "volume": 100}).raise_for_status()

    response = api.get(f"/v1/accounts/{ACCOUNT}/orders", params={"limit": 500})

    assert response.headers["content-type"] == "application/json"
    listed = response.json()["orders"]
    assert len(listed) == len(VARIED_WORLD["orders"]) + 1
    for order in listed:
        alone = api.get(f"/v1/orders/{order['order_id']}").json()
        assert order == alone
        Order.model_validate(order)


# --- finished orders' JSON, kept on the store -------------------------------------------------------------


def test_a_listing_served_from_the_kept_json_of_finished_orders_is_still_byte_equal(trading):
    first = assert_same_serialization(trading)
    finished = {order.order_id for order in first.orders if order.state not in ("NEW", "WORKING")}

    assert set(trading.store.finished_json) == finished  # every finished order kept, no open one
    assert_same_serialization(trading)  # now from what was kept
    for states in (["FILLED"], ["CANCELLED", "REJECTED", "EXPIRED"], None):
        assert_same_serialization(trading, states)


def test_kept_json_is_used_only_while_its_record_is_the_page_s(trading):
    """A stale entry (another record under the id) is written afresh, never served."""
    listed = assert_same_serialization(trading).orders
    filled = next(order for order in listed if order.state == "FILLED")
    record, _ = trading.store.finished_json[filled.order_id]
    trading.store.finished_json[filled.order_id] = ((*record[:-1], -1), '{"stale":true}')

    assert_same_serialization(trading)
    assert trading.store.finished_json[filled.order_id][0] == record


def test_a_world_reset_empties_the_kept_json(trading):
    assert_same_serialization(trading)
    assert trading.store.finished_json

    world.reset(trading, SimWorld.model_validate(VARIED_WORLD), TEST_TOKEN)

    assert trading.store.finished_json == {}
    assert_same_serialization(trading)


def test_the_kept_json_is_bounded(trading, monkeypatch):
    monkeypatch.setattr(order_json, "FINISHED_KEPT", 2)

    assert_same_serialization(trading)
    assert len(trading.store.finished_json) == 2
    assert_same_serialization(trading)
    assert len(trading.store.finished_json) == 2


def test_an_order_cancelled_after_a_listing_is_listed_as_cancelled(trading):
    before = assert_same_serialization(trading, ["NEW", "WORKING"]).orders
    trading.cancel(GRANTED, before[0].order_id)

    after = {order.order_id: order for order in assert_same_serialization(trading).orders}
    assert after[before[0].order_id].state == "CANCELLED"
    assert assert_same_serialization(trading).orders == list(after.values())  # and again, from what was kept
