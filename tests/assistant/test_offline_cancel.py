"""The offline engine cancelling against the live paper broker: every way of naming an order, each with its
confirm path, its deny path and (where the words fit several orders) its question. Assertions read the
broker's own state and request log, the structured Reply, and the figures in the text.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from scripts.assistant import Assistant
from scripts.messages import money
from tests.assistant.conftest import OfflineChat
from tests.assistant.offline_worlds import (
    EVERYDAY,
    MAOTAI_BUY_RELEASED,
    NEWEST_FILLED,
    OPEN_REFS,
    PARTIAL_SELL,
    SINGLE_MAOTAI,
    TWO_MAOTAI_BUYS,
    order,
    world,
)

Start = Callable[..., OfflineChat]


def previewed(chat: OfflineChat, text: str, *refs: str) -> None:
    """`text` makes a preview of exactly `refs`, asking for a confirmation, and cancels nothing yet."""
    reply = chat.say(text)
    assert reply.question == "confirm", reply.text
    assert chat.pending_ids(reply) == chat.ids(*refs), reply.text
    assert chat.requests("DELETE") == []


def confirmed(chat: OfflineChat, *refs: str, answer: str = "确认") -> str:
    """The user's explicit yes cancels exactly `refs` and nothing else; returns the reply."""
    reply = chat.say(answer)
    assert reply.question is None, reply.text
    assert set(chat.deleted_ids()) == chat.ids(*refs)
    for ref in chat.refs:
        assert (chat.state(ref) == "CANCELLED") == (ref in refs), ref
    return reply.text


def declined(chat: OfflineChat, answer: str, *refs: str) -> None:
    reply = chat.say(answer)
    assert reply.question is None, reply.text
    assert reply.pending is None
    assert chat.requests("DELETE") == []
    for ref in refs:
        assert chat.state(ref) in ("WORKING", "NEW")


def asked_to_choose(chat: OfflineChat, text: str, *refs: str) -> None:
    reply = chat.say(text)
    assert reply.question == "choose", reply.text
    assert {candidate["order_id"] for candidate in reply.candidates} == chat.ids(*refs)
    assert reply.pending is None


# --- one order, the plainest path --------------------------------------------------------------------


def test_confirmed_cancel_reports_the_released_cash_from_the_server(offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    previewed(chat, "撤掉刚才那单", "A")
    text = confirmed(chat, "A")
    assert MAOTAI_BUY_RELEASED in text
    assert "已撤单" in text


def test_the_preview_states_name_code_side_open_quantity_price_and_release(offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    text = chat.say("撤掉刚才那单").text
    for fact in ("贵州茅台(600519)", "买入", "未成交 100 股", "1,800.00", MAOTAI_BUY_RELEASED, "确认"):
        assert fact in text


def test_a_refusal_at_the_confirmation_cancels_nothing(offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    previewed(chat, "撤掉刚才那单", "A")
    declined(chat, "算了，不撤了", "A")


def test_the_assistant_fixture_talks_to_the_live_broker(assistant: Assistant) -> None:
    reply = assistant.send("撤单 k3v9x2m1")
    assert reply.question == "confirm"
    assert reply.pending is not None
    assert reply.pending.order_ids == ("ord_accdefault_k3v9x2m1",)


# --- ids ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["撤单 ord_accdefault_abc12345", "撤单 ord_abc12345", "撤单 abc12345",
                                  "帮我撤单 ord_abc12345 谢谢", "撤掉 ABC12345", "cancel ord_abc12345",
                                  "撤单：ｏｒｄ＿ａｂｃ１２３４５。"])
def test_full_and_short_ids_preview_that_order_and_confirm_cancels_it(offline_chat: Start, text: str) -> None:
    chat = offline_chat(EVERYDAY)
    previewed(chat, text, "A")
    assert MAOTAI_BUY_RELEASED in confirmed(chat, "A")


def test_two_ids_in_one_message_go_in_one_preview_and_one_batch_cancel_by_ids(offline_chat: Start) -> None:
    chat = offline_chat(EVERYDAY)
    previewed(chat, f"{chat.short('A')} 和 {chat.short('F')} 都撤了", "A", "F")
    confirmed(chat, "A", "F")
    [delete] = chat.requests("DELETE")
    assert delete["path"] == "/v1/accounts/acc_default/orders"
    assert "order_ids=" in delete["query"]


def test_an_unknown_id_is_said_and_nothing_is_proposed(offline_chat: Start) -> None:
    chat = offline_chat(EVERYDAY)
    reply = chat.say("撤单 q7r2t9b4")
    assert reply.question is None
    assert "q7r2t9b4" in reply.text
    assert "没有找到" in reply.text


def test_an_id_of_a_filled_order_says_it_is_filled_and_proposes_nothing(offline_chat: Start) -> None:
    chat = offline_chat(EVERYDAY)
    reply = chat.say(f"撤单 {chat.refs['D']}")
    assert reply.question is None
    assert "全部成交" in reply.text
    assert "五粮液" in reply.text


# --- 刚才 / 最近 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["撤掉刚才那单", "刚刚下的那笔帮我撤了", "上一笔委托撤掉", "最近那笔撤了吧",
                                  "最新的那个委托撤销", "刚下的单子撤掉", "撤了刚才那个单子", "cancel my last order"])
