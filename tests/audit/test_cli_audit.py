"""The command line's audit trail: `cancel --dry-run` is a preview shown, `cancel --yes` an approval, a request
and its outcome; `trade audit` shows the last entries (JSON, or a table)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.audit.conftest import entries, events, only

Trade = Callable[..., Any]


def test_a_dry_run_then_yes_records_the_preview_the_approval_and_the_cancel(audit_path: Path, trade: Trade,
                                                                            load_world) -> None:
    refs = load_world()
    assert trade("cancel", refs["A"], "--dry-run").returncode == 0
    done = trade("cancel", refs["A"], "--yes")

    assert done.returncode == 0
    assert events(audit_path) == ["preview_shown", "approval", "cancel_request", "cancel_outcome"]
    found = entries(audit_path)
    assert all((e["face"], e["account"], e["environment"]) == ("cli", "acc_default", "paper") for e in found)
    assert "engine" not in found[0]
    assert found[0]["session"] != found[1]["session"]  # one session per invocation
    assert len({entry["session"] for entry in found[1:]}) == 1
    shown = found[0]
    assert (shown["order_ids"], shown["dry_run"], shown["not_cancellable"]) == ([refs["A"]], True, [])
    assert shown["orders"][0]["would_release"] == {"cash": shown["orders"][0]["frozen_cash"], "qty": 0}
    approval = only(audit_path, "approval")
    assert (approval["decision"], approval["via"], approval["order_ids"]) == ("approve", "--yes", [refs["A"]])
    outcome = only(audit_path, "cancel_outcome")
    [row] = outcome["results"]
    assert (row["ok"], row["state"]) == (True, "CANCELLED")
    assert row["released"] == json.loads(done.stdout)["cancelled"][0]["released"]


def test_a_preview_without_yes_is_recorded_as_shown_and_nothing_is_sent(audit_path: Path, trade: Trade,
                                                                         load_world) -> None:
    refs = load_world()
    assert trade("cancel", refs["A"]).returncode == 2
    assert events(audit_path) == ["preview_shown"]
    assert only(audit_path, "preview_shown")["dry_run"] is False


def test_a_cancel_of_a_filled_order_records_order_not_cancellable(audit_path: Path, trade: Trade,
                                                                  load_world) -> None:
    refs = load_world()
    result = trade("cancel", refs["C"], "--yes")
    assert result.returncode == 3
    outcome = only(audit_path, "cancel_outcome")
    assert outcome["results"] == [{"order_id": refs["C"], "ok": False, "code": "ORDER_NOT_CANCELLABLE",
                                   "state_now": None}]
    assert outcome["failed"] == [refs["C"]]


def test_an_outcome_unknown_cancel_on_the_command_line_records_the_state_after(audit_path: Path, trade: Trade,
                                                                               load_world, sim) -> None:
    refs = load_world()
    sim.post("/v1/sim/faults", json={"kind": "drop_connection", "order_id": refs["A"]}).raise_for_status()
    result = trade("cancel", refs["A"], "--yes")
    assert json.loads(result.stdout)["failed"][0]["code"] == "OUTCOME_UNKNOWN"
    [row] = only(audit_path, "cancel_outcome")["results"]
    assert (row["code"], row["state_now"]) == ("OUTCOME_UNKNOWN", "WORKING")


def test_read_only_refusal_is_recorded_and_nothing_is_sent(audit_path: Path, trade: Trade, load_world,
                                                           api: httpx.Client) -> None:
    refs = load_world()
    assert trade("cancel", refs["A"], "--yes", "--read-only").returncode == 8
    refused = only(audit_path, "cancel_refused")
    assert (refused["reason"], refused["order_ids"]) == ("read_only", [refs["A"]])
    assert api.get(f"/v1/orders/{refs['A']}").json()["state"] == "WORKING"


def test_trade_audit_shows_the_last_entries_as_json_and_as_a_table(audit_path: Path, trade: Trade,
                                                                   load_world) -> None:
    refs = load_world()
    trade("cancel", refs["A"], "--dry-run")
    trade("cancel", refs["A"], "--yes")

    shown = trade("audit")
    assert shown.returncode == 0
    body = json.loads(shown.stdout)
    assert body["path"] == str(audit_path)
    assert [entry["event"] for entry in body["entries"]] == events(audit_path)
    assert body["skipped_lines"] == []
    last_two = json.loads(trade("audit", "--last", "2").stdout)["entries"]
    assert [entry["event"] for entry in last_two] == ["cancel_request", "cancel_outcome"]

    table = trade("audit", "--table")
    assert table.returncode == 0
    for words in ("审计记录", "显示撤单预览", "批准/拒绝", "撤单结果", "cli", "模拟账户", refs["A"].rsplit("_", 1)[-1],
                  "已撤", "释放"):
        assert words in table.stdout, words


def test_trade_audit_needs_no_broker_and_says_when_the_log_is_off(trade: Trade) -> None:
    result = trade("audit", TRADING_AUDIT_LOG="off", TRADING_API_URL="http://127.0.0.1:9")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"path": None, "entries": [], "skipped_lines": []}
    assert "审计记录已关闭" in result.stderr


def test_a_log_turned_off_writes_nothing(tmp_path: Path, trade: Trade, load_world, monkeypatch) -> None:
    refs = load_world()
    monkeypatch.chdir(tmp_path)
    result = trade("cancel", refs["A"], "--yes", TRADING_AUDIT_LOG="off", HOME=str(tmp_path),
                   XDG_DATA_HOME=str(tmp_path / "data"))
    assert result.returncode == 0
    assert list(tmp_path.rglob("*.jsonl")) == []
