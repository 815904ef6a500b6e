"""The offline engine's language layer on a corpus, with no broker: each row is what a user types and what
must be understood, and the resolver rows are the orders it must (and must not) reach.

Rows are per phenomenon (exclusions, counts, positions, boards, times, extremes, intents, names as typed).
Adding a phrasing is a row here and, if needed, a word in scripts/assistant/lexicon.toml.
"""

from __future__ import annotations

from typing import Any

import pytest

from scripts.assistant.intent import Intent, read_request
from scripts.assistant.lexicon import fold
from scripts.assistant.resolve import chronological, names_of, tails_of
from scripts.assistant.scope import read_scope
from scripts.assistant.scoping import resolve_request
from scripts.assistant.sounds import sounded


def order(ref: str, symbol: str, name: str, side: str, qty: int, price: str, at: str,
          state: str = "WORKING") -> dict[str, Any]:
    return {"order_id": f"ord_accdefault_{ref * 8}", "ref": ref, "symbol": symbol, "name": name, "side": side,
            "qty": qty, "remaining_qty": qty if state == "WORKING" else 0, "limit_price": price, "state": state,
            "filled_qty": 0 if state == "WORKING" else qty, "frozen_cash": "0.00",
            "created_at": f"2026-11-24T{at}.000+08:00"}


# Newest first, as list_orders gives them.
ORDERS = [
    order("g", "688981", "中芯国际", "BUY", 200, "88.00", "14:10:00"),
    order("f", "300750", "宁德时代", "SELL", 100, "262.00", "13:20:00"),
    order("e", "000858", "五粮液", "BUY", 200, "128.00", "11:45:00"),
    order("d", "600036", "招商银行", "SELL", 1000, "42.50", "10:40:00"),
    order("c", "600036", "招商银行", "BUY", 1000, "38.50", "10:05:00"),
    order("b", "600519", "贵州茅台", "BUY", 100, "1650.00", "09:45:00"),
    order("a", "002594", "比亚迪", "BUY", 100, "290.00", "09:31:00"),
    order("z", "601318", "中国平安", "BUY", 500, "51.60", "09:35:00", state="FILLED"),
]
OPEN = [o for o in ORDERS if o["state"] == "WORKING"]
LISTED = chronological(OPEN)  # the numbered list a user sees: a b c d e f g


def reach(text: str, shown: list[dict[str, Any]] | None = None) -> str:
    request = read_request(text, names_of(ORDERS), tails_of(ORDERS), has_list=bool(shown))
    found = resolve_request(request, ORDERS, shown or [])
    return "".join(sorted(o["ref"] for o in found.orders)) if found.kind == "match" else found.kind


@pytest.mark.parametrize(("text", "refs"), [
    # exclusions: what is kept out is never reached
    ("茅台以外的都撤", "acdefg"),
    ("除了招行，剩下的撤掉", "abefg"),
    ("不含招行的全撤了", "abefg"),
    ("全部撤销，五粮液除外", "abcdfg"),
    ("买单以外的都撤", "df"),
    ("除了最新那笔，都撤", "abcdef"),
    ("都撤了吧，除了那笔科创板的", "abcdef"),
    ("买单都撤了，茅台那笔不算", "aceg"),
    ("深市主板的撤掉，创业板的别动", "ae"),
    # boards, read from the code
    ("创业板的都撤了", "f"),
    ("科创板那笔撤掉", "g"),
    ("沪市的买单都撤了", "bcg"),
    ("深市的卖单全撤了", "f"),
    ("沪市主板的单子撤了", "bcd"),
    # times
    ("撤掉9点45的那笔", "b"),
    ("10点以后下的都撤", "cdefg"),
    ("九点四十之前挂的撤了", "a"),
    ("两点以后挂的撤掉", "g"),
    ("午休时挂的那笔撤了", "e"),
    # extremes
    ("最贵的那笔撤了", "b"),
    ("最便宜的买单撤了", "c"),
    ("数量最多的那笔撤掉", "cd"),
    ("金额最小的卖单撤了", "f"),
    # prices and money
    ("38.5和42.5那两笔撤了", "cd"),
    ("一千六百五那笔撤了", "b"),
    ("二百九十块那笔撤了", "a"),
])
def test_the_words_reach_exactly_these_orders(text: str, refs: str) -> None:
    assert reach(text) == refs


