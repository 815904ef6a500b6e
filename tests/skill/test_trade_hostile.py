"""The command line under hostile answers and input: no traceback, no token on screen, no other route reached.

Every run is a real subprocess of `python3 -m scripts.trade`; its stdout and stderr are checked whole.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_TOKEN
from tests.skill.odd_server import OddServer, odd_server

ROOT = Path(__file__).resolve().parents[2]
ORDER_ID = "ord_accdefault_abc12345"
SECRET = "s3cret-token-Zq81"
STAMP = "2026-11-24T10:31:05.123+08:00"
ORDER: dict[str, Any] = {
    "order_id": ORDER_ID, "client_order_id": "c1", "account_id": "acc_default", "symbol": "600519",
    "name": "贵州茅台", "exchange": "SH", "side": "BUY", "type": "LIMIT", "qty": 100, "limit_price": "1800.00",
    "filled_qty": 0, "cancelled_qty": 0, "remaining_qty": 100, "avg_fill_price": None, "frozen_cash": "180046.80",
    "state": "WORKING", "reject_reason": None, "created_at": STAMP, "updated_at": STAMP, "fills": [],
    "state_history": [],
}


def run_trade(url: str, *args: str, token: str = TEST_TOKEN) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRADING_API_URL": url, "TRADING_API_TOKEN": token}
    return subprocess.run([sys.executable, "-m", "scripts.trade", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def spellings(token: str) -> set[str]:
    """Every way a token could reach the screen: raw, trimmed, repr-escaped, JSON-escaped."""
    return {token, token.strip(), repr(token)[1:-1], json.dumps(token)[1:-1],
            json.dumps(token, ensure_ascii=False)[1:-1]}


@pytest.fixture
def odd() -> Iterator[OddServer]:
    with odd_server() as server:
        yield server


def test_a_cancel_answered_with_an_empty_object_is_bad_response_and_the_order_is_queried(odd: OddServer) -> None:
    odd.answer("GET", f"/v1/orders/{ORDER_ID}", 200, ORDER)
    odd.answer("DELETE", f"/v1/orders/{ORDER_ID}", 200, {})

    result = run_trade(odd.url, "cancel", ORDER_ID, "--yes")

    assert "Traceback" not in result.stderr
    assert result.returncode == 7, result.stderr
    failure = json.loads(result.stdout)["failed"][0]
    assert failure["code"] == "BAD_RESPONSE"
    assert failure["order_now"]["state"] == "WORKING"  # the user sees the order's real state
    assert [seen for seen in odd.seen if seen[0] == "DELETE"] == [("DELETE", f"/v1/orders/{ORDER_ID}")]


ODD_SHAPES = [{}, [], None, "text", {"orders": None}, {"orders": [{}]}, {"cash": None, "positions": 3},
              {"instruments": [{"symbol": 600519}]}]
COMMANDS = [
    (("orders",), "/v1/accounts/acc_default/orders"),
    (("order", ORDER_ID), f"/v1/orders/{ORDER_ID}"),
    (("account",), "/v1/accounts/acc_default"),
    (("positions",), "/v1/accounts/acc_default/positions"),
    (("instruments", "茅台"), "/v1/instruments"),
    (("quote", "600519"), "/v1/quotes/600519"),
    (("market",), "/v1/market/status"),
]


@pytest.mark.parametrize("shape", ODD_SHAPES, ids=[json.dumps(shape)[:30] for shape in ODD_SHAPES])
def test_every_command_meets_an_odd_shape_with_bad_response_not_a_traceback(odd: OddServer, shape: Any) -> None:
    for args, path in COMMANDS:
        odd.answer("GET", path, 200, json.dumps(shape))
        result = run_trade(odd.url, *args)
        assert "Traceback" not in result.stderr, (args, result.stderr)
        assert result.returncode == 7, (args, result.stderr)
        assert json.loads(result.stdout)["error"]["code"] == "BAD_RESPONSE", args


@pytest.mark.parametrize("token", [SECRET + "\n", SECRET + "\r\n", "\t" + SECRET, SECRET + " x", SECRET + "é",
                                   "令牌" + SECRET, SECRET + "\x1b[0m", SECRET + "\x7f"])
def test_a_token_with_control_or_non_ascii_characters_is_refused_and_never_printed(odd: OddServer,
                                                                                   token: str) -> None:
    odd.answer("GET", "/v1/accounts/acc_default", 401, {"code": "UNAUTHENTICATED", "message": "bad {auth}",
                                                         "recovery_hint": "reauthenticate"})
    for args in (("account",), ("orders",), ("cancel", ORDER_ID, "--yes")):
        result = run_trade(odd.url, *args, token=token)
        printed = result.stdout + result.stderr
        assert "Traceback" not in printed
        assert result.returncode == 6, (token, args, printed)
        assert "TRADING_API_TOKEN" in printed
        for spelling in spellings(token):
            assert spelling not in printed, (token, args)
    assert odd.seen == []  # nothing was sent


def test_a_token_the_server_echoes_in_message_or_details_is_never_printed(odd: OddServer) -> None:
    odd.answer("GET", "/v1/accounts/acc_default", 409, {
        "code": "INSUFFICIENT_CASH", "recovery_hint": "fix_input", "message": "you sent {auth}",
        "details": {"echo": "{auth}", "nested": [{"header": "{auth}"}], "{auth}": 1}})

    result = run_trade(odd.url, "account", token=SECRET)

    assert result.returncode == 3
    printed = result.stdout + result.stderr
    for spelling in spellings(SECRET):
        assert spelling not in printed
    assert "***" in json.loads(result.stdout)["error"]["details"]["echo"]


def test_a_path_typed_as_a_symbol_never_reaches_another_route(trade, load_world) -> None:
    load_world()
    for typed in ("../accounts/acc_default", "..", ".", "600519/../../accounts/acc_default", "%2e%2e"):
        result = trade("quote", typed)
        assert result.returncode == 3, (typed, result.stdout)
        assert "cash" not in result.stdout
        assert json.loads(result.stdout)["error"]["code"] in {"INSTRUMENT_NOT_FOUND", "NOT_FOUND"}


def test_a_name_where_a_code_is_expected_is_looked_up(trade, load_world) -> None:
    refs = load_world()
    result = trade("orders", "--symbol", "茅台")
    assert result.returncode == 0, result.stderr
    assert [order["order_id"] for order in json.loads(result.stdout)["orders"]] == [refs["A"]]


def test_a_name_that_finds_no_instrument_is_refused_not_an_empty_list(trade, load_world) -> None:
    load_world()
    result = trade("orders", "--symbol", "不存在的公司名")
    assert result.returncode == 3
    assert json.loads(result.stdout)["error"]["code"] == "INSTRUMENT_NOT_FOUND"
