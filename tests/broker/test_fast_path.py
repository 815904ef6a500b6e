"""The broker's fast path (`routes.FastRoute`) answers exactly as FastAPI's own handler does.

The hot routes (the order list, one order, a cancel, the account) resolve their dependencies directly and read
a plain list query by hand. What must hold: a query the hand reader takes, FastAPI would take with the same
values; anything else goes to FastAPI's handler; and every answer, errors included, is the one a broker without
the fast path gives.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi.dependencies.utils import request_params_to_args
from fastapi.routing import APIRoute
from starlette.requests import Request

from scripts.broker import BrokerSettings, running_broker
from scripts.broker.routes import FastRoute, accounts
from tests.conftest import OTHER_TOKEN, TEST_TOKEN

ACCOUNT = "acc_default"


def _order(ref: str, symbol: str, side: str, qty: int, limit_price: str, at: str, **more: Any) -> dict[str, Any]:
    account = more.pop("account_id", ACCOUNT)
    return {"ref": ref, "id": f"ord_{account.replace('_', '')}_{ref}", "account_id": account, "symbol": symbol,
            "side": side, "qty": qty, "limit_price": limit_price, "at": at, **more}


WORLD: dict[str, Any] = {
    "now": "2026-11-24T10:30:00+08:00",  # a Tuesday in continuous trading
    "accounts": [
        {"account_id": ACCOUNT, "cash": "5000000.00", "positions": [
            {"symbol": "600519", "qty": 500, "avg_cost": "1700.00"},
            {"symbol": "000001", "qty": 1000, "avg_cost": "10.20"}]},
        {"account_id": "acc_other", "cash": "100000.00", "token": OTHER_TOKEN},
    ],
    "prices": {"600519": {"last": "1690.00"}, "000001": {"last": "10.50"}},
    "orders": [
        _order("aaaa0001", "600519", "BUY", 100, "1650.00", "09:31:00"),
        _order("aaaa0002", "000001", "SELL", 500, "10.80", "09:40:00", filled=200),
        _order("aaaa0003", "600519", "BUY", 200, "1640.00", "09:45:00", state="FILLED"),
        _order("aaaa0004", "000001", "BUY", 300, "10.10", "09:50:00", state="CANCELLED"),
        _order("bbbb0001", "000001", "BUY", 100, "10.00", "09:55:00", account_id="acc_other"),
    ],
}

PLAIN_QUERIES = [
    "", "limit=50", "limit=1", "limit=500", "status=NEW,WORKING", "status=new", "status=BOGUS", "symbol=600519",
    "symbol=sh600519", "symbol=%E8%8C%85%E5%8F%B0", "side=BUY", "side=SELL", "cursor=abc", "limit=3&side=SELL",
    "status=NEW%2CWORKING&symbol=000001&side=BUY&limit=20", "symbol=" + "9" * 16, "cursor=" + "x" * 200,
]
ODD_QUERIES = [
    "limit=0", "limit=501", "limit=050", "limit=+5", "limit=%205", "limit=5.0", "limit=abc", "limit=",
    "limit=5&limit=6", "side=buy", "side=", "symbol=", "symbol=" + "9" * 17, "cursor=" + "x" * 201,
    "since=2026-11-24T09:00:00%2B08:00", "since=0001-01-01T00:00:00", "foo=1", "status=", "status=NEW&status=FILLED",
    "limit=%EF%BC%95",  # a full-width digit
]


def list_route() -> APIRoute:
    return next(route for route in accounts.router.routes
                if isinstance(route, APIRoute) and route.path.endswith("/orders") and "GET" in route.methods)


def query_request(query: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": query.encode(), "headers": []})


@pytest.mark.parametrize("query", PLAIN_QUERIES)
def test_a_plain_query_is_read_as_fastapi_reads_it(query):
    request = query_request(query)
    plain = accounts.plain_list_query(request)
    expected, errors = request_params_to_args(list_route().dependant.query_params, request.query_params)

    parameters = inspect.signature(accounts.list_orders).parameters
    defaults = {name: parameters[name].default for name in expected}

    assert plain is not None
    assert errors == []
    assert set(plain) <= set(expected)
    assert {name: plain.get(name, defaults[name]) for name in expected} == expected  # what the endpoint receives


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_anything_but_a_plain_query_is_left_to_fastapi(query):
    assert accounts.plain_list_query(query_request(query)) is None


# --- over HTTP: a broker with the fast path against one without -----------------------------------------


@contextlib.contextmanager
def broker(fast: bool, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[str]]]:
    """A broker's URL, and the paths of the requests FastAPI solved the dependencies of. The reference broker
    (`fast=False`) keeps FastAPI's own handlers for its whole life: FastAPI builds an included router's handlers
    on that router's first request, not when the broker starts."""
    solved: list[str] = []
    original = fastapi.routing.solve_dependencies

    async def counting(*args: Any, **kwargs: Any) -> Any:
        solved.append(kwargs["request"].url.path)
        return await original(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(fastapi.routing, "solve_dependencies", counting)
        if not fast:
            patch.setattr(FastRoute, "get_route_handler", APIRoute.get_route_handler)
        settings = BrokerSettings(sim=True, token=TEST_TOKEN)
        with running_broker(settings) as url:
            yield url, solved


REQUESTS: list[tuple[str, str, str | None]] = [
    *(("GET", f"/v1/accounts/{ACCOUNT}/orders?{query}", TEST_TOKEN) for query in PLAIN_QUERIES + ODD_QUERIES),
    ("GET", f"/v1/accounts/{ACCOUNT}/orders?limit=2", None),  # no token: 401 before the query is read
    ("GET", f"/v1/accounts/{ACCOUNT}/orders?limit=0", None),
    ("GET", f"/v1/accounts/{ACCOUNT}/orders?limit=0", "not-a-token"),
    ("GET", "/v1/accounts/acc_other/orders?limit=2", TEST_TOKEN),  # another's account: ACCOUNT_NOT_FOUND
    ("GET", "/v1/accounts/acc_other/orders?limit=0", TEST_TOKEN),
    ("GET", "/v1/accounts/acc_nobody/orders", TEST_TOKEN),
    ("GET", f"/v1/accounts/{ACCOUNT}", TEST_TOKEN),
    ("GET", f"/v1/accounts/{ACCOUNT}?extra=1", TEST_TOKEN),
    ("GET", f"/v1/accounts/{ACCOUNT}", None),
    ("GET", "/v1/accounts/acc_other", TEST_TOKEN),
    ("HEAD", f"/v1/accounts/{ACCOUNT}", TEST_TOKEN),
    ("GET", "/v1/orders/ord_accdefault_aaaa0002", TEST_TOKEN),
    ("GET", "/v1/orders/ord_accother_bbbb0001", TEST_TOKEN),  # another's order: ORDER_NOT_FOUND
    ("GET", "/v1/orders/ord_accdefault_zzzz9999", TEST_TOKEN),
    ("GET", "/v1/orders/%E8%8C%85", TEST_TOKEN),
    ("GET", "/v1/orders/ord_accdefault_aaaa0002", None),
    ("DELETE", "/v1/orders/ord_accdefault_aaaa0003", TEST_TOKEN),  # FILLED: ORDER_NOT_CANCELLABLE
    ("DELETE", "/v1/orders/ord_accother_bbbb0001", TEST_TOKEN),
    ("DELETE", "/v1/orders/ord_accdefault_aaaa0001", None),
    ("DELETE", "/v1/orders/ord_accdefault_aaaa0001?x=1", TEST_TOKEN),
    ("DELETE", "/v1/orders/ord_accdefault_aaaa0002", TEST_TOKEN),
    ("DELETE", "/v1/orders/ord_accdefault_aaaa0002", TEST_TOKEN),  # already cancelled
    ("GET", f"/v1/accounts/{ACCOUNT}/orders?limit=500", TEST_TOKEN),  # after the cancels
]


def answers(url: str) -> list[tuple[int, Any, dict[str, str]]]:
    found = []
    with httpx.Client(base_url=url, timeout=10) as http:
        assert http.post("/v1/sim/reset", json=WORLD).status_code == 200
        for method, path, token in REQUESTS:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = http.request(method, path, headers=headers)
            body: Any = response.content
            if response.content:
                body = response.json()
                if "request_id" in body:
                    body["request_id"] = "(one per request)"
            kept = {name: response.headers[name] for name in ("content-type", "allow", "retry-after")
                    if name in response.headers}
            found.append((response.status_code, body, kept))
    return found


def test_every_answer_is_the_one_fastapi_gives_without_the_fast_path(monkeypatch):
    with broker(fast=True, monkeypatch=monkeypatch) as (url, solved_fast):
        fast = answers(url)
    with broker(fast=False, monkeypatch=monkeypatch) as (url, solved_full):
        full = answers(url)

    # The reference is FastAPI's own way: it solved the dependencies of the plain requests the fast path took.
    assert "/v1/orders/ord_accdefault_aaaa0003" in solved_full  # asked once, plainly (the DELETE of a FILLED)
    assert "/v1/orders/ord_accdefault_aaaa0003" not in solved_fast
    assert len(solved_full) > len(solved_fast)

    assert len(fast) == len(REQUESTS)
    for request, got, expected in zip(REQUESTS, fast, full, strict=True):
        assert got == expected, request
    statuses = {status for status, _, _ in fast}
    assert {200, 401, 404, 409, 422} <= statuses  # the comparison covered answers and errors alike


def test_a_plain_request_skips_fastapi_dependency_solving_and_an_odd_one_does_not(api, load_world, monkeypatch):
    load_world(WORLD)
    solved: list[str] = []
    original = fastapi.routing.solve_dependencies

    async def counting(*args: Any, **kwargs: Any) -> Any:
        solved.append(kwargs["request"].url.path)
        return await original(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)

    assert api.get(f"/v1/accounts/{ACCOUNT}/orders", params={"status": "NEW,WORKING", "limit": 20}).status_code == 200
    assert api.get("/v1/orders/ord_accdefault_aaaa0001").status_code == 200
    assert api.get(f"/v1/accounts/{ACCOUNT}").status_code == 200
    assert api.delete("/v1/orders/ord_accdefault_aaaa0001").status_code == 200
    assert solved == []

    assert api.get(f"/v1/accounts/{ACCOUNT}/orders", params={"limit": 0}).status_code == 422
    assert solved == [f"/v1/accounts/{ACCOUNT}/orders"]


def test_dependency_overrides_are_honoured_by_falling_back_to_fastapi():
    from starlette.testclient import TestClient

    from scripts.broker import create_app
    from scripts.broker.deps import get_trading

    gateway = create_app(BrokerSettings(sim=True, token=TEST_TOKEN))
    trading = gateway.trading
    asked: list[str] = []

    async def overridden(request: Request) -> Any:
        asked.append(request.url.path)
        return trading

    gateway.app.dependency_overrides[get_trading] = overridden  # type: ignore[attr-defined]
    http = TestClient(gateway, headers={"Authorization": f"Bearer {TEST_TOKEN}"})

    assert http.get(f"/v1/accounts/{ACCOUNT}").status_code == 200
    assert http.get(f"/v1/accounts/{ACCOUNT}/orders", params={"limit": 5}).status_code == 200
    assert asked == [f"/v1/accounts/{ACCOUNT}", f"/v1/accounts/{ACCOUNT}/orders"]
    trading.store.close()
