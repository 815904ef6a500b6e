"""The broker against its own OpenAPI document: schemathesis over real HTTP finds no 5xx and no undocumented answer.

The document (`/openapi.json`) is the one the broker serves; the run sends the test token, so requests
reach the routes, and it starts from a world with real orders, so cancels and reads meet real state.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from scripts.broker import BrokerSettings, running_broker
from tests.conftest import NOW, OTHER_TOKEN, TEST_TOKEN

MAX_EXAMPLES_PER_OPERATION = 100  # 12 operations: ~20 s on a 2-core machine, well inside a minute
ERROR_STATUSES_EVERY_OPERATION = ("401", "422", "500")
# What an answer may be: no 5xx; a documented status, content type, body and headers; and for a method the
# path does not serve, 405 with an `Allow` that lists exactly the documented methods (RFC 9110).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, unsupported_method, allow_header_conformance]

# Pinned ids, so the generated requests can name orders that exist: open ones to cancel, finished ones
# that answer 409, and one of another account that must answer exactly like an unknown id.
WORKING_IDS = [f"ord_accdefault_work{n:04d}" for n in range(24)]
FINISHED_IDS = ["ord_accdefault_filled01", "ord_accdefault_cancel01", "ord_accdefault_partly01"]
OTHER_ACCOUNT_ID = "ord_accother_other001"
KNOWN_ORDER_IDS = [*WORKING_IDS, *FINISHED_IDS, OTHER_ACCOUNT_ID]
KNOWN_ACCOUNTS = ["acc_default", "acc_other"]
KNOWN_SYMBOLS = ["600519", "000001", "300750", "688981", "601318"]
# Resting prices per symbol (BUY below the last price, SELL above it), so seeded orders stay WORKING.
RESTING_PRICES = {"600519": ("1650.00", "1750.00"), "000001": ("10.10", "10.80"), "300750": ("240.00", "260.00")}


def _world() -> dict[str, Any]:
    symbols = list(RESTING_PRICES)
    working = []
    for n, order_id in enumerate(WORKING_IDS):
        symbol, side = symbols[n % len(symbols)], ("BUY", "SELL")[n % 2]
        working.append({"ref": f"W{n}", "id": order_id, "symbol": symbol, "side": side, "qty": 100,
                        "limit_price": RESTING_PRICES[symbol][n % 2], "at": f"10:{n:02d}:00"})
    return {
        "now": NOW,
        "accounts": [
            {"account_id": "acc_default", "token": TEST_TOKEN, "cash": "5000000.00",
             "positions": [{"symbol": "600519", "qty": 2000, "avg_cost": "1700.00"},
                           {"symbol": "000001", "qty": 5000, "avg_cost": "10.20", "unsettled": 500},
                           {"symbol": "300750", "qty": 2000, "avg_cost": "250.00"}]},
            {"account_id": "acc_other", "token": OTHER_TOKEN, "cash": "100000.00"},
        ],
        "prices": {"600519": {"last": "1690.00", "prev_close": "1700.00"}, "000001": {"last": "10.50"},
                   "300750": {"last": "250.00"}},
        "orders": [
            *working,
            {"ref": "F", "id": FINISHED_IDS[0], "symbol": "601318", "side": "BUY", "qty": 100,
             "limit_price": "50.00", "at": "09:40:00", "state": "FILLED"},
            {"ref": "C", "id": FINISHED_IDS[1], "symbol": "600519", "side": "BUY", "qty": 100,
             "limit_price": "1600.00", "at": "09:45:00", "state": "CANCELLED"},
            {"ref": "P", "id": FINISHED_IDS[2], "symbol": "000001", "side": "SELL", "qty": 500,
             "limit_price": "10.80", "at": "10:20:00", "filled": 200},
            {"ref": "O", "id": OTHER_ACCOUNT_ID, "account_id": "acc_other", "symbol": "601318", "side": "BUY",
             "qty": 100, "limit_price": "49.00", "at": "10:25:00"},
        ],
    }


REAL_NAMES: dict[str, st.SearchStrategy[str]] = {
    "order_id": st.sampled_from(KNOWN_ORDER_IDS),
    "order_ids": st.lists(st.sampled_from(KNOWN_ORDER_IDS), min_size=1, max_size=4).map(",".join),
    "account_id": st.sampled_from(KNOWN_ACCOUNTS),
    "symbol": st.sampled_from(KNOWN_SYMBOLS),
    "status": st.sampled_from(["NEW,WORKING", "WORKING", "FILLED", "cancelled", "WORKING,EXPIRED"]),
}
# Orders the world can take (lot, tick, band, cash and shares all fit), so placing succeeds as well as fails.
PLACEABLE = st.fixed_dictionaries({
    "account_id": st.just("acc_default"),
    "symbol": st.sampled_from(list(RESTING_PRICES)),
    "side": st.sampled_from(["BUY", "SELL"]),
    "qty": st.sampled_from([100, 200]),
    "type": st.just("LIMIT"),
}).map(lambda order: {**order, "limit_price": RESTING_PRICES[order["symbol"]][order["side"] == "SELL"]})


def _sometimes_real(values: Any) -> st.SearchStrategy:
    """The generated values as they are, or with the names they carry replaced by ones the world holds."""
    if not isinstance(values, dict):
        return st.just(values)
    overrides = {name: REAL_NAMES[name] for name in values if name in REAL_NAMES}
    if not overrides:
        return st.just(values)
    return st.one_of(st.just(values), st.fixed_dictionaries(overrides).map(lambda real: {**values, **real}))


def _sometimes_placeable(body: Any) -> st.SearchStrategy:
    """A generated order body as it is, or one the world accepts (its client_order_id kept)."""
    if not isinstance(body, dict) or "account_id" not in body:
        return st.just(body)
    keep = {"client_order_id": body["client_order_id"]} if "client_order_id" in body else {}
    return st.one_of(st.just(body), PLACEABLE.map(lambda order: {**order, **keep}))


@pytest.fixture(scope="module")
def fuzzed_broker() -> Iterator[str]:
    """A broker of its own (the fuzzer places and cancels orders), loaded with a world of real orders."""
    with running_broker(BrokerSettings(sim=True, token=TEST_TOKEN)) as url:
        response = httpx.post(f"{url}/v1/sim/reset", json=_world(), timeout=30)
        assert response.status_code == 200, response.text
        yield url


@pytest.fixture(scope="module")
def broker_schema(fuzzed_broker: str) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{fuzzed_broker}/openapi.json", timeout=10)

    # Generated names almost never exist; half the time, a request names a real order, account or symbol.
    @schema.hook("flatmap_path_parameters")
    def real_path_names(context: schemathesis.HookContext, path_parameters: Any) -> st.SearchStrategy:
        return _sometimes_real(path_parameters)

    @schema.hook("flatmap_query")
    def real_query_names(context: schemathesis.HookContext, query: Any) -> st.SearchStrategy:
        return _sometimes_real(query)

    @schema.hook("flatmap_body")
    def placeable_bodies(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy:
        return _sometimes_placeable(body)

    return schema


schema = schemathesis.pytest.from_fixture("broker_schema")


@pytest.fixture(autouse=True)
def _lazy_schema_node_id(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32's lazy loader reads `item._nodeid`, which pytest 9.2 no longer sets (it keeps `_id`);
    # without it, every test built from `from_fixture` fails with AttributeError before sending a request.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_every_answer_is_documented_and_none_is_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TEST_TOKEN}"}, checks=CHECKS, timeout=10)


def test_openapi_documents_the_v1_api_its_errors_and_bearer_auth(broker_url: str) -> None:
    document = httpx.get(f"{broker_url}/openapi.json", timeout=10).json()

    assert [path for path in document["paths"] if path.startswith("/v1/sim")] == []
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "TRADING_API_TOKEN"}
    error_ref = "#/components/schemas/ErrorBody"
    assert set(document["components"]["schemas"]["ErrorBody"]["required"]) >= {"code", "message", "recovery_hint"}
    v1_operations = [(method, path, operation) for path, operations in document["paths"].items()
                     if path.startswith("/v1/") for method, operation in operations.items()]
    assert len(v1_operations) >= 11
    for method, path, operation in v1_operations:
        assert operation["security"] == [{"bearer": []}], (method, path)
        for status in ERROR_STATUSES_EVERY_OPERATION:
            response = operation["responses"].get(status)
            assert response is not None, f"{method.upper()} {path} does not document {status}"
            assert response["content"]["application/json"]["schema"] == {"$ref": error_ref}, (method, path, status)
            assert response["headers"]["X-Request-Id"]["required"] is True, (method, path, status)


def test_method_not_allowed_lists_every_method_the_path_serves(broker_url: str) -> None:
    response = httpx.request("PUT", f"{broker_url}/v1/orders/ord_accdefault_abc12345", timeout=10)

    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["allow"] == "GET, DELETE"  # two routes share the path; both methods are named
