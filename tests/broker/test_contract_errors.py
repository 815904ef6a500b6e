"""Contract: every error code of docs/api.md over real HTTP — its status, its recovery_hint, the error envelope
`{code, message, recovery_hint, details, request_id}` and `X-Request-Id` equal to `request_id`.

The catalogue below is transcribed from docs/api.md's table, not read from the broker. Each code has one
trigger here; the files per resource pin what each error's `details` say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.broker.contract import (
    UNKNOWN_ORDER,
    arm_fault,
    expect_error,
    expect_ok,
    get_order,
    list_ids,
    order_body,
    place,
    world,
)

# docs/api.md, "Errors": code → (HTTP status, recovery_hint)
API_MD_ERRORS: dict[str, tuple[int, str]] = {
    "UNAUTHENTICATED": (401, "reauthenticate"),
    "ACCOUNT_NOT_FOUND": (404, "fix_input"),
    "ORDER_NOT_FOUND": (404, "fix_input"),
    "ORDER_NOT_CANCELLABLE": (409, "fix_input"),
    "CANCEL_FAILED": (409, "retry"),
    "CANCEL_NOT_ALLOWED_NOW": (409, "retry_later"),
    "INSTRUMENT_NOT_FOUND": (404, "fix_input"),
    "INVALID_QUANTITY": (422, "fix_input"),
    "PRICE_OUT_OF_LIMIT": (422, "fix_input"),
    "INSUFFICIENT_CASH": (409, "fix_input"),
    "INSUFFICIENT_POSITION": (409, "fix_input"),
    "IDEMPOTENCY_CONFLICT": (409, "fix_input"),
    "VALIDATION_ERROR": (422, "fix_input"),
    "NOT_FOUND": (404, "fix_input"),
    "METHOD_NOT_ALLOWED": (405, "fix_input"),
    "RATE_LIMITED": (429, "retry"),
    "INTERNAL": (500, "contact_support"),
    "SERVICE_UNAVAILABLE": (503, "retry"),
}


@dataclass
class Broker:
    api: httpx.Client
    anonymous: httpx.Client
    sim: httpx.Client
    refs: dict[str, str]  # BASE_WORLD's orders
    load_world: Callable[..., dict[str, str]]


def _idempotency_conflict(b: Broker) -> httpx.Response:
    expect_ok(place(b.api, "600519", "BUY", 100, "1680.00", client_order_id="cid-7"), 201)
    return place(b.api, "600519", "BUY", 100, "1670.00", client_order_id="cid-7")


def _cancel_not_allowed_now(b: Broker) -> httpx.Response:
    refs = b.load_world(world(now="2026-11-24T14:58:00+08:00"))  # closing call auction
    return b.api.delete(f"/v1/orders/{refs['A']}")


def _faulted(status: int) -> Callable[[Broker], httpx.Response]:
    def trigger(b: Broker) -> httpx.Response:
        arm_fault(b.sim, kind="error_before_apply", path="/v1/market/status", status=status, retry_after=3)
        return b.api.get("/v1/market/status")
    return trigger


def _cancel_failed(b: Broker) -> httpx.Response:
    arm_fault(b.sim, kind="cancel_races_fill", order_id=b.refs["A"])
    return b.api.delete(f"/v1/orders/{b.refs['A']}")


TRIGGERS: dict[str, Callable[[Broker], httpx.Response]] = {
    "UNAUTHENTICATED": lambda b: b.anonymous.get("/v1/accounts/acc_default"),
    "ACCOUNT_NOT_FOUND": lambda b: b.api.get("/v1/accounts/acc_nobody"),
    "ORDER_NOT_FOUND": lambda b: b.api.get(f"/v1/orders/{UNKNOWN_ORDER}"),
    "ORDER_NOT_CANCELLABLE": lambda b: b.api.delete(f"/v1/orders/{b.refs['C']}"),
    "CANCEL_FAILED": _cancel_failed,
    "CANCEL_NOT_ALLOWED_NOW": _cancel_not_allowed_now,
    "INSTRUMENT_NOT_FOUND": lambda b: b.api.get("/v1/quotes/999999"),
    "INVALID_QUANTITY": lambda b: place(b.api, "600519", "BUY", 150, "1680.00"),
    "PRICE_OUT_OF_LIMIT": lambda b: place(b.api, "600519", "BUY", 100, "1870.01"),
    "INSUFFICIENT_CASH": lambda b: place(b.api, "600519", "BUY", 600, "1690.00"),
    "INSUFFICIENT_POSITION": lambda b: place(b.api, "600036", "SELL", 100, "10.00"),
    "IDEMPOTENCY_CONFLICT": _idempotency_conflict,
    "VALIDATION_ERROR": lambda b: b.api.post("/v1/orders", json={}),
    "NOT_FOUND": lambda b: b.api.get("/v1/no-such-route"),
    "METHOD_NOT_ALLOWED": lambda b: b.api.patch(f"/v1/orders/{b.refs['A']}", json={"qty": 200}),
    "RATE_LIMITED": _faulted(429),
    "INTERNAL": _faulted(500),
    "SERVICE_UNAVAILABLE": _faulted(503),
}


@pytest.fixture
def broker(api, anonymous, sim, load_world) -> Broker:
    return Broker(api, anonymous, sim, load_world(), load_world)


def test_every_code_of_api_md_has_a_trigger_here():
    assert set(TRIGGERS) == set(API_MD_ERRORS)


@pytest.mark.parametrize("code", list(API_MD_ERRORS))
def test_error_code_answers_its_http_status_hint_and_envelope(broker, code):
    status, hint = API_MD_ERRORS[code]
    response = TRIGGERS[code](broker)
    expect_error(response, status, code, hint)
    assert "Traceback" not in response.text


# --- UNAUTHENTICATED -------------------------------------------------------------------------------

V1_ROUTES = [
    ("GET", "/v1/accounts/acc_default"),
    ("GET", "/v1/accounts/acc_default/positions"),
    ("GET", "/v1/accounts/acc_default/orders"),
    ("DELETE", "/v1/accounts/acc_default/orders?side=BUY"),
    ("GET", "/v1/orders/{A}"),
    ("DELETE", "/v1/orders/{A}"),
    ("POST", "/v1/orders"),
    ("GET", "/v1/instruments?q=600519"),
    ("GET", "/v1/instruments/600519"),
    ("GET", "/v1/quotes/600519"),
    ("GET", "/v1/market/status"),
]


@pytest.mark.parametrize(("method", "route"), V1_ROUTES)
def test_every_v1_route_without_a_token_is_unauthenticated_and_changes_nothing(api, anonymous, load_world,
                                                                               method, route):
    refs = load_world()
    body = order_body("600519", "BUY", 100, "1680.00") if method == "POST" else None

    response = anonymous.request(method, route.format(A=refs["A"]), json=body)

    expect_error(response, 401, "UNAUTHENTICATED", "reauthenticate")
    assert get_order(api, refs["A"])["state"] == "WORKING"
    assert len(list_ids(api)) == 3


@pytest.mark.parametrize("authorization", [
    "Bearer not-a-token", "Bearer", "Basic dGVzdDp0ZXN0", "test-token-acc-default", "Token test-token-acc-default",
])
def test_unknown_token_or_another_scheme_is_unauthenticated(anonymous, load_world, authorization):
    load_world()
    response = anonymous.get("/v1/accounts/acc_default", headers={"Authorization": authorization})
    expect_error(response, 401, "UNAUTHENTICATED", "reauthenticate")


# --- VALIDATION_ERROR ------------------------------------------------------------------------------

GOOD = order_body("600519", "BUY", 100, "1680.00")


def _without(field: str) -> dict[str, Any]:
    return {key: value for key, value in GOOD.items() if key != field}


BAD_BODIES = {
    "malformed JSON": b'{"account_id": "acc_default", ',
    "not an object": b'[{"account_id": "acc_default"}]',
    "empty body": b"",
    "no account_id": _without("account_id"),
    "no symbol": _without("symbol"),
    "no side": _without("side"),
    "no qty": _without("qty"),
    "an extra field": {**GOOD, "price": "1680.00"},
    "qty as a string": {**GOOD, "qty": "100"},
    "qty as a fraction": {**GOOD, "qty": 100.5},
    "qty as a boolean": {**GOOD, "qty": True},
    "qty zero": {**GOOD, "qty": 0},
    "qty negative": {**GOOD, "qty": -100},
    "side lower case": {**GOOD, "side": "buy"},
    "side unknown": {**GOOD, "side": "HOLD"},
    "type unknown": {**GOOD, "type": "STOP"},
    "price not a number": {**GOOD, "limit_price": "abc"},
    "price negative": {**GOOD, "limit_price": "-1680.00"},
    "price zero": {**GOOD, "limit_price": "0"},
    "LIMIT without a price": _without("limit_price"),
    "MARKET with a price": {**GOOD, "type": "MARKET"},
    "account_id as a number": {**GOOD, "account_id": 7},
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_malformed_order_body_is_a_validation_error_listing_the_problems(api, load_world, case):
    load_world()
    body = BAD_BODIES[case]
    if isinstance(body, bytes):
        response = api.post("/v1/orders", content=body, headers={"Content-Type": "application/json"})
    else:
        response = api.post("/v1/orders", json=body)

    error = expect_error(response, 422, "VALIDATION_ERROR", "fix_input")
    problems = error["details"]["errors"]
    assert problems
    assert all(isinstance(p["loc"], list) and isinstance(p["msg"], str) for p in problems)
    assert len(list_ids(api)) == 3  # nothing was placed


BAD_QUERIES = [
    ("GET", "/v1/accounts/acc_default/orders", {"limit": 0}),
    ("GET", "/v1/accounts/acc_default/orders", {"limit": 501}),
    ("GET", "/v1/accounts/acc_default/orders", {"limit": "ten"}),
    ("GET", "/v1/accounts/acc_default/orders", {"side": "HOLD"}),
    ("GET", "/v1/accounts/acc_default/orders", {"status": "OPEN"}),
    ("GET", "/v1/accounts/acc_default/orders", {"status": ""}),
    ("GET", "/v1/accounts/acc_default/orders", {"since": "yesterday"}),
    ("GET", "/v1/accounts/acc_default/orders", {"cursor": "not-a-cursor!"}),
    ("GET", "/v1/instruments", {}),
    ("GET", "/v1/instruments", {"q": ""}),
    ("DELETE", "/v1/accounts/acc_default/orders", {"order_ids": ""}),
    ("DELETE", "/v1/accounts/acc_default/orders", {"order_ids": ",,"}),
    ("DELETE", "/v1/accounts/acc_default/orders", {"side": "HOLD"}),
]


@pytest.mark.parametrize(("method", "path", "query"), BAD_QUERIES)
def test_bad_query_parameter_is_a_validation_error_and_cancels_nothing(api, load_world, method, path, query):
    refs = load_world()
    error = expect_error(api.request(method, path, params=query), 422, "VALIDATION_ERROR", "fix_input")
    assert error["details"]["errors"]
    assert get_order(api, refs["A"])["state"] == "WORKING"


# --- NOT_FOUND, METHOD_NOT_ALLOWED -----------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/", "/v1", "/v1/no-such-route", "/v2/orders", "/v1/order", "/v1/accounts/acc_default/orders/extra",
    "/v1/orders/", "/v1/accounts/acc_default/",  # a trailing slash is no route either, never a redirect
])
def test_unknown_route_is_not_found(api, load_world, path):
    load_world()
    expect_error(api.get(path), 404, "NOT_FOUND", "fix_input")


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/v1/orders/{A}"),
    ("PATCH", "/v1/orders/{A}"),
    ("POST", "/v1/orders/{A}"),
    ("GET", "/v1/orders"),
    ("DELETE", "/v1/orders"),
    ("POST", "/v1/accounts/acc_default"),
    ("PUT", "/v1/accounts/acc_default/orders"),
    ("DELETE", "/v1/accounts/acc_default/positions"),
    ("DELETE", "/v1/market/status"),
    ("POST", "/v1/quotes/600519"),
    ("POST", "/healthz"),
])
def test_known_route_with_another_method_is_method_not_allowed_and_changes_nothing(api, load_world, method,
                                                                                   path):
    refs = load_world()
    response = api.request(method, path.format(A=refs["A"]))
    expect_error(response, 405, "METHOD_NOT_ALLOWED", "fix_input")
    assert get_order(api, refs["A"])["state"] == "WORKING"


# --- faults: RATE_LIMITED, INTERNAL, SERVICE_UNAVAILABLE -------------------------------------------


def test_rate_limited_answer_carries_retry_after_and_places_nothing(api, sim, load_world):
    load_world()
    arm_fault(sim, kind="error_before_apply", path="/v1/orders", method="POST", status=429, retry_after=7)

    response = place(api, "600519", "BUY", 100, "1680.00")

    expect_error(response, 429, "RATE_LIMITED", "retry")
    assert response.headers["retry-after"] == "7"
    assert len(list_ids(api)) == 3
    expect_ok(place(api, "600519", "BUY", 100, "1680.00"), 201)  # the fault was one-shot


@pytest.mark.parametrize(("status", "code", "hint"), [
    (500, "INTERNAL", "contact_support"),
    (503, "SERVICE_UNAVAILABLE", "retry"),
    (429, "RATE_LIMITED", "retry"),
])
def test_server_fault_before_a_cancel_answers_its_code_and_leaves_the_order_open(api, sim, load_world, status,
                                                                                 code, hint):
    refs = load_world()
    arm_fault(sim, kind="error_before_apply", order_id=refs["A"], status=status)

    response = api.delete(f"/v1/orders/{refs['A']}")

    expect_error(response, status, code, hint)
    for trace in ("Traceback", 'File "', "scripts/broker"):
        assert trace not in response.text
    assert get_order(api, refs["A"])["state"] == "WORKING"
    assert expect_ok(api.delete(f"/v1/orders/{refs['A']}"))["state"] == "CANCELLED"


# --- request ids -----------------------------------------------------------------------------------


def test_every_answer_carries_its_own_request_id(api, anonymous, sim, load_world):
    refs = load_world()
    responses = [
        anonymous.get("/healthz"),
        api.get("/v1/accounts/acc_default"),
        api.get(f"/v1/orders/{refs['A']}"),
        api.get("/v1/no-such-route"),
        api.put(f"/v1/orders/{refs['A']}"),
        anonymous.get("/v1/market/status"),
        api.post("/v1/orders", json={}),
        api.delete(f"/v1/orders/{refs['A']}"),
        sim.get("/v1/sim/requests"),
    ]
    ids = [response.headers.get("x-request-id") for response in responses]
    assert all(ids), ids
    assert len(set(ids)) == len(ids)
    for response in responses:
        if response.status_code >= 400:
            assert response.json()["request_id"] == response.headers["x-request-id"]
