"""`python3 -m scripts.trade`: JSON on stdout, diagnostics on stderr, exit status by recovery_hint."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def out(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def test_orders_lists_the_cancellable_ones_newest_first_with_chinese_state_words(trade, load_world) -> None:
    refs = load_world()
    result = trade("orders", "--status", "NEW,WORKING")
    assert result.returncode == 0
    orders = out(result)["orders"]
    assert [o["order_id"] for o in orders] == [refs["B"], refs["A"]]
    assert [o["state_label"] for o in orders] == ["部成", "已报"]


def test_a_short_id_resolves_against_the_accounts_orders(trade, load_world) -> None:
    refs = load_world()
    tail = refs["B"].rsplit("_", 1)[1]
    for typed in (tail, f"ord_{tail}", refs["B"], tail.upper()):
        assert out(trade("order", typed))["order_id"] == refs["B"], typed


def test_an_unknown_short_id_exits_3_with_order_not_found(trade, load_world) -> None:
    load_world()
    result = trade("order", "zzzzzzzz")
    assert result.returncode == 3
    assert out(result)["error"]["code"] == "ORDER_NOT_FOUND"
    assert "zzzzzzzz" in result.stderr


def test_cancel_of_a_finished_order_reports_the_failure_and_exits_3(trade, load_world, api: httpx.Client) -> None:
    refs = load_world()
    result = trade("cancel", refs["C"], "--yes")
    assert result.returncode == 3
    failure = out(result)["failed"][0]
    assert (failure["code"], failure["recovery_hint"]) == ("ORDER_NOT_CANCELLABLE", "fix_input")


def test_cancel_that_races_a_fill_reports_the_orders_real_state_and_exits_4(trade, load_world, sim) -> None:
    refs = load_world()
    sim.post("/v1/sim/faults", json={"kind": "cancel_races_fill", "order_id": refs["A"]}).raise_for_status()
    result = trade("cancel", refs["A"], "--yes")
    assert result.returncode == 4
    failure = out(result)["failed"][0]
    assert failure["code"] == "CANCEL_FAILED"
    assert failure["order_now"]["state"] == "FILLED"


def test_cancel_in_a_no_cancel_window_exits_5_with_retry_after(trade, load_world) -> None:
    from tests.conftest import BASE_WORLD

    refs = load_world({**BASE_WORLD, "now": "2026-11-24T14:58:00+08:00"})
    result = trade("cancel", refs["A"], "--yes")
    assert result.returncode == 5
    assert out(result)["failed"][0]["details"]["retry_after"].startswith("2026-11-24T15:00")


def test_a_wrong_token_exits_6_and_never_prints_the_token(trade, load_world) -> None:
    load_world()
    result = trade("account", TRADING_API_TOKEN="not-the-token-xyz")
    assert result.returncode == 6
    assert out(result)["error"]["code"] == "UNAUTHENTICATED"
    assert "not-the-token-xyz" not in result.stdout + result.stderr


def test_an_unreachable_broker_exits_4_with_network_error(trade) -> None:
    result = trade("orders", TRADING_API_URL="http://127.0.0.1:9")
    assert result.returncode == 4
    assert out(result)["error"]["code"] == "NETWORK_ERROR"


def test_usage_errors_exit_2(trade) -> None:
    assert trade("cancel").returncode == 2
    assert trade("no-such-command").returncode == 2


def test_table_output_is_for_people(trade, load_world) -> None:
    load_world()
    result = trade("orders", "--status", "NEW,WORKING", "--table")
    assert result.returncode == 0
    assert "贵州茅台" in result.stdout
    assert "部成" in result.stdout
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stdout)


def test_account_carries_the_accounts_kind_and_the_table_says_it_in_chinese(trade, load_world) -> None:
    load_world()
    result = trade("account")
    assert result.returncode == 0, result.stderr
    assert out(result)["environment"] == "paper"
    table = trade("account", "--table")
    assert table.returncode == 0, table.stderr
    assert "模拟账户" in table.stdout


@pytest.mark.parametrize(("args", "env"), [(("--read-only",), {}), ((), {"TRADING_READ_ONLY": "1"})])
def test_cancel_in_read_only_mode_exits_8_and_sends_nothing(trade, load_world, sim, api, args, env) -> None:
    refs = load_world()
    result = trade("cancel", refs["A"], "--yes", *args, **env)
    assert result.returncode == 8
    assert out(result)["error"]["code"] == "READ_ONLY"
    assert "只读模式" in result.stderr
    assert "TRADING_READ_ONLY" in result.stderr
    assert [entry for entry in sim.get("/v1/sim/requests").json()["requests"] if entry["method"] == "DELETE"] == []
    assert api.get(f"/v1/orders/{refs['A']}").json()["state"] in ("NEW", "WORKING")


def test_reading_works_in_read_only_mode(trade, load_world) -> None:
    load_world()
    result = trade("account", "--read-only", TRADING_READ_ONLY="1")
    assert result.returncode == 0, result.stderr
    assert out(result)["environment"] == "paper"
