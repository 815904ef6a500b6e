"""The chat's audit trail (issue 15), with the offline engine against the paper broker over real HTTP: what was
shown, what the user answered and how it was read, what was sent and what came back."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from scripts._http import Client
from scripts.assistant import Assistant
from scripts.audit import AuditLog
from tests.assistant.offline_worlds import MAOTAI_BUY_RELEASED, SINGLE_MAOTAI, TWO_MAOTAI_BUYS
from tests.audit.conftest import OfflineChat, entries, events, only

Start = Callable[..., OfflineChat]
UTC_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_a_preview_confirmed_and_cancelled_leaves_every_step_in_order(audit_path: Path, offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    preview = chat.say("撤掉刚才那单")
    done = chat.say("确认")

    assert chat.state("A") == "CANCELLED"
    assert events(audit_path) == ["preview_shown", "answer", "cancel_request", "cancel_outcome", "cancel_reported"]
    found = entries(audit_path)
    assert {entry["session"] for entry in found} == {chat.assistant.audit.session}
    assert [entry["seq"] for entry in found] == [1, 2, 3, 4, 5]
    for entry in found:
        assert UTC_STAMP.match(entry["ts"]), entry["ts"]
        assert (entry["face"], entry["engine"], entry["account"], entry["environment"]) == (
            "chat", "offline", "acc_default", "paper")

    shown = only(audit_path, "preview_shown")
    assert shown["order_ids"] == [chat.refs["A"]]
    assert shown["text"] == preview.pending.text  # exactly the preview the user read
    assert shown["text"] in shown["reply"]
    assert shown["reply"] == preview.text
    assert shown["asks"] == 1
    [facts] = shown["orders"]
    assert (facts["symbol"], facts["side"], facts["qty"], facts["limit_price"]) == ("600519", "BUY", 100, "1800.00")

    answer = only(audit_path, "answer")
    assert (answer["words"], answer["kind"], answer["result"]) == ("确认", "yes", "confirmed")
    assert answer["order_ids"] == [chat.refs["A"]]
    assert only(audit_path, "cancel_request")["order_ids"] == [chat.refs["A"]]
    outcome = only(audit_path, "cancel_outcome")
    assert outcome["results"] == [{"order_id": chat.refs["A"], "ok": True, "state": "CANCELLED",
                                   "released": {"cash": "180046.80", "qty": 0}}]
    assert (outcome["cancelled"], outcome["failed"]) == ([chat.refs["A"]], [])
    reported = only(audit_path, "cancel_reported")
    assert reported["text"] == done.text
    assert MAOTAI_BUY_RELEASED in reported["text"]


def test_a_declined_preview_records_the_words_and_that_nothing_was_sent(audit_path: Path, offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    chat.say("撤掉刚才那单")
    chat.say("算了，先不撤了")

    assert chat.state("A") == "WORKING"
    assert events(audit_path) == ["preview_shown", "answer"]
    answer = only(audit_path, "answer")
    assert (answer["words"], answer["kind"], answer["result"], answer["reason"]) == (
        "算了，先不撤了", "no", "dropped", "declined")


def test_a_weak_answer_is_recorded_as_such_and_the_preview_shown_again(audit_path: Path, offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    chat.say("撤掉刚才那单")
    chat.say("嗯")
    chat.say("好")

    assert events(audit_path) == ["preview_shown", "answer", "preview_shown", "answer"]
    first, second = [entry for entry in entries(audit_path) if entry["event"] == "answer"]
    assert (first["words"], first["kind"], first["result"]) == ("嗯", "weak", "asked_again")
    assert (second["words"], second["kind"], second["result"], second["reason"]) == (
        "好", "weak", "dropped", "unconfirmed")
    assert [entry["asks"] for entry in entries(audit_path) if entry["event"] == "preview_shown"] == [1, 2]
    assert chat.deleted_ids() == []


def test_a_restatement_of_other_orders_is_recorded_as_a_mismatch(audit_path: Path, offline_chat: Start) -> None:
    chat = offline_chat(TWO_MAOTAI_BUYS)
    chat.say("把茅台1000股那笔撤了")
    chat.say("确认，两笔都撤")

    answer = only(audit_path, "answer")
    assert (answer["kind"], answer["result"], answer["reason"]) == ("mismatch", "dropped", "mismatch")
    assert chat.deleted_ids() == []


def test_ordinary_messages_without_a_pending_preview_are_not_recorded(audit_path: Path, offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    chat.say("我有哪些委托")
    chat.say("可用资金还有多少")
    assert not audit_path.exists()


def test_approve_and_reject_buttons_are_recorded_as_approvals(audit_path: Path, offline_chat: Start) -> None:
    chat = offline_chat(TWO_MAOTAI_BUYS)
    chat.say("把茅台1000股那笔撤了")
    chat.assistant.reject()
    chat.assistant.reject()  # nothing pending any more
    chat.say("把茅台1000股那笔撤了")
    chat.assistant.approve()

    assert chat.state("B") == "CANCELLED"
    approvals = [entry for entry in entries(audit_path) if entry["event"] == "approval"]
    assert [(a["decision"], a["via"], a["result"], a.get("reason")) for a in approvals] == [
        ("reject", "button", "dropped", "declined"), ("reject", "button", "nothing_pending", None),
        ("approve", "button", "confirmed", None)]
    assert approvals[0]["order_ids"] == approvals[2]["order_ids"] == [chat.refs["B"]]
    assert events(audit_path)[-3:] == ["cancel_request", "cancel_outcome", "cancel_reported"]


def test_a_cancel_that_raced_a_fill_records_the_error_and_the_real_state(audit_path: Path,
                                                                        offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    chat.say("撤掉刚才那单")
    chat.arm("cancel_races_fill", "A")
    reply = chat.say("确认")

    outcome = only(audit_path, "cancel_outcome")
    assert outcome["results"] == [{"order_id": chat.refs["A"], "ok": False, "code": "CANCEL_FAILED",
                                   "state_now": "FILLED"}]
    assert (outcome["cancelled"], outcome["failed"]) == ([], [chat.refs["A"]])
    assert only(audit_path, "cancel_reported")["text"] == reply.text


def test_an_outcome_unknown_cancel_records_the_code_and_the_state_queried_after(audit_path: Path,
                                                                                 offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI, timeout=httpx.Timeout(0.5, connect=5.0))
    chat.say("撤掉刚才那单")
    chat.arm("delay_after_apply", "A", seconds=1.5)
    reply = chat.say("确认")

    assert "不确定是否撤销成功" in reply.text
    outcome = only(audit_path, "cancel_outcome")
    assert outcome["results"] == [{"order_id": chat.refs["A"], "ok": False, "code": "OUTCOME_UNKNOWN",
                                   "state_now": "CANCELLED"}]
    assert events(audit_path).index("cancel_request") < events(audit_path).index("cancel_outcome")


def test_a_cancel_the_gate_refuses_is_recorded_and_nothing_is_sent(audit_path: Path, offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    result = chat.assistant.tools.call("cancel_orders", {"order_ids": [chat.short("A")]})

    assert result.content["error"]["code"] == "CONFIRMATION_REQUIRED"
    refused = only(audit_path, "cancel_refused")
    assert (refused["reason"], refused["order_ids"]) == ("no_preview", [chat.refs["A"]])
    assert chat.deleted_ids() == []


def test_the_claude_engine_leaves_the_same_entries_with_its_own_name(audit_path: Path, client, endpoint) -> None:
    from scripts.assistant import Assistant
    from tests.assistant.cancel_world import BUY_MAOTAI
    from tests.assistant.scripted_anthropic import text, tool_use, turn

    chat = Assistant(client, engine="claude", api_key="test-key", base_url=endpoint.url)
    endpoint.script(turn(tool_use("preview_cancel", {"order_ids": ["abc12345"]})),
                    turn(text("我将为您撤销这笔茅台买单。")))
    preview = chat.send("把茅台那笔买单撤了")
    endpoint.script(turn(tool_use("cancel_orders", {"order_ids": [BUY_MAOTAI]})), turn(text("已撤单。")))
    chat.send("是的，撤吧")

    assert events(audit_path) == ["preview_shown", "answer", "cancel_request", "cancel_outcome", "cancel_reported"]
    assert {(entry["face"], entry["engine"]) for entry in entries(audit_path)} == {("chat", "claude")}
    shown = only(audit_path, "preview_shown")
    assert shown["reply"] == preview.text  # the model's words and the project's preview, as the user read them
    assert shown["reply"].startswith("我将为您撤销这笔茅台买单。")
    answer = only(audit_path, "answer")
    assert (answer["words"], answer["kind"], answer["result"]) == ("是的，撤吧", "yes", "confirmed")
    assert only(audit_path, "cancel_outcome")["cancelled"] == [BUY_MAOTAI]


def test_an_entry_sends_no_request_of_its_own_even_with_the_broker_down(tmp_path: Path) -> None:
    # Nothing listens on port 9 of the loopback: a request for the account's kind would spend the Client's
    # retry budget for a refused connection (seconds) before the entry could be written.
    path = tmp_path / "audit.jsonl"
    with Client(base_url="http://127.0.0.1:9", token="unused-token") as client:
        assistant = Assistant(client, engine="offline", audit=AuditLog(path, face="chat"))
        started = time.monotonic()
        assistant.approve()  # nothing pending: one "approval" entry, and no request is needed to say so
        elapsed = time.monotonic() - started
    entry = only(path, "approval")
    assert (entry["result"], entry["environment"]) == ("nothing_pending", "unknown")
    assert elapsed < 1.0
