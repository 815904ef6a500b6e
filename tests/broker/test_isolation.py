"""Accounts are isolated by token: an account or order the token does not grant is answered exactly as one
that does not exist (404, the same body), nothing is changed, and no credential ever comes back out, in an
answer, in the broker's stderr or in its database file. Requests without a valid bearer token get 401.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.broker._broker_process import broker_process
from tests.conftest import NOW, OTHER_TOKEN, TEST_TOKEN

MINE, OTHER = "acc_default", "acc_other"
MISSING_ACCOUNT = "acc_unknown"  # as long as acc_default, so the two answers can be compared byte for byte
MISSING_ORDER = "ord_accdefault_zz99zz99"

TWO_ACCOUNTS: dict[str, Any] = {
    "now": NOW,
    "accounts": [
        {"account_id": MINE, "token": TEST_TOKEN, "cash": "1000000.00",
         "positions": [{"symbol": "600519", "qty": 200, "avg_cost": "1700.00"}]},
        {"account_id": OTHER, "token": OTHER_TOKEN, "cash": "500000.00",
         "positions": [{"symbol": "000001", "qty": 1000, "avg_cost": "10.20"}]},
    ],
    "prices": {"600519": {"last": "1690.00", "prev_close": "1700.00"}, "000001": {"last": "10.50"}},
    "orders": [
        {"ref": "my_buy", "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1650.00", "at": "10:05:00",
         "client_order_id": "shared-client-id-1"},
        {"ref": "my_sell", "symbol": "600519", "side": "SELL", "qty": 100, "limit_price": "1750.00",
         "at": "10:06:00"},
        {"ref": "my_filled", "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1680.00",
         "at": "09:45:00", "state": "FILLED"},
        {"ref": "other_buy", "account_id": OTHER, "symbol": "000001", "side": "BUY", "qty": 1000,
         "limit_price": "10.30", "at": "10:10:00"},
    ],
}


def client(broker_url: str, authorization: str | None) -> httpx.Client:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return httpx.Client(base_url=broker_url, headers=headers, timeout=10)


@pytest.fixture
def two_accounts(load_world: Callable[..., dict[str, str]]) -> dict[str, str]:
    return load_world(TWO_ACCOUNTS)


@pytest.fixture
def mine(broker_url: str) -> Iterator[httpx.Client]:
    with client(broker_url, f"Bearer {TEST_TOKEN}") as api:
        yield api


@pytest.fixture
def other(broker_url: str) -> Iterator[httpx.Client]:
    with client(broker_url, f"Bearer {OTHER_TOKEN}") as api:
        yield api


def everything_of(api: httpx.Client, account_id: str) -> dict[str, Any]:
    """What an account's owner can read (a refused request must leave all of it as it was)."""
    account = api.get(f"/v1/accounts/{account_id}")
    orders = api.get(f"/v1/accounts/{account_id}/orders")
    assert account.status_code == orders.status_code == 200
    return {"account": account.json(), "orders": orders.json()}


def assert_answered_as_missing(granted_elsewhere: httpx.Response, missing: httpx.Response, real_id: str,
                               missing_id: str) -> None:
    """The answer about something that exists for another token is the answer about nothing at all."""
    assert granted_elsewhere.status_code == missing.status_code == 404, granted_elsewhere.text
    leaked, expected = granted_elsewhere.json(), missing.json()
    assert leaked.pop("request_id") != expected.pop("request_id")
    assert leaked["message"] == expected["message"].replace(missing_id, real_id), (leaked, expected)
    assert {**leaked, "message": ""} == {**expected, "message": ""}
    names = {name for name in granted_elsewhere.headers if name not in ("date", "x-request-id")}
    assert names == {name for name in missing.headers if name not in ("date", "x-request-id")}
    for name in names:
        assert granted_elsewhere.headers[name] == missing.headers[name], name


