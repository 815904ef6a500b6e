"""The MCP server's audit trail (issue 15): the preview the user saw, their decision (form or approval page),
the cancel request and its outcome, one session per server process, face "mcp", never the token."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mcp_types as types

from tests.conftest import TEST_TOKEN
from tests.mcp.helpers import accept, run_async
from tests.mcp.test_mcp_cancel import page_form, press, state


def entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_confirmed_form_leaves_preview_approval_request_and_outcome(mcp_server, load_world, api,
                                                                      tmp_path: Path) -> None:
    refs = load_world()
    audit = tmp_path / "audit.jsonl"

    async def scenario() -> None:
        async with mcp_server(answer=accept("确认"), TRADING_AUDIT_LOG=str(audit)) as (client, _):
            await client.call_tool("preview_cancel", {"order_ids": [refs["A"]]})
            await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]})

    run_async(scenario)
    found = entries(audit)
    assert [(entry["event"], entry.get("via")) for entry in found] == [
        ("preview_shown", "preview_cancel"), ("preview_shown", "elicitation"), ("approval", "elicitation"),
        ("cancel_request", None), ("cancel_outcome", None)]
    assert {(entry["face"], entry["account"]) for entry in found} == {("mcp", "acc_default")}
    assert len({entry["session"] for entry in found}) == 1
    assert [entry["seq"] for entry in found] == [1, 2, 3, 4, 5]
    assert found[1]["environment"] == "paper"
    assert "贵州茅台(600519)" in found[1]["text"]
    assert found[2]["decision"] == "approve"
    assert found[3]["order_ids"] == [refs["A"]]
    assert found[4]["results"][0]["ok"] is True
    assert found[4]["results"][0]["state"] == "CANCELLED"
    assert state(api, refs["A"]) == "CANCELLED"
    assert TEST_TOKEN not in audit.read_text(encoding="utf-8")


def test_a_declined_form_is_a_rejection_and_nothing_is_requested(mcp_server, load_world, tmp_path: Path) -> None:
    refs = load_world()
    audit = tmp_path / "audit.jsonl"

    async def scenario() -> None:
        async with mcp_server(answer=lambda _: types.ElicitResult(action="decline"),
                              TRADING_AUDIT_LOG=str(audit)) as (client, _):
            await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]})

    run_async(scenario)
    found = entries(audit)
    assert [entry["event"] for entry in found] == ["preview_shown", "approval"]
    assert found[1]["decision"] == "reject"
    assert found[1]["result"] == "dropped"


def test_the_approval_page_records_its_preview_the_users_press_and_the_cancel(mcp_server, load_world, api,
                                                                            tmp_path: Path) -> None:
    refs = load_world()
    audit = tmp_path / "audit.jsonl"

    async def scenario() -> None:
        async with mcp_server(TRADING_AUDIT_LOG=str(audit)) as (client, _):
            first = await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]})
            url = first.structured_content["approval_url"]
            _, csrf, origin = page_form(url)
            assert press(url, csrf, origin).status_code == 200

    run_async(scenario)
    found = entries(audit)
    assert [(entry["event"], entry.get("via")) for entry in found] == [
        ("preview_shown", "approval_page"), ("approval", "approval_page"), ("cancel_request", None),
        ("cancel_outcome", None)]
    assert found[1]["decision"] == "approve"
    assert state(api, refs["A"]) == "CANCELLED"
    text = audit.read_text(encoding="utf-8")
    assert TEST_TOKEN not in text
    assert url_token_absent(text, found)


def url_token_absent(text: str, found: list[dict[str, Any]]) -> bool:
    """The approval page's one-time link is a credential too: it is not kept in the trail."""
    return "/approve/" not in text and all("approval_url" not in entry for entry in found)


def test_an_unwritable_audit_file_is_said_once_and_the_cancel_still_happens(mcp_server, load_world, api,
                                                                           tmp_path: Path) -> None:
    refs = load_world()
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")

    async def scenario() -> tuple[Any, Any]:
        async with mcp_server(answer=accept("确认"), TRADING_AUDIT_LOG=str(blocked / "audit.jsonl")) as (client, run):
            return await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]}), run

    result, run = run_async(scenario)
    assert result.structured_content["status"] == "cancelled"
    assert state(api, refs["A"]) == "CANCELLED"
    assert run.stderr().count("审计记录写不进") == 1