def test_recent_words_propose_the_newest_open_order(offline_chat: Start, text: str) -> None:
    chat = offline_chat(EVERYDAY)
    previewed(chat, text, "F")
    confirmed(chat, "F")


def test_recent_when_the_newest_order_already_filled_says_so_and_asks(offline_chat: Start) -> None:
    chat = offline_chat(NEWEST_FILLED)
    reply = chat.say("撤掉刚才那单")
    assert "全部成交" in reply.text
    assert reply.pending is None
    assert reply.question == "choose"
    assert [c["order_id"] for c in reply.candidates] == [chat.refs["A"]]
    declined(chat, "都不是", "A")


def test_after_newest_filled_the_user_can_name_the_older_one(offline_chat: Start) -> None:
    chat = offline_chat(NEWEST_FILLED)
    chat.say("撤掉刚才那单")
    previewed(chat, "哦，那把五粮液那笔撤了", "A")
    confirmed(chat, "A")


# --- names ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "ref"), [("把茅台那笔买单撤了", "A"), ("撤销贵州茅台的卖单", "E"),
                                           ("招行那笔撤了", "F"), ("中国平安的委托撤掉", "C"),
                                           ("平安银行卖出那笔撤了", "B"), ("平安的卖单撤了", "B"),
                                           ("把那笔茅台给我撤喽，卖的那个", "E"), ("cancel the Moutai buy order", "A")])
def test_names_and_combinations_preview_the_one_order_that_fits(offline_chat: Start, text: str, ref: str) -> None:
    chat = offline_chat(EVERYDAY)
    previewed(chat, text, ref)
    confirmed(chat, ref)


@pytest.mark.parametrize(("answer", "ref"), [("平安银行那笔", "B"), ("中国平安", "C"), ("卖的那个", "B"),
                                             ("52块的那笔", "C"), ("第1笔", "B"), ("2", "C")])
def test_pingan_is_ambiguous_so_the_assistant_asks_and_the_answer_picks(offline_chat: Start, answer: str,
                                                                         ref: str) -> None:
    chat = offline_chat(EVERYDAY)
    asked_to_choose(chat, "把平安那笔撤了", "B", "C")
    previewed(chat, answer, ref)
    confirmed(chat, ref)


def test_both_pingan_orders_when_the_user_answers_both(offline_chat: Start) -> None:
    chat = offline_chat(EVERYDAY)
    asked_to_choose(chat, "平安那个撤了", "B", "C")
    previewed(chat, "两笔平安都撤", "B", "C")
    confirmed(chat, "B", "C")


def test_none_of_the_listed_orders_cancels_nothing(offline_chat: Start) -> None:
    chat = offline_chat(EVERYDAY)
    asked_to_choose(chat, "平安的委托撤掉", "B", "C")
    declined(chat, "都不是", "B", "C")


def test_a_name_with_only_a_filled_order_says_it_filled(offline_chat: Start) -> None:
    chat = offline_chat(EVERYDAY)
    reply = chat.say("把五粮液那单撤掉")
    assert reply.question is None
    assert "五粮液" in reply.text
    assert "全部成交" in reply.text


def test_a_stock_with_no_order_finds_nothing_and_shows_what_is_open(offline_chat: Start) -> None:
    chat = offline_chat(SINGLE_MAOTAI)
    reply = chat.say("撤掉中石油那笔")
    assert reply.question is None
    assert "没有找到" in reply.text
    assert "贵州茅台" in reply.text


# --- codes, sides, prices, quantities -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["撤掉600036", "sh600036 的委托撤了", "撤单 SH600036", "把 600036.SH 那笔撤掉"])
def test_codes_with_or_without_exchange_prefix(offline_chat: Start, text: str) -> None:
    chat = offline_chat(EVERYDAY)
    previewed(chat, text, "F")
    confirmed(chat, "F")


def test_sell_side_alone_asks_between_the_two_sells(offline_chat: Start) -> None:
    chat = offline_chat(EVERYDAY)
    asked_to_choose(chat, "把卖单撤了", "B", "E")
    previewed(chat, "茅台那个", "E")
    declined(chat, "先不撤", "E")


@pytest.mark.parametrize(("text", "ref"), [("1800的那单撤了", "A"), ("价格1790的撤掉", "B"),
                                           ("茅台一千八那单撤掉", "A"), ("一千股那笔撤了", "B"),
                                           ("100股那笔撤了", "A"), ("五十手那个撤了", "C"),
                                           ("工商银行5000股的撤了", "C")])
def test_price_and_quantity_pick_the_order(offline_chat: Start, text: str, ref: str) -> None:
    chat = offline_chat(TWO_MAOTAI_BUYS)
    previewed(chat, text, ref)
    confirmed(chat, ref)