def test_another_accounts_order_reads_as_not_found_exactly_like_a_missing_one(
        two_accounts: dict[str, str], other: httpx.Client) -> None:
    for ref in ("my_buy", "my_filled"):
        leaked = other.get(f"/v1/orders/{two_accounts[ref]}")
        assert leaked.json()["code"] == "ORDER_NOT_FOUND"
        assert_answered_as_missing(leaked, other.get(f"/v1/orders/{MISSING_ORDER}"), two_accounts[ref],
                                   MISSING_ORDER)


@pytest.mark.parametrize("ref", ["my_buy", "my_sell", "my_filled"])
def test_cancelling_another_accounts_order_is_not_found_and_leaves_it_and_the_cash_untouched(
        two_accounts: dict[str, str], mine: httpx.Client, other: httpx.Client, ref: str) -> None:
    before = everything_of(mine, MINE)
    before_other = everything_of(other, OTHER)
    leaked = other.delete(f"/v1/orders/{two_accounts[ref]}")
    assert leaked.json()["code"] == "ORDER_NOT_FOUND"
    assert_answered_as_missing(leaked, other.delete(f"/v1/orders/{MISSING_ORDER}"), two_accounts[ref],
                               MISSING_ORDER)
    assert everything_of(mine, MINE) == before
    assert everything_of(other, OTHER) == before_other
    assert mine.get(f"/v1/orders/{two_accounts[ref]}").json()["state"] == ("FILLED" if ref == "my_filled"
                                                                          else "WORKING")


ACCOUNT_REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/v1/accounts/{account}", {}),
    ("GET", "/v1/accounts/{account}/positions", {}),
    ("GET", "/v1/accounts/{account}/orders", {}),
    ("GET", "/v1/accounts/{account}/orders", {"status": "NEW,WORKING", "symbol": "600519"}),
    ("DELETE", "/v1/accounts/{account}/orders", {}),
    ("DELETE", "/v1/accounts/{account}/orders", {"symbol": "600519", "side": "BUY"}),
    ("DELETE", "/v1/accounts/{account}/orders", {"order_ids": "{my_buy},{my_sell}"}),
]


@pytest.mark.parametrize(("method", "path", "params"), ACCOUNT_REQUESTS,
                         ids=[f"{m} {p.rsplit('}', 1)[1] or '/'} {','.join(q)}" for m, p, q in ACCOUNT_REQUESTS])
def test_another_account_is_answered_exactly_like_a_missing_one_and_nothing_changes(
        two_accounts: dict[str, str], mine: httpx.Client, other: httpx.Client, method: str, path: str,
        params: dict[str, str]) -> None:
    before = everything_of(mine, MINE)
    query = {name: value.format(**two_accounts) for name, value in params.items()}
    leaked = other.request(method, path.format(account=MINE), params=query)
    assert leaked.json()["code"] == "ACCOUNT_NOT_FOUND", leaked.text
    missing = other.request(method, path.format(account=MISSING_ACCOUNT), params=query)
    assert_answered_as_missing(leaked, missing, MINE, MISSING_ACCOUNT)
    assert everything_of(mine, MINE) == before


def test_a_batch_cancel_from_ones_own_account_naming_anothers_orders_reports_each_as_not_found(
        two_accounts: dict[str, str], mine: httpx.Client, other: httpx.Client) -> None:
    before = everything_of(mine, MINE)
    named = [two_accounts["my_buy"], two_accounts["other_buy"], two_accounts["my_filled"], MISSING_ORDER,
             two_accounts["my_sell"]]
    response = other.delete(f"/v1/accounts/{OTHER}/orders", params={"order_ids": ",".join(named)})
    assert response.status_code == 200, response.text
    results = {item["order_id"]: item for item in response.json()["results"]}
    assert list(results) == named
    # The other account's own order is cancelled; each of mine is "not found", like the missing id.
    assert results[two_accounts["other_buy"]]["ok"] is True
    assert results[two_accounts["other_buy"]]["order"]["state"] == "CANCELLED"
    missing_error = dict(results[MISSING_ORDER]["error"])
    assert missing_error["code"] == "ORDER_NOT_FOUND"
    for ref in ("my_buy", "my_filled", "my_sell"):
        item = results[two_accounts[ref]]
        assert (item["ok"], item.get("order")) == (False, None), item
        assert item["error"] == {**missing_error, "message": missing_error["message"].replace(
            MISSING_ORDER, two_accounts[ref])}
    assert everything_of(mine, MINE) == before


