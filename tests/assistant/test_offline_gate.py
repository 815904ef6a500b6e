"""The confirmation gate as the offline engine meets it: nothing is cancelled without a preview of exactly
those orders and an explicit yes in the user's next message. Each test reads the broker's request log, so a
DELETE that slipped through would show.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from scripts.assistant import ReplyKind, classify_reply
from tests.assistant.conftest import OfflineChat
from tests.assistant.offline_worlds import EVERYDAY, MAOTAI_BUY_RELEASED, SINGLE_MAOTAI

Start = Callable[..., OfflineChat]


@pytest.mark.parametrize("weak", ["好", "嗯", "ok", "好的", "嗯嗯", "行"])
def test_a_weak_reply_gets_one_shorter_question_and_the_next_explicit_yes_cancels(offline_chat: Start,
                                                                                  weak: str) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    chat.say("撤掉刚才那单")
    again = chat.say(weak)
    assert again.question == "confirm"
    assert chat.pending_ids(again) == chat.ids("A")
    assert "确认" in again.text
    assert MAOTAI_BUY_RELEASED not in again.text
    assert chat.requests("DELETE") == []
    assert chat.state("A") == "WORKING"
    done = chat.say("确认")
    assert chat.state("A") == "CANCELLED"
    assert MAOTAI_BUY_RELEASED in done.text


def test_two_weak_replies_in_a_row_end_the_question_without_a_cancel(offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    chat.say("撤掉刚才那单")
    chat.say("嗯")
    last = chat.say("嗯")
    assert last.question is None
    assert last.pending is None
    assert chat.requests("DELETE") == []
    assert chat.state("A") == "WORKING"


@pytest.mark.parametrize("no", ["不", "别撤", "算了", "先不撤", "不撤了", "取消", "我再想想", "no, keep it", "等等",
                                "确认不撤"])
def test_a_negation_never_confirms(offline_chat: Start, no: str) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    chat.say("撤掉刚才那单")
    reply = chat.say(no)
    assert reply.pending is None
    assert reply.question is None
    assert chat.requests("DELETE") == []
    assert chat.state("A") == "WORKING"


def test_a_confirmation_after_a_refusal_does_not_revive_the_dead_preview(offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    chat.say("撤掉刚才那单")
    chat.say("算了")
    reply = chat.say("确认")
    assert reply.pending is None
    assert chat.requests("DELETE") == []
    assert chat.state("A") == "WORKING"


def test_a_new_request_at_the_confirmation_replaces_the_preview_and_confirms_nothing(offline_chat: Start) -> None:
    chat = offline_chat(EVERYDAY)
    first = chat.say("把茅台那笔买单撤了")
    assert chat.pending_ids(first) == chat.ids("A")
    second = chat.say("招行那笔撤了")
    assert chat.pending_ids(second) == chat.ids("F")
    assert chat.requests("DELETE") == []
    chat.say("确认")
    assert chat.deleted_ids() == [chat.refs["F"]]
    assert chat.state("A") == "WORKING"


def test_a_confirmation_before_any_preview_cancels_nothing(offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    reply = chat.say("确认")
    assert reply.question is None
    assert chat.requests("DELETE") == []
    assert chat.state("A") == "WORKING"
    assert "没有等待您确认的撤单" in reply.text


def test_the_cancel_tool_refuses_without_a_preview_whatever_the_engine(offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    tools = chat.assistant.tools
    tools.start_turn()
    chat.assistant.gate.on_user_message("确认")
    result = tools.call("cancel_orders", {"order_ids": [chat.refs["A"]]})
    assert result.is_error
    assert result.content["error"]["reason"] == "no_preview"
    assert chat.requests("DELETE") == []


def test_the_cancel_tool_refuses_ids_other_than_the_previewed_ones(offline_chat: Start) -> None:
    chat = offline_chat(EVERYDAY)
    chat.say("把茅台那笔买单撤了")
    tools = chat.assistant.tools
    tools.start_turn()
    chat.assistant.gate.on_user_message("确认")
    result = tools.call("cancel_orders", {"order_ids": [chat.refs["A"], chat.refs["F"]]})
    assert result.is_error
    assert result.content["error"]["reason"] == "other_ids"
    assert chat.requests("DELETE") == []


def test_a_preview_cannot_be_confirmed_in_the_turn_that_made_it(offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    tools = chat.assistant.tools
    tools.start_turn()
    chat.assistant.gate.on_user_message("确认")  # the user's "yes" came before the preview existed
    tools.call("preview_cancel", {"order_ids": [chat.refs["A"]]})
    result = tools.call("cancel_orders", {"order_ids": [chat.refs["A"]]})
    assert result.is_error
    assert result.content["error"]["reason"] == "stale_preview"
    assert chat.requests("DELETE") == []


def test_a_host_button_approves_the_pending_preview(offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    chat.say("撤掉刚才那单")
    reply = chat.assistant.approve()
    assert chat.state("A") == "CANCELLED"
    assert MAOTAI_BUY_RELEASED in reply.text


def test_a_host_button_rejects_the_pending_preview(offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    chat.say("撤掉刚才那单")
    reply = chat.assistant.reject()
    assert reply.pending is None
    assert chat.requests("DELETE") == []
    assert chat.state("A") == "WORKING"


@pytest.mark.parametrize("yes", ["确认", "是的", "撤吧", "yes", "Yes, cancel it", "yes, confirm", "那就撤了吧",
                                 "对，撤掉", "确认全部撤销", "OK，确认", "确认！"])
def test_explicit_confirmations_are_read_as_yes(yes: str) -> None:
    assert classify_reply(yes).kind is ReplyKind.CONFIRM


@pytest.mark.parametrize("weak", ["好", "嗯", "ok", "好的好的", "嗯好", "行吧", "sure"])
def test_weak_assent_is_never_a_yes(weak: str) -> None:
    reply = classify_reply(weak)
    assert reply.kind is ReplyKind.OTHER
    assert reply.weak


@pytest.mark.parametrize("other", ["cancel", "cancel all", "撤掉茅台那笔", "等下", "没问题", "yes but not the sell"])
def test_requests_and_hedges_are_not_a_yes(other: str) -> None:
    assert classify_reply(other).kind is not ReplyKind.CONFIRM
