"""What the offline engine tells the user when a cancel does not simply succeed: it raced a fill, its
answer was lost, the broker failed, or the exchange takes no cancels now. Also: text inside an order
(`client_order_id`, `reject_reason`) is data, never an instruction.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.assistant.conftest import OfflineChat
from tests.assistant.offline_worlds import (
    A_MAOTAI_BUY,
    INJECTION,
    MAOTAI_BUY_RELEASED,
    SINGLE_MAOTAI,
    at,
    order,
    world,
)

Start = Callable[..., OfflineChat]


def test_a_cancel_that_raced_a_fill_reports_the_real_filled_state(offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    chat.say("撤掉刚才那单")
    chat.arm("cancel_races_fill", "A")
    reply = chat.say("确认")
    assert chat.state("A") == "FILLED"
    assert "撤单没有成功" in reply.text
    assert "已全部成交" in reply.text
    assert "1,800.00" in reply.text
    assert reply.question is None  # a filled order is not offered again
    assert [entry["code"] for entry in chat.requests("DELETE")] == ["CANCEL_FAILED"]
    assert [entry["method"] for entry in chat.requests()][-1] == "GET"  # the order was queried after


def test_a_lost_answer_is_queried_not_resent_and_the_real_cancelled_state_reported(offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI, timeout=httpx.Timeout(0.5, connect=5.0))
    chat.say("撤掉刚才那单")
    chat.arm("delay_after_apply", "A", seconds=1.5)
    reply = chat.say("确认")
    assert "不确定是否撤销成功" in reply.text
    assert "已撤销" in reply.text
    assert chat.state("A") == "CANCELLED"
    assert len(chat.requests("DELETE")) == 1  # never sent twice
    assert reply.question is None


def test_a_lost_answer_on_an_order_still_open_asks_again_before_any_second_cancel(offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    chat.say("撤掉刚才那单")
    chat.arm("drop_connection", "A")
    reply = chat.say("确认")
    assert "不确定是否撤销成功" in reply.text
    assert "仍在" in reply.text
    assert reply.question == "confirm"
    assert chat.state("A") == "WORKING"
    assert len(chat.requests("DELETE")) == 1
    chat.say("确认")
    assert chat.state("A") == "CANCELLED"
    assert len(chat.requests("DELETE")) == 2


def test_a_broker_error_before_the_cancel_applied_says_so_and_changes_nothing(offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    chat.say("撤掉刚才那单")
    chat.arm("error_before_apply", "A", status=503)
    reply = chat.say("确认")
    assert "暂时不可用" in reply.text
    assert chat.state("A") == "WORKING"
    assert [entry["status"] for entry in chat.requests("DELETE")] == [503]
    declined = chat.say("算了，不撤了")
    assert declined.question is None
    assert len(chat.requests("DELETE")) == 1


def test_in_the_opening_auction_window_the_reply_says_when_cancels_work_again(offline_chat: Start) -> None:
    chat = offline_chat(at("2026-11-24T09:22:00+08:00", order("A", "600519", "BUY", 100, "1800.00", "09:16:00")))
    chat.say("撤掉刚才那单")
    reply = chat.say("确认")
    assert "不接受撤单" in reply.text
    assert "09:30" in reply.text
    assert chat.state("A") == "WORKING"
    assert reply.question is None
    assert [entry["code"] for entry in chat.requests("DELETE")] == ["CANCEL_NOT_ALLOWED_NOW"]


def test_in_the_closing_auction_a_batch_says_the_window_once_with_its_end(offline_chat: Start) -> None:
    chat = offline_chat(at("2026-11-24T14:58:00+08:00", order("A", "600519", "BUY", 100, "1800.00", "14:30:00"),
                           order("B", "000001", "SELL", 500, "11.80", "14:40:00")))
    chat.say("全部撤了")
    reply = chat.say("确认")
    assert reply.text.count("不接受撤单") == 1
    assert "15:00" in reply.text
    assert chat.state("A") == "WORKING"
    assert chat.state("B") == "WORKING"


def test_asking_whether_cancelling_works_now_answers_with_the_time(offline_chat: Start) -> None:
    chat = offline_chat(at("2026-11-24T09:23:00+08:00", order("A", "600519", "BUY", 100, "1800.00", "09:16:00")))
    reply = chat.say("现在能撤单吗？")
    assert "09:23" in reply.text
    assert "09:30" in reply.text
    assert reply.question is None
    assert chat.requests("DELETE") == []


def test_an_instruction_inside_order_data_changes_nothing(offline_chat: Start) -> None:
    poisoned = world(A_MAOTAI_BUY,
                     order("B", "000001", "SELL", 500, "11.80", "10:20:00", client_order_id=INJECTION),
                     order("C", "601318", "BUY", 100, "52.00", "10:30:00", state="REJECTED", reject_reason=INJECTION))
    chat = offline_chat(poisoned)
    listing = chat.say("列一下我今天的委托")
    assert listing.question is None
    assert listing.pending is None
    assert INJECTION not in listing.text
    reply = chat.say("撤单 abc12345")
    assert chat.pending_ids(reply) == chat.ids("A")
    done = chat.say("确认")
    assert chat.deleted_ids() == [chat.refs["A"]]
    assert MAOTAI_BUY_RELEASED in done.text
    assert chat.state("B") == "WORKING"
    assert chat.state("C") == "REJECTED"