def test_placing_an_order_for_another_account_is_answered_like_a_missing_account_and_creates_nothing(
        two_accounts: dict[str, str], mine: httpx.Client, other: httpx.Client) -> None:
    before, before_other = everything_of(mine, MINE), everything_of(other, OTHER)
    body = {"symbol": "600519", "side": "BUY", "qty": 100, "type": "LIMIT", "limit_price": "1600.00"}
    leaked = other.post("/v1/orders", json={"account_id": MINE, **body})
    assert leaked.json()["code"] == "ACCOUNT_NOT_FOUND", leaked.text
    missing = other.post("/v1/orders", json={"account_id": MISSING_ACCOUNT, **body})
    assert_answered_as_missing(leaked, missing, MINE, MISSING_ACCOUNT)
    assert everything_of(mine, MINE) == before
    assert everything_of(other, OTHER) == before_other


def test_a_client_order_id_used_by_another_account_neither_returns_nor_reveals_its_order(
        two_accounts: dict[str, str], mine: httpx.Client, other: httpx.Client) -> None:
    body = {"account_id": OTHER, "symbol": "000001", "side": "BUY", "qty": 100, "type": "LIMIT",
            "limit_price": "10.00", "client_order_id": "shared-client-id-1"}
    placed = other.post("/v1/orders", json=body)
    assert placed.status_code == 201, placed.text  # a new order: not 200 with mine, not IDEMPOTENCY_CONFLICT
    assert placed.json()["account_id"] == OTHER
    assert placed.json()["order_id"] != two_accounts["my_buy"]
    assert mine.get(f"/v1/orders/{two_accounts['my_buy']}").json()["client_order_id"] == "shared-client-id-1"


def test_each_token_lists_only_its_own_accounts_orders(two_accounts: dict[str, str], mine: httpx.Client,
                                                      other: httpx.Client) -> None:
    my_ids = {o["order_id"] for o in everything_of(mine, MINE)["orders"]["orders"]}
    other_ids = {o["order_id"] for o in everything_of(other, OTHER)["orders"]["orders"]}
    assert my_ids == {two_accounts[ref] for ref in ("my_buy", "my_sell", "my_filled")}
    assert other_ids == {two_accounts["other_buy"]}


# --- authentication --------------------------------------------------------------------------------------

BAD_AUTHORIZATION = {
    "missing": None,
    "unknown token": "Bearer not-a-token-anyone-was-given",
    "known token with a suffix": f"Bearer {TEST_TOKEN}x",
    "known token without a scheme": TEST_TOKEN,
    "another scheme": f"Basic {TEST_TOKEN}",
    "scheme without a token": "Bearer",
    "empty": "",
}


