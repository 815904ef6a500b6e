"""What really keeps a cancel single: the store's lock and its `BEGIN IMMEDIATE` (store.py's docstring).

The routes are plain `def` on FastAPI's threadpool, so requests do run at once. Each test widens the race
window (the cancel's write waits 0.1 s after its read) so that without either guard both cancels would
read WORKING and both succeed: removing the lock or `BEGIN IMMEDIATE` makes these tests fail.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts.broker import BrokerSettings, ledger, running_broker
from scripts.broker.clock import MarketClock
from scripts.broker.errors import BrokerError
from scripts.broker.store import Store
from scripts.broker.trading import Trading
from scripts.models import SHANGHAI, PlaceOrderRequest
from tests.conftest import NOW, TEST_TOKEN

ACCOUNT = "acc_default"
RACE_SECONDS = 0.1
BUY = PlaceOrderRequest(account_id=ACCOUNT, symbol="000001", side="BUY", qty=100, limit_price="9.00")


@pytest.fixture
def slow_cancels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cancel waits between reading the order and writing it: the window two cancels could share."""
    close = ledger.close_open_order

    def slowly(*args: Any, **kwargs: Any) -> ledger.ReleasedAmounts:
        time.sleep(RACE_SECONDS)
        return close(*args, **kwargs)

    monkeypatch.setattr(ledger, "close_open_order", slowly)


def desk(store: Store) -> Trading:
    clock = MarketClock()
    clock.pin(datetime(2026, 11, 24, 10, 30, tzinfo=SHANGHAI))  # a Tuesday, continuous trading
    return Trading(store, clock)


def together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls on their own threads, released at once; each result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as error:  # compared by the test
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def outcomes(results: list[Any]) -> Counter[str]:
    return Counter("ok" if not isinstance(result, Exception) else
                   result.code if isinstance(result, BrokerError) else type(result).__name__ for result in results)


@pytest.fixture
def two_connections(tmp_path: Path) -> Iterator[tuple[Trading, Trading, str]]:
    """Two stores on one WAL file, as two broker processes would have (the one-broker lock set aside)."""
    first = Store(tmp_path / "broker.db", exclusive=False)
    second = Store(tmp_path / "broker.db", exclusive=False)
    first.ensure_account(ACCOUNT, Decimal("1000000"), TEST_TOKEN)
    order, _ = desk(first).place(frozenset({ACCOUNT}), BUY)
    assert order.state == "WORKING"
    try:
        yield desk(first), desk(second), order.order_id
    finally:
        first.close()
        second.close()


def test_two_connections_cancelling_one_order_give_one_success(two_connections, slow_cancels) -> None:
    """Fails without BEGIN IMMEDIATE: both connections would read WORKING before either wrote."""
    first, second, order_id = two_connections
    granted = frozenset({ACCOUNT})
    results = together([lambda: first.cancel(granted, order_id), lambda: second.cancel(granted, order_id)])
    assert outcomes(results) == Counter({"ok": 1, "ORDER_NOT_CANCELLABLE": 1}), results


def test_threads_sharing_one_store_cancelling_one_order_give_one_success(tmp_path: Path, slow_cancels) -> None:
    """Fails without the lock: the threads would share the one connection's transaction."""
    store = Store(tmp_path / "broker.db")
    try:
        store.ensure_account(ACCOUNT, Decimal("1000000"), TEST_TOKEN)
        trading = desk(store)
        order, _ = trading.place(frozenset({ACCOUNT}), BUY)
        results = together([lambda: trading.cancel(frozenset({ACCOUNT}), order.order_id) for _ in range(4)])
        assert outcomes(results) == Counter({"ok": 1, "ORDER_NOT_CANCELLABLE": 3}), results
    finally:
        store.close()


def test_concurrent_deletes_over_http_run_at_once_and_one_wins(tmp_path: Path, slow_cancels) -> None:
    settings = BrokerSettings(db=str(tmp_path / "broker.db"), token=TEST_TOKEN, sim=True)
    auth = {"Authorization": f"Bearer {TEST_TOKEN}"}
    with running_broker(settings) as url, httpx.Client(base_url=url, headers=auth, timeout=30) as api:
        world = {"now": NOW, "account": {"cash": "1000000.00"}, "orders": [
            {"ref": "A", "symbol": "000001", "side": "BUY", "qty": 100, "limit_price": "9.00", "at": "10:05:00"}]}
        order_id = api.post("/v1/sim/reset", json=world).json()["orders"]["A"]
        clients = [httpx.Client(base_url=url, headers=auth, timeout=30) for _ in range(6)]
        try:
            results = together([lambda c=c: c.delete(f"/v1/orders/{order_id}") for c in clients])
            healthz_began = time.monotonic()
            assert api.get("/healthz").status_code == 200
            assert time.monotonic() - healthz_began < RACE_SECONDS * 6
        finally:
            for c in clients:
                c.close()
        statuses = Counter(response.status_code for response in results)
        assert statuses == Counter({200: 1, 409: 5}), [r.text for r in results]
        assert api.get(f"/v1/orders/{order_id}").json()["state"] == "CANCELLED"
