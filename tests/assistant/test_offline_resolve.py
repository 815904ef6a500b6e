"""Order resolution as pure functions: the user's words and the account's orders in, the orders meant out.

No broker here: each case reads one message against a fixed set of order summaries, as `list_orders`
returns them (newest first), and checks which orders the words point at.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from scripts.assistant.intent import Intent, read_request
from scripts.assistant.numerals import chinese_number, number_mentions
from scripts.assistant.resolve import Resolution, chronological, names_of, tails_of
from scripts.assistant.scoping import resolve_request


def summary(ref: str, symbol: str, name: str, side: str, qty: int, price: str, at: str, state: str = "WORKING",
            filled: int = 0) -> dict[str, Any]:
    open_qty = qty - filled if state in ("NEW", "WORKING") else 0
    return {"order_id": f"ord_accdefault_{ref * 8}", "symbol": symbol, "name": name, "side": side, "qty": qty,
            "limit_price": price, "filled_qty": filled, "remaining_qty": open_qty, "state": state,
            "created_at": f"2026-11-24T{at}.000+08:00", "ref": ref}


# Newest first, as the account's listing gives them.
ORDERS = [
    summary("f", "600036", "招商银行", "BUY", 500, "41.50", "13:40:00"),
    summary("e", "600519", "贵州茅台", "SELL", 200, "1850.00", "13:10:00"),
    summary("d", "000858", "五粮液", "BUY", 200, "125.00", "11:05:00", state="FILLED", filled=200),
    summary("c", "601318", "中国平安", "BUY", 300, "52.00", "10:30:15"),
    summary("b", "000001", "平安银行", "SELL", 1000, "11.80", "10:03:48", filled=400),
    summary("a", "600519", "贵州茅台", "BUY", 100, "1800.00", "09:41:22"),
    summary("g", "000002", "万科Ａ", "BUY", 2000, "6.00", "09:35:00"),
]


def resolve(text: str, orders: list[dict[str, Any]] = ORDERS, **context: Any) -> Resolution:
    request = read_request(text, names_of(orders), tails_of(orders), has_list=bool(context.get("shown")))
    return resolve_request(request, orders, **context)


def refs(found: Resolution) -> str:
    return "".join(sorted(order["ref"] for order in found.orders))


@pytest.mark.parametrize(("text", "expected"), [
    ("撤单 ord_accdefault_aaaaaaaa", "a"),
    ("撤单 ord_aaaaaaaa", "a"),
    ("帮我撤单 aaaaaaaa 谢谢", "a"),
    ("帮我撤单ord_cccccccc谢谢", "c"),
    ("撤掉 CCCCCCCC", "c"),
    ("cancel ord_accdefault_ffffffff", "f"),
    ("撤掉 aaaaaaaa 和 ffffffff", "af"),
])
def test_full_and_short_ids_pick_exactly_those_orders(text: str, expected: str) -> None:
    assert refs(resolve(text)) == expected


def test_an_id_that_matches_no_order_is_reported_as_unknown() -> None:
    found = resolve("撤单 q7r2t9b4")
    assert found.kind == "unknown_ids"
    assert found.unknown_ids == ("q7r2t9b4",)


def test_an_id_of_a_finished_order_is_reported_as_finished_not_proposed() -> None:
    found = resolve("撤单 dddddddd")
    assert found.kind == "finished"
    assert [o["ref"] for o in found.finished] == ["d"]
    assert not found.orders


@pytest.mark.parametrize("text", ["撤掉刚才那单", "刚刚下的那笔帮我撤了", "上一笔委托撤掉", "最近那笔撤了吧",
                                  "把最新的那个委托撤销", "刚下的单子撤掉", "撤了刚才那个单子", "取消刚才的委托",
                                  "cancel my last order", "把 last order 撤了", "刚财那笔撤了"])
def test_recent_words_pick_the_newest_open_order(text: str) -> None:
    assert refs(resolve(text)) == "f"


def test_recent_with_a_side_picks_the_newest_order_of_that_side() -> None:
    assert refs(resolve("刚才那笔卖单撤了")) == "e"


def test_the_newest_order_already_finished_is_said_not_replaced_by_an_older_one() -> None:
    orders = [summary("n", "000858", "五粮液", "BUY", 200, "125.00", "11:00:00", state="FILLED", filled=200),
              *ORDERS[:1]]
    found = resolve("撤掉刚才那单", orders)
    assert found.kind == "newest_finished"
    assert found.finished[0]["ref"] == "n"
    assert refs(found) == "f"


def test_two_newest_orders_are_both_meant() -> None:
    found = resolve("刚才下的两笔都撤了")
    assert refs(found) == "ef"
    assert found.plural


@pytest.mark.parametrize(("text", "expected"), [
    ("把茅台那笔买单撤了", "a"),
    ("撤销贵州茅台的卖单", "e"),
    ("平安银行卖出那笔撤了", "b"),
    ("中国平安的委托撤掉", "c"),
    ("招行那笔撤了", "f"),
    ("万科A那笔撤了", "g"),
    ("万科的单撤掉", "g"),
    ("平安的卖单撤了", "b"),
    ("平安52块那笔撤掉", "c"),
    ("cancel the Moutai buy order", "a"),
    ("cancel my Kweichow Moutai sell order please", "e"),
])
def test_names_short_forms_and_nicknames_pick_the_order(text: str, expected: str) -> None:
    found = resolve(text)
    assert refs(found) == expected
    assert found.kind == "match"


def test_pingan_alone_fits_two_orders_and_is_not_a_plural() -> None:
    found = resolve("把平安那笔撤了")
    assert refs(found) == "bc"
    assert not found.plural


def test_a_name_part_inside_another_stocks_name_does_not_pick_an_order() -> None:
    # 中国石油 starts like 中国平安, but it is another stock: no order of the account fits.
    assert resolve("撤掉中国石油那笔").kind == "none"
    assert resolve("撤掉中石油那笔").kind == "none"


@pytest.mark.parametrize(("text", "expected"), [
    ("撤掉600519的买单", "a"), ("sh600519 的卖单撤了", "e"), ("撤单 SH600036", "f"), ("把 601318.SH 那笔撤掉", "c"),
    ("000001.SZ 卖单撤了", "b"), ("撤掉６０００３６那笔", "f"), ("代码600036的那笔，撤了", "f"),
])
def test_codes_with_or_without_exchange_prefix_pick_the_order(text: str, expected: str) -> None:
    assert refs(resolve(text)) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("1800的那单撤了", "a"), ("价格1800的撤了", "a"), ("茅台一千八那单撤掉", "a"), ("1,800.00那笔撤了", "a"),
    ("11块8的那笔撤了", "b"), ("十一块八那笔撤了", "b"), ("100股那笔撤了", "a"), ("一千股那个撤了", "b"),
    ("三百股的买单撤了", "c"), ("五手那笔撤了", "f"), ("还剩600股没成交的那笔撤了", "b"),
])
def test_prices_and_quantities_in_digits_and_chinese_numerals_pick_the_order(text: str, expected: str) -> None:
    assert refs(resolve(text)) == expected


def test_a_price_no_order_has_finds_nothing() -> None:
    assert resolve("撤掉茅台1900那笔").kind == "none"


@pytest.mark.parametrize(("text", "expected"), [
    ("全部撤掉", "abcefg"), ("所有委托都撤了", "abcefg"), ("一键全撤", "abcefg"), ("cancel all", "abcefg"),
    ("买单全撤了，卖单留着", "acfg"), ("卖单都撤掉，不卖了", "be"), ("茅台的都撤了", "ae"),
    ("除了茅台都撤了", "bcfg"), ("茅台不撤，其他的都撤了", "bcfg"),
])
def test_all_and_its_restrictions_mean_every_open_order_that_fits(text: str, expected: str) -> None:
    found = resolve(text)
    assert refs(found) == expected
    assert found.plural


def test_ordinals_are_positions_in_the_list_the_user_saw() -> None:
    shown = chronological([order for order in ORDERS if order["state"] == "WORKING"])
    assert refs(resolve("把第二个撤了", shown=shown)) == "a"
    assert refs(resolve("第一个和第三个都撤了", shown=shown)) == "bg"  # 1: 万科 at 09:35, 3: 平安银行
    assert refs(resolve("最后一个", shown=shown)) == "f"


def test_an_ordinal_with_no_list_shown_does_not_guess() -> None:
    found = resolve("第一个和第三个撤了")
    assert not found.plural
    assert len(found.orders) > 1


def test_words_of_what_the_user_meant_to_do_are_not_clues() -> None:
    # "300股" was what they meant to buy, not the order's quantity.
    assert refs(resolve("刚才那单下错了，本来想买300股，帮我撤掉")) == "f"


def test_the_other_one_is_an_open_order_other_than_the_one_just_talked_about() -> None:
    assert refs(resolve("撤另外那笔", ORDERS[:2], focus=(ORDERS[0]["order_id"],))) == "e"


@pytest.mark.parametrize(("text", "intent"), [
    ("撤掉刚才那单", Intent.CANCEL), ("宁德那笔不买了，撤掉", Intent.CANCEL), ("刚刚那笔不要了", Intent.CANCEL),
    ("都不要了，全撤", Intent.CANCEL), ("等等，先别撤", Intent.REFUSE), ("算了，不撤了", Intent.REFUSE),
    ("哦已经成交一大半了？那不撤了，等它成交吧", Intent.REFUSE), ("都不是", Intent.REFUSE),
    ("no, keep it", Intent.REFUSE),
    ("不对，是平安那笔", Intent.CANCEL), ("我现在有哪些委托还没成交？", Intent.ORDERS), ("看看我的委托", Intent.ORDERS),
    ("中国平安那笔成交了多少？", Intent.ORDER_DETAIL), ("茅台那单冻结了多少钱？", Intent.ORDER_DETAIL),
    ("我还有多少可用资金", Intent.ACCOUNT), ("看看持仓", Intent.ACCOUNT), ("余额多少", Intent.ACCOUNT),
    ("你好", Intent.NONE),
])
def test_the_intent_of_a_message(text: str, intent: Intent) -> None:
    assert read_request(text, names_of(ORDERS), tails_of(ORDERS)).intent is intent


def test_a_correction_names_the_new_target_and_not_the_old_one() -> None:
    request = read_request("不是茅台，是五粮液", names_of(ORDERS), tails_of(ORDERS))
    assert [m.text for m in request.clues.names] == ["五粮液"]


@pytest.mark.parametrize(("words", "value"), [("一千八", "1800"), ("两百五", "250"), ("一万二", "12000"),
                                              ("十一点三", "11.3"), ("一千零五十", "1050"), ("十", "10")])
def test_chinese_numerals_read_as_people_say_them(words: str, value: str) -> None:
    assert chinese_number(words) == Decimal(value)


def test_counting_words_are_no_quantities() -> None:
    assert number_mentions("买单撤掉一个，帮我撤一下") == []


def test_full_width_text_reads_like_half_width() -> None:
    clues = read_request("撤单！！ＳＨ６０００３６！", names_of(ORDERS), tails_of(ORDERS)).clues
    assert clues.symbols == ("600036",)


def test_of_two_stocks_named_the_one_already_filled_is_reported_not_dropped() -> None:
    found = resolve("撤掉五粮液和茅台买单")
    assert refs(found) == "a"
    assert [order["ref"] for order in found.finished] == ["d"]