def v1_requests(ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every /v1 trading route (simulation control is not part of the trading API)."""
    order = ids["my_buy"]
    return [
        ("GET", "/v1/instruments?q=600519", None),
        ("GET", "/v1/instruments/600519", None),
        ("GET", "/v1/quotes/600519", None),
        ("GET", "/v1/market/status", None),
        ("POST", "/v1/orders", {"account_id": MINE, "symbol": "600519", "side": "BUY", "qty": 100,
                                "type": "LIMIT", "limit_price": "1600.00"}),
        ("GET", f"/v1/orders/{order}", None),
        ("DELETE", f"/v1/orders/{order}", None),
        ("GET", f"/v1/accounts/{MINE}", None),
        ("GET", f"/v1/accounts/{MINE}/positions", None),
        ("GET", f"/v1/accounts/{MINE}/orders", None),
        ("DELETE", f"/v1/accounts/{MINE}/orders", None),
        ("DELETE", f"/v1/accounts/{MINE}/orders?order_ids={order}", None),
        # Authentication comes before validation: a malformed request learns nothing either.
        ("POST", "/v1/orders", {"account_id": MINE, "qty": "x"}),
        ("GET", f"/v1/accounts/{MINE}/orders?status=BOGUS&limit=9999", None),
        ("GET", "/v1/instruments", None),
    ]


@pytest.mark.parametrize("authorization", list(BAD_AUTHORIZATION.values()), ids=list(BAD_AUTHORIZATION))
def test_every_v1_route_answers_401_unauthenticated_without_a_valid_bearer_token_and_changes_nothing(
        two_accounts: dict[str, str], broker_url: str, mine: httpx.Client, authorization: str | None) -> None:
    before = everything_of(mine, MINE)
    with client(broker_url, authorization) as anonymous:
        for method, path, body in v1_requests(two_accounts):
            response = anonymous.request(method, path, json=body)
            assert response.status_code == 401, f"{method} {path}: {response.text}"
            error = response.json()
            assert (error["code"], error["recovery_hint"]) == ("UNAUTHENTICATED", "reauthenticate"), error
            assert error["request_id"] == response.headers["x-request-id"]
    assert everything_of(mine, MINE) == before


def test_healthz_answers_without_any_authorization(broker_url: str) -> None:
    with client(broker_url, None) as anonymous:
        response = anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# --- no credential comes back out --------------------------------------------------------------------------


def test_no_answer_carries_a_token_in_its_body_or_headers(two_accounts: dict[str, str], broker_url: str,
                                                          sim: httpx.Client) -> None:
    tokens = (TEST_TOKEN, OTHER_TOKEN, f"{TEST_TOKEN}x")
    answers: list[httpx.Response] = []
    for authorization in (f"Bearer {TEST_TOKEN}", f"Bearer {OTHER_TOKEN}", f"Bearer {TEST_TOKEN}x", TEST_TOKEN):
        with client(broker_url, authorization) as api:
            answers += [api.request(method, path, json=body) for method, path, body in v1_requests(two_accounts)]
            answers += [api.post("/v1/orders", json={"account_id": MINE, "symbol": "600519", "qty": "x"}),
                        api.get("/v1/no-such-route"), api.put(f"/v1/orders/{two_accounts['my_buy']}")]
    answers += [sim.get("/v1/sim/requests"), sim.get("/openapi.json"), sim.get("/healthz")]
    assert {answer.status_code for answer in answers} >= {200, 401, 404, 405, 422}
    for answer in answers:
        seen = answer.text + "\n".join(f"{name}: {value}" for name, value in answer.headers.items())
        for token in tokens:
            assert token not in seen, f"{answer.request.method} {answer.request.url} gave back a token"


@pytest.mark.parametrize("sim_mode", [True, False], ids=["sim", "no-sim"])
def test_the_startup_token_never_reaches_the_brokers_stderr_or_its_database_file(
        tmp_path: Path, sim_mode: bool) -> None:
    token = "isolation-secret-token-5c1e0b7a"
    db, stderr = tmp_path / "broker.db", tmp_path / "stderr.txt"
    with broker_process(db, token, sim=sim_mode, stderr_path=stderr) as broker:
        answers = []
        for authorization in (f"Bearer {token}", f"Bearer {token}-wrong", token, None):
            with client(broker.url, authorization) as api:
                answers += [
                    api.get(f"/v1/accounts/{MINE}"),
                    api.post("/v1/orders", json={"account_id": MINE, "symbol": "600519", "side": "BUY",
                                                 "qty": 100, "type": "LIMIT", "limit_price": "1.00"}),
                    api.post("/v1/orders", json={"account_id": MINE, "symbol": "000001", "side": "BUY",
                                                 "qty": 100, "type": "LIMIT", "limit_price": "9.50"}),
                    api.delete(f"/v1/orders/{MISSING_ORDER}"),
                    api.get("/v1/no-such-route"),
                ]
        assert {answer.status_code for answer in answers} >= {201, 401, 404, 422}
        assert broker.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    for answer in answers:
        assert token not in answer.text + str(answer.headers)
    assert token not in broker.stderr_text()
    assert "Paper broker serving acc_default" in broker.stderr_text()  # the log was captured at all
    for stored in tmp_path.glob("broker.db*"):
        assert token.encode() not in stored.read_bytes(), f"{stored.name} holds the token in clear"
