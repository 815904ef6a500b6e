"""Concurrent requests against one broker: a cancel and a fill, or two cancels, of the same order never
both win (docs/api.md: "A cancel and a fill of the same order are serialized: exactly one of them wins for
each share"). Each client is its own connection, released together from a barrier.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from tests.conftest import NOW, TEST_TOKEN

ACCOUNT = "acc_default"
AUTH = {"Authorization": f"Bearer {TEST_TOKEN}"}
CENT = Decimal("0.01")


def run_together(broker_url: str, calls: list[Callable[[httpx.Client], httpx.Response]]) -> list[httpx.Response]:
    """Run each call on its own connection, all released at once; returns the answers in call order."""
    clients = [httpx.Client(base_url=broker_url, headers=AUTH, timeout=30, verify=False) for _ in calls]
    for client in clients:
        assert client.get("/healthz").status_code == 200  # connect before the start line
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response | BaseException | None] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            answers[index] = calls[index](clients[index])
        except BaseException as error:  # surfaced below, in the test's thread
            answers[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for client in clients:
        client.close()
    for answer in answers:
        if not isinstance(answer, httpx.Response):
            raise AssertionError(f"a concurrent request did not complete: {answer!r}")
    return answers  # type: ignore[return-value]


def account(api: httpx.Client) -> dict[str, Any]:
    response = api.get(f"/v1/accounts/{ACCOUNT}")
    assert response.status_code == 200, response.text
    return response.json()


def cash(api: httpx.Client) -> dict[str, Decimal]:
    return {name: Decimal(value) for name, value in account(api)["cash"].items()}


def position(api: httpx.Client, symbol: str) -> dict[str, Any]:
    return next(p for p in account(api)["positions"] if p["symbol"] == symbol)


def order(api: httpx.Client, order_id: str) -> dict[str, Any]:
    response = api.get(f"/v1/orders/{order_id}")
    assert response.status_code == 200, response.text
    return response.json()


def buy_freeze(price: Decimal, qty: int) -> Decimal:
    """docs/api.md: the limit value plus the fees it would cost (commission 0.025%, 5.00 minimum; transfer 0.001%)."""
    value = price * qty
    commission = max((value * Decimal("0.00025")).quantize(CENT, ROUND_HALF_UP), Decimal("5.00"))
    return value + commission + (value * Decimal("0.00001")).quantize(CENT, ROUND_HALF_UP)


def delete(order_id: str) -> Callable[[httpx.Client], httpx.Response]:
    return lambda client: client.delete(f"/v1/orders/{order_id}")


def delete_batch(order_ids: list[str]) -> Callable[[httpx.Client], httpx.Response]:
    return lambda client: client.delete(f"/v1/accounts/{ACCOUNT}/orders", params={"order_ids": ",".join(order_ids)})


def move_price(symbol: str, price: str, volume: int) -> Callable[[httpx.Client], httpx.Response]:
    return lambda client: client.post("/v1/sim/prices", json={"symbol": symbol, "price": price, "volume": volume})


def test_twenty_concurrent_cancels_of_a_buy_succeed_once_and_release_its_cash_once(
        broker_url: str, api: httpx.Client, load_world: Callable[..., dict[str, str]]) -> None:
    order_id = load_world()["A"]  # BUY 100 600519 @ 1650.00, WORKING
    held = Decimal(order(api, order_id)["frozen_cash"])
    assert held == buy_freeze(Decimal("1650.00"), 100)
    before = cash(api)

    answers = run_together(broker_url, [delete(order_id)] * 20)

    assert sorted(answer.status_code for answer in answers) == [200] + [409] * 19
    won = next(answer.json() for answer in answers if answer.status_code == 200)
    assert won["state"] == "CANCELLED"
    assert won["released"] == {"cash": f"{held:.2f}", "qty": 0}
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["code"] == "ORDER_NOT_CANCELLABLE"
            assert answer.json()["details"] == {"state": "CANCELLED"}
    after = cash(api)
    assert after["available"] == before["available"] + held
    assert after["frozen"] == before["frozen"] - held
    assert after["total"] == before["total"]
    history = [change["state"] for change in order(api, order_id)["state_history"]]
    assert history == ["NEW", "WORKING", "CANCELLED"]


def test_twenty_concurrent_cancels_of_a_sell_release_its_open_shares_once(
        broker_url: str, api: httpx.Client, load_world: Callable[..., dict[str, str]]) -> None:
    order_id = load_world()["B"]  # SELL 500 000001, 200 filled: 300 locked
    before = position(api, "000001")
    assert before["qty_locked_sell"] == 300

    answers = run_together(broker_url, [delete(order_id)] * 20)

    assert Counter(answer.status_code for answer in answers) == {200: 1, 409: 19}
    won = next(answer.json() for answer in answers if answer.status_code == 200)
    assert won["released"] == {"cash": "0.00", "qty": 300}
    assert (won["filled_qty"], won["cancelled_qty"], won["remaining_qty"]) == (200, 300, 0)
    after = position(api, "000001")
    assert after["qty_locked_sell"] == 0
    assert after["qty_sellable"] == before["qty_sellable"] + 300
    assert after["qty"] == before["qty"]


def test_overlapping_concurrent_batch_and_single_cancels_cancel_each_order_exactly_once(
        broker_url: str, api: httpx.Client, load_world: Callable[..., dict[str, str]]) -> None:
    prices = {"000001": "10.50", "600036": "40.00", "300750": "250.00", "688981": "90.00"}
    world = {
        "now": NOW,
        "account": {"cash": "2000000.00", "positions": [{"symbol": "600036", "qty": 5000, "avg_cost": "38.00"}]},
        "prices": {symbol: {"last": last} for symbol, last in prices.items()},
        "orders": [
            {"ref": f"o{n}", "symbol": symbol, "side": "BUY", "qty": 200 + 100 * n,
             "limit_price": str(Decimal(prices[symbol]) - Decimal("0.05") * (n + 1)), "at": f"10:{n:02d}:00"}
            for n, symbol in enumerate(["000001", "600036", "300750", "688981"] * 3)
        ] + [{"ref": f"s{n}", "symbol": "600036", "side": "SELL", "qty": 1000, "limit_price": f"4{n + 1}.00",
              "at": f"10:2{n}:00"} for n in range(3)],
    }
    ids = list(load_world(world).values())
    held = {oid: Decimal(order(api, oid)["frozen_cash"]) for oid in ids}
    before = cash(api)
    assert before["frozen"] == sum(held.values())
    assert position(api, "600036")["qty_locked_sell"] == 3000

    calls = [delete_batch(ids[0:8]), delete_batch(ids[5:15]), delete_batch(ids[::2]), delete_batch(ids[::-1])]
    calls += [delete(oid) for oid in ids]
    answers = run_together(broker_url, calls)

    wins: Counter[str] = Counter()
    released_cash = Decimal("0")
    released_qty = 0
    for answer in answers:
        assert answer.status_code in (200, 409), answer.text
        if answer.request.url.path.endswith("/orders"):  # a batch: one result per named order
            items = [(item["order_id"], item["ok"], item.get("order") or item["error"])
                     for item in answer.json()["results"]]
        else:
            body = answer.json()
            items = [(answer.request.url.path.rsplit("/", 1)[1], answer.status_code == 200, body)]
        for order_id, ok, body in items:
            if ok:
                wins[order_id] += 1
                released_cash += Decimal(body["released"]["cash"])
                released_qty += body["released"]["qty"]
            else:
                assert body["code"] == "ORDER_NOT_CANCELLABLE", body
                assert body["details"]["state"] == "CANCELLED"
    assert wins == dict.fromkeys(ids, 1)
    assert released_cash == sum(held.values())
    assert released_qty == 3000
    after = cash(api)
    assert (after["frozen"], after["available"], after["total"]) == (Decimal("0.00"), before["total"], before["total"])
    assert position(api, "600036")["qty_locked_sell"] == 0
    for oid in ids:
        assert [change["state"] for change in order(api, oid)["state_history"]].count("CANCELLED") == 1


@pytest.mark.parametrize(("side", "fill_price"), [("BUY", "10.00"), ("SELL", "11.00")])
def test_a_cancel_racing_fills_leaves_every_share_either_filled_or_cancelled(
        broker_url: str, api: httpx.Client, load_world: Callable[..., dict[str, str]], side: str,
        fill_price: str) -> None:
    """A resting order of 10,000 shares; 12 price moves, each filling up to 300 shares, race one cancel."""
    for round_number in range(6):
        world = {
            "now": NOW,
            "account": {"cash": "500000.00", "positions": [
                {"symbol": "000001", "qty": 20000, "avg_cost": "10.20"}]},
            "prices": {"000001": {"last": "10.50"}},
            "orders": [{"ref": "R", "symbol": "000001", "side": side, "qty": 10000, "limit_price": fill_price,
                        "at": "10:15:00"}],
        }
        order_id = load_world(world)["R"]
        before = account(api)
        moves = [move_price("000001", fill_price, 300)] * 12
        calls = [*moves[:round_number * 2], delete(order_id), *moves[round_number * 2:]]
        answers = run_together(broker_url, calls)

        cancel = answers[round_number * 2].json()
        assert answers[round_number * 2].status_code == 200, cancel
        fills_reported = sum(order_id in answer.json()["filled"] for answer in answers if "filled" in answer.json())
        final = order(api, order_id)
        filled = final["filled_qty"]
        # The cancel's snapshot is final: no share filled after it, and every share has one fate.
        assert (final["state"], filled, final["cancelled_qty"]) == ("CANCELLED", cancel["filled_qty"], 10000 - filled)
        assert (final["remaining_qty"], final["cancelled_qty"] + filled) == (0, 10000)
        assert filled == 300 * fills_reported == sum(fill["qty"] for fill in final["fills"])
        # What the fills cost a BUY, or brought a SELL: their value, fees added or taken off.
        traded = sum(Decimal(f["price"]) * f["qty"] + (Decimal(f["fee"]) if side == "BUY" else -Decimal(f["fee"]))
                     for f in final["fills"])
        after = account(api)
        held = position(api, "000001")
        if side == "BUY":
            assert Decimal(cancel["released"]["cash"]) == buy_freeze(Decimal(fill_price), 10000) - traded
            assert Decimal(after["cash"]["total"]) == Decimal(before["cash"]["total"]) - traded
            assert (held["qty"], held["qty_unsettled"]) == (20000 + filled, filled)
        else:
            assert cancel["released"]["qty"] == 10000 - filled
            assert Decimal(after["cash"]["total"]) == Decimal(before["cash"]["total"]) + traded
            assert (held["qty"], held["qty_locked_sell"]) == (20000 - filled, 0)
        assert after["cash"]["frozen"] == "0.00"

