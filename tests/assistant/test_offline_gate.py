"""The confirmation gate as the offline engine meets it: nothing is cancelled without a preview of exactly
those orders and an explicit yes in the user's next message. Each test reads the broker's request log, so a
DELETE that slipped through would show.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.assistant.conftest import OfflineChat
from tests.assistant.offline_worlds import EVERYDAY, MAOTAI_BUY_RELEASED, SINGLE_MAOTAI

Start = Callable[..., OfflineChat]


@pytest.mark.parametrize("weak", ["好", "嗯", "ok", "好的", "嗯嗯", "行"])
def test_a_weak_reply_gets_the_preview_once_more_and_the_next_explicit_yes_cancels(offline_chat: Start,
                                                                                   weak: str) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    chat.say("撤掉刚才那单")
    again = chat.say(weak)
    assert again.question == "confirm"
    assert chat.pending_ids(again) == chat.ids("A")
    assert again.pending is not None
    assert again.text.startswith("需要您明确确认")
    assert again.text.endswith(again.pending.text.strip())  # the user reads the preview they are asked about
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


@pytest.mark.parametrize("question", ["撤了？", "是？", "对？", "确认？", "yes?", "撤吧？", "就撤这个？", "确认吗",
                                      "撤了没"])
def test_a_question_at_the_confirmation_never_cancels_and_shows_the_preview_again(offline_chat: Start,
                                                                                  question: str) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    chat.say("撤掉刚才那单")
    reply = chat.say(question)
    assert chat.requests("DELETE") == []
    assert chat.state("A") == "WORKING"
    assert reply.question == "confirm"
    assert reply.pending is not None
    assert reply.text.endswith(reply.pending.text.strip())
    chat.say("确认")
    assert chat.state("A") == "CANCELLED"  # the preview shown again is the one the yes confirms


def test_only_this_one_at_a_two_order_preview_cancels_nothing(offline_chat: Start) -> None:
    chat = offline_chat(EVERYDAY)
    first = chat.say("全部撤掉")
    assert first.pending is not None
    assert len(first.pending.order_ids) > 1
    chat.say("就撤这个？")
    assert chat.requests("DELETE") == []


def test_a_yes_with_another_question_cancels_and_answers_it(offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    chat.say("撤掉刚才那单")
    reply = chat.say("确认。顺便看下持仓")
    assert chat.state("A") == "CANCELLED"
    assert MAOTAI_BUY_RELEASED in reply.text
    assert "持仓" in reply.text


def test_a_host_button_with_nothing_pending_says_so_and_changes_nothing(offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    approved = chat.assistant.approve()
    rejected = chat.assistant.reject()
    assert "没有等待您确认的撤单" in approved.text
    assert "没有等待您确认的撤单" in rejected.text
    assert chat.assistant.gate.turn == 0
    assert chat.requests("DELETE") == []
    assert "已撤单" not in approved.text