@pytest.mark.parametrize(("text", "refs"), [
    ("除了第2个都撤", "acdefg"),
    ("第1笔不要，其余撤掉", "bcdefg"),
    ("倒数第二个撤了", "f"),
    ("1到3撤了", "abc"),
    ("二到四都撤", "bcd"),
    ("第三个和第五个撤了", "ce"),
    ("最后那两笔撤了", "fg"),
    ("前两笔撤了", "ab"),
    ("第九笔撤了", "none"),
    ("倒数第九个撤了", "none"),
])
def test_positions_count_in_the_list_on_screen(text: str, refs: str) -> None:
    assert reach(text, LISTED) == refs


@pytest.mark.parametrize(("text", "count"), [
    ("撤三笔", 3), ("撤两笔茅台", 2), ("刚下的两单撤了", 2), ("把那三张买单撤了", 3), ("撤掉刚才那单", None),
])
def test_a_count_is_read_so_that_it_can_be_checked(text: str, count: int | None) -> None:
    assert read_scope(fold(text)).count == count


@pytest.mark.parametrize(("text", "intent"), [
    ("比亚迪那单成了没", Intent.ORDER_DETAIL),
    ("招行买到了没", Intent.ORDER_DETAIL),
    ("我那笔五粮液撤掉了没有", Intent.ORDER_DETAIL),
    ("比亚迪的单还在不在", Intent.ORDER_DETAIL),
    ("长江电力卖单挂多久了，一直没成", Intent.ORDER_DETAIL),
    ("宁德跌了没", Intent.QUOTE),
    ("比亚迪现在多少钱", Intent.QUOTE),
    ("宁德现在啥价", Intent.QUOTE),
    ("茅台那单冻结了多少钱？", Intent.ORDER_DETAIL),
    ("我还剩多少钱能用", Intent.ACCOUNT),
    ("今天成交了哪些", Intent.ORDERS),
    ("茅台全给我卖了", Intent.PLACE),
    ("再来200股招行", Intent.PLACE),
    ("把宁德卖了", Intent.PLACE),
    ("把比亚迪那单改到300块", Intent.MODIFY),
    ("刚才撤错了，帮我恢复", Intent.UNDO),
    ("撤单要收手续费不", Intent.FEE),
    ("撤掉刚才那单", Intent.CANCEL),
    ("刚才那单下错了，本来想买300股，帮我撤掉", Intent.CANCEL),
    ("我刚挂的那个单子帮我撤回来", Intent.CANCEL),
    ("撤銷茅台的買單", Intent.CANCEL),
])
def test_not_every_sentence_naming_a_stock_is_a_cancel(text: str, intent: Intent) -> None:
    assert read_request(text, names_of(ORDERS), tails_of(ORDERS)).intent is intent


@pytest.mark.parametrize(("text", "name"), [
    ("撤掉zhaohang", "招商银行"), ("gzmt那笔撤了", "贵州茅台"), ("byd那笔撤掉", "比亚迪"),
    ("撤掉比亚笛的单", "比亚迪"), ("宁得时代那笔卖单撤了", "宁德时代"), ("wuliangye撤了", "五粮液"),
])
def test_names_typed_in_pinyin_initials_or_with_a_typo_are_heard(text: str, name: str) -> None:
    request = read_request(text, names_of(ORDERS), tails_of(ORDERS))
    heard = sounded(request.clues, fold(text), names_of(ORDERS))
    assert heard.names
    assert all(any(part in name for part in mention.names) for mention in heard.names)


def test_traditional_characters_read_as_simplified() -> None:
    assert reach("撤銷茅台的買單") == reach("撤销茅台的买单") == "b"


@pytest.mark.parametrize(("text", "order"), [
    ("挂单列一下，最新的在最上面", "newest"), ("按价格从高到低把挂单列出来", "price_high"),
    ("把没成交的单按时间倒序排一下，最新的放前面", "newest"), ("列一下我的委托", None),
])
def test_a_list_is_numbered_the_way_the_user_asked(text: str, order: str | None) -> None:
    assert read_scope(fold(text)).list_order == order