def test_two_orders_of_one_stock_are_asked_about(offline_chat: Start) -> None:
    chat = offline_chat(TWO_MAOTAI_BUYS)
    asked_to_choose(chat, "撤掉茅台那单", "A", "B")
    previewed(chat, "1790那笔", "B")
    confirmed(chat, "B")


# --- ordinals after a list, and 全部 ------------------------------------------------------------------------


def test_second_after_a_listing_of_open_orders(offline_chat: Start) -> None:
    chat = offline_chat(EVERYDAY)
    listing = chat.say("我现在有哪些委托还没成交？")
    assert listing.question is None
    assert "五粮液" not in listing.text
    previewed(chat, "把第二个撤了", "B")  # listed oldest first: 1. 茅台 BUY, 2. 平安银行 SELL
    confirmed(chat, "B")


@pytest.mark.parametrize("text", ["全部撤掉", "所有委托都撤了", "都撤了", "全撤", "cancel all"])
def test_all_is_one_preview_one_confirmation_and_a_cancel_by_ids(offline_chat: Start, text: str) -> None:
    chat = offline_chat(EVERYDAY)
    previewed(chat, text, *OPEN_REFS)
    confirmed(chat, *OPEN_REFS)
    [delete] = chat.requests("DELETE")
    assert "order_ids=" in delete["query"]
    assert "symbol" not in delete["query"]
    assert "side" not in delete["query"]
    assert chat.state("D") == "FILLED"


def test_all_buys_keeps_the_sells(offline_chat: Start) -> None:
    chat = offline_chat(EVERYDAY)
    previewed(chat, "买单全撤了，卖单留着", "A", "C", "F")
    confirmed(chat, "A", "C", "F")


def test_all_refused_at_the_confirmation(offline_chat: Start) -> None:
    chat = offline_chat(EVERYDAY)
    previewed(chat, "全部撤单", *OPEN_REFS)
    declined(chat, "等等，先别撤", *OPEN_REFS)


# --- changing the order at the confirmation, colloquial and full-width text -----------------------------------------


def test_changing_the_order_at_the_confirmation_starts_a_new_resolution(offline_chat: Start) -> None:
    chat = offline_chat(EVERYDAY)
    previewed(chat, "把中国平安那笔撤了", "C")
    previewed(chat, "不对，是平安银行那笔", "B")
    confirmed(chat, "B")


@pytest.mark.parametrize(("text", "ref"), [("帮忙撤一下茅台的卖单", "E"), ("刚刚那笔不要了", "F"),
                                           ("招行那单不买了", "F"), ("撤调刚才那单", "F"),
                                           ("撤单！！招行！！快！", "F"), ("把那个招行的单子干掉", "F")])
def test_colloquial_typo_and_full_width_requests(offline_chat: Start, text: str, ref: str) -> None:
    chat = offline_chat(EVERYDAY)
    previewed(chat, text, ref)
    confirmed(chat, ref, answer="确认！")


def test_nothing_open_says_so(offline_chat: Start) -> None:
    chat = offline_chat(world(order("A", "600519", "BUY", 100, "1800.00", "10:00:00", state="FILLED")))
    reply = chat.say("全部撤了")
    assert reply.question is None
    assert reply.pending is None
    assert chat.requests("DELETE") == []


# --- partial fills and questions ---------------------------------------------------------------------------


def test_a_partly_filled_sell_releases_the_open_shares_and_says_it_was_partly_filled(offline_chat: Start) -> None:
    chat = offline_chat(PARTIAL_SELL)
    previewed(chat, "平安银行剩下的撤了", "A")
    text = confirmed(chat, "A")
    assert "释放可卖股份 300 股" in text
    assert "已成交 200 股" in text
    assert "部撤" in text


def test_a_buy_cancel_reports_the_frozen_cash_the_broker_released(offline_chat: Start) -> None:
    chat = offline_chat(EVERYDAY)
    frozen = chat.order("C")["frozen_cash"]
    previewed(chat, "中国平安那笔撤了", "C")
    assert money(frozen) in confirmed(chat, "C")


def test_orders_cash_and_positions_questions_are_answered_without_a_cancel(offline_chat: Start) -> None:
    chat = offline_chat(EVERYDAY)
    account = chat.api.get("/v1/accounts/acc_default").json()
    orders = chat.say("看看我的委托")
    cash = chat.say("我还有多少可用资金？")
    positions = chat.say("看看持仓")
    assert "五粮液" in orders.text
    assert "贵州茅台" in orders.text
    assert money(account["cash"]["available"]) in cash.text
    assert money(account["cash"]["frozen"]) in cash.text
    assert "平安银行(000001)" in positions.text
    assert "可卖" in positions.text
    assert all(reply.question is None for reply in (orders, cash, positions))
    assert chat.requests("DELETE") == []


def test_a_question_about_one_order_then_cancel_the_rest_of_it(offline_chat: Start) -> None:
    chat = offline_chat(PARTIAL_SELL)
    answer = chat.say("平安银行那笔成交了多少？")
    assert "已成交 200 股" in answer.text
    assert answer.question is None
    previewed(chat, "剩下的撤了吧", "A")
    confirmed(chat, "A")
