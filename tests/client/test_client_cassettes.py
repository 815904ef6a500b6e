"""The Client against recorded broker traffic: every endpoint the skill uses, decoded and typed.

Replayed from `tests/cassettes/client/` with no broker; recorded from the real one with
`.venv/bin/pytest tests/client --record-mode=rewrite` (see conftest.py).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from scripts._http import ApiError, Client
from scripts.models import BatchCancelResult, CancelledOrder, Order, OrderList
from tests.client.support import ORDER_B, ORDER_C, ORDER_D, SEED_ORDER_ID

pytestmark = pytest.mark.vcr


def test_seed_listing_of_working_orders_returns_the_decoded_json(recorded_client: Client) -> None:
    listing = recorded_client.get("/v1/accounts/acc_default/orders?status=WORKING")

    assert isinstance(listing, dict)
    assert [order["order_id"] for order in listing["orders"]] == [ORDER_D, ORDER_B, SEED_ORDER_ID]
    assert {order["state"] for order in listing["orders"]} == {"WORKING"}
    assert listing["next_cursor"] is None


def test_seed_cancel_returns_the_final_snapshot_as_json(recorded_client: Client) -> None:
    snapshot = recorded_client.delete(f"/v1/orders/{SEED_ORDER_ID}")

    assert snapshot["order_id"] == SEED_ORDER_ID
    assert snapshot["state"] == "CANCELLED"
    assert snapshot["remaining_qty"] == 0
    assert [change["state"] for change in snapshot["state_history"]] == ["NEW", "WORKING", "CANCELLED"]
    assert snapshot["released"] == {"cash": "165042.90", "qty": 0}


def test_orders_filters_into_an_order_list(recorded_client: Client) -> None:
    page = recorded_client.orders(status=["NEW", "WORKING"], side="BUY")

    assert isinstance(page, OrderList)
    assert [order.order_id for order in page.orders] == [SEED_ORDER_ID]
    assert page.orders[0].limit_price == Decimal("1650.00")
    assert page.next_cursor is None


def test_orders_pages_with_a_cursor(recorded_client: Client) -> None:
    first = recorded_client.orders(limit=2)
    rest = recorded_client.orders(limit=2, cursor=first.next_cursor)

    assert [order.order_id for order in first.orders] == [ORDER_D, ORDER_B]
    assert [order.order_id for order in rest.orders] == [SEED_ORDER_ID, ORDER_C]
    assert rest.next_cursor is None


def test_order_reads_one_partly_filled_order(recorded_client: Client) -> None:
    order = recorded_client.order(ORDER_B)

    assert isinstance(order, Order)
    assert (order.side, order.state, order.filled_qty, order.remaining_qty) == ("SELL", "WORKING", 200, 300)


def test_cancel_releases_the_frozen_cash_of_a_buy(recorded_client: Client) -> None:
    frozen_before = recorded_client.account().cash.frozen

    cancelled = recorded_client.cancel(SEED_ORDER_ID)

    assert isinstance(cancelled, CancelledOrder)
    assert cancelled.state == "CANCELLED"
    assert cancelled.released.cash == Decimal("165042.90")
    assert recorded_client.account().cash.frozen == frozen_before - cancelled.released.cash
    assert recorded_client.order(SEED_ORDER_ID).state == "CANCELLED"


def test_cancelling_a_filled_order_is_not_cancellable(recorded_client: Client) -> None:
    with pytest.raises(ApiError) as caught:
        recorded_client.cancel(ORDER_C)

    error = caught.value
    assert (error.code, error.http_status, error.recovery_hint) == ("ORDER_NOT_CANCELLABLE", 409, "fix_input")
    assert error.details == {"state": "FILLED"}
    assert error.request_id is not None
    assert error.request_id.startswith("req_")
    assert str(error) == f"ORDER_NOT_CANCELLABLE (409, fix_input): order {ORDER_C} is FILLED"


def test_an_unknown_order_is_not_found(recorded_client: Client) -> None:
    with pytest.raises(ApiError) as caught:
        recorded_client.order("ord_accdefault_zzzzzzzz")

    assert (caught.value.code, caught.value.http_status, caught.value.recovery_hint) == (
        "ORDER_NOT_FOUND", 404, "fix_input")


def test_cancel_many_reports_each_order_on_its_own(recorded_client: Client) -> None:
    result = recorded_client.cancel_many([ORDER_D, ORDER_C])

    assert isinstance(result, BatchCancelResult)
    done, refused = result.results
    assert done.ok
    assert done.order is not None
    assert (done.order.state, done.order.released.qty) == ("CANCELLED", 100)
    assert not refused.ok
    assert refused.error is not None
    assert refused.error.code == "ORDER_NOT_CANCELLABLE"


def test_account_and_positions_are_typed(recorded_client: Client) -> None:
    account = recorded_client.account()
    positions = recorded_client.positions()

    assert account.cash.total == Decimal("1000000.00")
    assert account.cash.available + account.cash.frozen == account.cash.total
    assert {(p.symbol, p.qty, p.qty_locked_sell) for p in positions.positions} == {
        ("600519", 200, 100), ("000001", 1000, 300)}


def test_place_then_cancel_a_limit_buy(recorded_client: Client) -> None:
    placed = recorded_client.place("600519", "BUY", 100, Decimal("1600.00"),
                                   client_order_id="cassette-place-0001")

    assert (placed.state, placed.qty, placed.client_order_id) == ("WORKING", 100, "cassette-place-0001")
    assert placed.frozen_cash > Decimal("160000.00")
    assert recorded_client.cancel(placed.order_id).released.cash == placed.frozen_cash


def test_market_reads_are_typed(recorded_client: Client) -> None:
    found = recorded_client.instruments("茅台")
    quote = recorded_client.quote("600519")
    status = recorded_client.market_status()

    assert [(i.symbol, i.name) for i in found.instruments] == [("600519", "贵州茅台")]
    assert (quote.last, quote.limit_up, quote.limit_down) == (
        Decimal("1690.00"), Decimal("1870.00"), Decimal("1530.00"))
    assert (status.phase, status.accepts_orders, status.accepts_cancels) == ("CONTINUOUS", True, True)


def test_a_wrong_token_is_unauthenticated(recorded_client: Client) -> None:
    with Client(recorded_client.base_url, token="not-a-token-of-this-broker") as stranger, \
            pytest.raises(ApiError) as caught:
        stranger.account()

    assert (caught.value.code, caught.value.http_status, caught.value.recovery_hint) == (
        "UNAUTHENTICATED", 401, "reauthenticate")
