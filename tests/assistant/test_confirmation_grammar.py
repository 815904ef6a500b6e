"""The confirmation grammar and the gate, table-driven, with no broker and no network.

Each row is a message, the preview it answers (ONE: the 茅台 buy; TWO: the 茅台 buy and the 平安银行 sell;
SELLS: two sells) and what it must be read as. Only `yes` rows may ever cancel. The gate rows then play
whole exchanges against the gate alone.
"""

from __future__ import annotations

from typing import Any

import pytest

from scripts.assistant.confirmation import AnswerKind, read_answer
from scripts.assistant.gate import ConfirmationGate, DropReason, GateRefusalError

MAOTAI_BUY = {"order_id": "ord_accdefault_abc12345", "symbol": "600519", "name": "贵州茅台", "side": "BUY",
              "qty": 100, "remaining_qty": 100, "limit_price": "1800.00"}
PINGAN_SELL = {"order_id": "ord_accdefault_k3v9x2m1", "symbol": "000001", "name": "平安银行", "side": "SELL",
               "qty": 500, "remaining_qty": 300, "limit_price": "10.80"}
CMB_SELL = {"order_id": "ord_accdefault_q1w2e3r4", "symbol": "600036", "name": "招商银行", "side": "SELL",
            "qty": 1000, "remaining_qty": 1000, "limit_price": "42.50"}
PREVIEWS: dict[str, list[dict[str, Any]]] = {"ONE": [MAOTAI_BUY], "TWO": [MAOTAI_BUY, PINGAN_SELL],
                                             "SELLS": [PINGAN_SELL, CMB_SELL]}

# message | preview | reading
TABLE = """
确认 | ONE | yes
确认 | TWO | yes
确定 | ONE | yes
是的 | ONE | yes
是 | ONE | yes
对 | ONE | yes
对的 | ONE | yes
没错 | ONE | yes
撤吧 | ONE | yes
撤 | ONE | yes
撤了 | ONE | yes
撤了吧 | ONE | yes
撤掉吧 | ONE | yes
撤销 | ONE | yes
撤单 | ONE | yes
执行 | ONE | yes
同意 | ONE | yes
确认撤销 | ONE | yes
确认撤单 | TWO | yes
确认！ | ONE | yes
确认。 | ONE | yes
确认! | ONE | yes
 确认  | ONE | yes
确认确认 | ONE | yes
是是是 | ONE | yes
对对对 | ONE | yes
好的，确认 | ONE | yes
好，撤吧 | ONE | yes
嗯，确认 | ONE | yes
行，撤了吧 | ONE | yes
ok，确认 | ONE | yes
OK，确认 | ONE | yes
可以撤 | ONE | yes
那就撤了吧 | ONE | yes
那么就撤吧 | ONE | yes
对，撤掉 | ONE | yes
我确认 | ONE | yes
请撤销 | ONE | yes
麻烦撤一下吧 | ONE | other
马上撤 | ONE | yes
立即撤单 | ONE | yes
確認 | ONE | yes
確定 | ONE | yes
確定！ | ONE | yes
撤銷吧 | ONE | yes
是的，撤銷 | ONE | yes
ＹＥＳ | ONE | yes
ｙｅｓ | ONE | yes
确认👍 | ONE | yes
👍确认 | ONE | yes
确认🙏 | ONE | yes
yes | ONE | yes
Yes | ONE | yes
YES! | ONE | yes
y | ONE | yes
yep | ONE | yes
yeah | ONE | yes
confirm | ONE | yes
Confirmed. | ONE | yes
go ahead | ONE | yes
Go ahead. | ONE | yes
do it | ONE | yes
yes please | ONE | yes
yes, please | ONE | yes
Sure, cancel it | ONE | yes
ok cancel it | ONE | yes
yes, cancel them | TWO | yes
proceed | ONE | yes
是的，两笔都撤 | TWO | yes
两笔都撤 | TWO | yes
确认，两笔都撤 | TWO | yes
全部撤 | TWO | yes
确认全部撤销 | TWO | yes
都撤了吧 | TWO | yes
都撤 | ONE | mismatch
全部撤了吧 | ONE | mismatch
确认撤茅台 | ONE | yes
确认撤贵州茅台 | ONE | yes
确认撤600519 | ONE | yes
撤茅台那笔 | ONE | yes
确认撤销这笔委托 | ONE | yes
确认撤这个 | ONE | yes
就撤这个 | ONE | yes
只撤这一笔 | ONE | yes
确认撤买单 | ONE | yes
确认撤掉这笔买单 | ONE | yes
确认撤 abc12345 | ONE | yes
撤100股那笔 | ONE | yes
确认撤1800那笔 | ONE | yes
确认撤1800.00的 | ONE | yes
确认撤茅台和平安银行 | TWO | yes
确认撤两笔卖单 | SELLS | yes
卖单都撤 | SELLS | yes
确认撤这两笔 | TWO | yes
确认撤 moutai | ONE | yes
确认，以后这种不用问我 | ONE | yes
确认。顺便看下持仓 | ONE | yes
确认，可用资金还有多少？ | ONE | yes
确认。然后看看还有哪些委托 | ONE | yes
是的。茅台现在什么价？ | ONE | yes
撤了？ | ONE | question
撤了? | ONE | question
是？ | ONE | question
对？ | ONE | question
确认？ | ONE | question
确认吗 | ONE | question
确认吗？ | ONE | question
确认撤销吗 | ONE | question
yes? | ONE | question
Yes? | ONE | question
撤吧？ | ONE | question
就撤这个？ | ONE | question
就撤这个？ | TWO | question
撤了没 | ONE | question
撤了没有 | ONE | question
撤掉了没 | ONE | question
是不是 | ONE | question
是不是撤茅台 | ONE | question
对不对 | ONE | question
对吧 | ONE | question
是吧 | ONE | question
你确定？ | ONE | question
确定吗 | ONE | question
确認嗎？ | ONE | question
确认什么 | ONE | question
撤了能退多少钱？ | ONE | question
撤了之后可用资金多少 | ONE | question
要撤几笔 | TWO | question
撤哪笔 | TWO | question
为什么要确认 | ONE | question
怎么撤 | ONE | question
撤么 | ONE | question
🤔 | ONE | question
确认🤔 | ONE | question
is it cancelled? | ONE | question
did you cancel it | ONE | question
can you cancel it | ONE | question
确认？顺便看下持仓 | ONE | question
确 认 | ONE | yes
对了，看看持仓 | ONE | other
对了 | ONE | other
确定。撤完以后可用资金是多少？ | TWO | yes
确认，撤两笔吗？ | ONE | mismatch
确认，再撤一笔 | ONE | mismatch
好 | ONE | weak
好的 | ONE | weak
好吧 | ONE | weak
好滴 | ONE | weak
嗯 | ONE | weak
嗯嗯 | ONE | weak
哦 | ONE | weak
行 | ONE | weak
行吧 | ONE | weak
可以 | ONE | weak
可以的 | ONE | weak
没问题 | ONE | weak
收到 | ONE | weak
知道了 | ONE | weak
好的好的 | ONE | weak
嗯好 | ONE | weak
ok | ONE | weak
OK | ONE | weak
okay | ONE | weak
Okay. | ONE | weak
sure | ONE | weak
fine | ONE | weak
alright | ONE | weak
k | ONE | weak
👍 | ONE | weak
👌 | ONE | weak
👍👍 | ONE | weak
✅ | ONE | weak
好。 | ONE | weak
好的，顺便看下持仓 | ONE | weak
不 | ONE | no
不要 | ONE | no
不用 | ONE | no
不用了 | ONE | no
不撤 | ONE | no
不撤了 | ONE | no
别撤 | ONE | no
先别撤 | ONE | no
先不撤 | ONE | no
先不 | ONE | no
暂时不撤 | ONE | no
算了 | ONE | no
算了吧 | ONE | no
取消 | ONE | no
取消吧 | ONE | no
确认取消 | ONE | no
确认不撤 | ONE | no
是的，先不撤 | ONE | no
等等 | ONE | no
等一下 | ONE | no
等下 | ONE | no
稍等 | ONE | no
慢着 | ONE | no
我再想想 | ONE | no
放弃 | ONE | no
不了 | ONE | no
不行 | ONE | no
不对 | ONE | no
不是 | ONE | no
不是这个 | ONE | no
错了 | ONE | no
否 | ONE | no
不确定 | ONE | no
我不确定 | ONE | no
不太确定 | ONE | no
别动 | ONE | no
留着 | ONE | no
茅台留着 | TWO | no
确认，但是茅台留着 | TWO | no
不撤銷 | ONE | no
算了算了 | ONE | no
no | ONE | no
No. | ONE | no
nope | ONE | no
nah | ONE | no
not now | ONE | no
don't | ONE | no
do not cancel | ONE | no
wait | ONE | no
stop | ONE | no
hold on | ONE | no
never mind | ONE | no
cancel | ONE | no
yes but not the sell | TWO | no
no, keep it | ONE | no
❌ | ONE | no
🙅 | ONE | no
是的，两笔都撤 | ONE | mismatch
两笔都撤 | ONE | mismatch
是的，撤两笔 | ONE | mismatch
确认撤三笔 | TWO | mismatch
就撤这个 | TWO | mismatch
确认撤这个 | TWO | mismatch
确认撤这笔 | TWO | mismatch
确认撤销这笔委托 | TWO | mismatch
只撤这一笔 | TWO | mismatch
确认，只撤茅台 | TWO | mismatch
确认撤茅台 | TWO | mismatch
撤茅台那笔 | TWO | mismatch
确认撤平安银行 | TWO | mismatch
确认撤买单 | TWO | mismatch
确认撤卖单 | ONE | mismatch
确认撤卖单 | TWO | mismatch
确认撤 abc12345 | TWO | mismatch
撤100股那笔 | TWO | mismatch
确认撤200股那笔 | ONE | mismatch
确认撤1700那笔 | ONE | mismatch
确认，再把平安也撤了 | ONE | mismatch
确认，其他的也撤 | ONE | mismatch
确认，另外那笔也撤掉 | TWO | mismatch
确认撤茅台，平安也撤 | ONE | mismatch
确认撤招行 | SELLS | mismatch
确认撤招商银行 | SELLS | mismatch
确认撤一笔卖单 | SELLS | mismatch
确认撤平安 | ONE | other
确认撤平安银行 | ONE | other
确认撤宁德时代 | ONE | other
撤掉比亚迪那笔 | ONE | other
确认撤 zzzz9999 | ONE | other
我再确认一下 | ONE | other
确认一下 | ONE | other
先确认 | ONE | other
把茅台那笔买单撤了 | TWO | mismatch
看看我的持仓 | ONE | other
可用资金 | ONE | other
茅台 | ONE | other
全部撤掉 | ONE | mismatch
撤掉刚才那单 | ONE | other
cancel all | TWO | yes
cancel both | TWO | yes
Yes, cancel both | TWO | yes
cancel the sell | TWO | mismatch
。 | ONE | other
 | ONE | other
"""


def rows() -> list[tuple[str, str, str]]:
    table = []
    for line in TABLE.strip("\n").splitlines():
        text, preview, kind = (part.strip() for part in line.split("|"))
        table.append((text, preview, kind))
    return table


@pytest.mark.parametrize(("text", "preview", "kind"), rows())
def test_the_grammar_reads_each_answer(text: str, preview: str, kind: str) -> None:
    assert read_answer(text, PREVIEWS[preview]).kind is AnswerKind(kind)


def test_only_a_yes_ever_confirms() -> None:
    """The property the gate rests on, over the whole table: no row but a `yes` row reads as YES."""
    for text, preview, kind in rows():
        if kind != "yes":
            assert not read_answer(text, PREVIEWS[preview]).is_yes, text


@pytest.mark.parametrize(("text", "extra"), [("确认。顺便看下持仓", "顺便看下持仓"),
                                             ("不撤了。对了，我现在可用资金多少？", "对了,我现在可用资金多少?"),
                                             ("确认，可用资金还有多少？", "可用资金还有多少?"),
                                             ("确认", ""), ("是的，两笔都撤", "")])
def test_a_yes_keeps_what_else_the_message_asks(text: str, extra: str) -> None:
    answer = read_answer(text, PREVIEWS["TWO"])
    assert answer.kind in (AnswerKind.YES, AnswerKind.NO)
    assert answer.extra == extra


# --- the gate over whole exchanges -----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def previewed(orders: list[dict[str, Any]], clock: Clock | None = None) -> ConfirmationGate:
    """A gate after turn 1 showed a preview of `orders`."""
    gate = ConfirmationGate(clock=clock or Clock())
    gate.on_user_message("撤掉")
    gate.propose([order["order_id"] for order in orders], orders, "（预览）")
    return gate


def ids(orders: list[dict[str, Any]]) -> list[str]:
    return [order["order_id"] for order in orders]


@pytest.mark.parametrize(("text", "preview", "kind"), rows())
def test_the_gate_authorizes_exactly_the_yes_rows(text: str, preview: str, kind: str) -> None:
    orders = PREVIEWS[preview]
    gate = previewed(orders)
    gate.on_user_message(text)
    if kind == "yes":
        assert gate.authorize(ids(orders)).order_ids == tuple(ids(orders))
    else:
        with pytest.raises(GateRefusalError):
            gate.authorize(ids(orders))


def test_a_weak_answer_keeps_the_preview_for_exactly_one_more_ask() -> None:
    gate = previewed([MAOTAI_BUY])
    gate.on_user_message("好")
    assert gate.shown_now() is not None  # this reply must show it again
    gate.on_user_message("嗯")
    assert gate.pending is None
    assert gate.dropped is not None
    assert gate.dropped.reason is DropReason.UNCONFIRMED
    gate.on_user_message("确认")
    with pytest.raises(GateRefusalError) as refused:
        gate.authorize(ids([MAOTAI_BUY]))
    assert refused.value.reason == "no_preview"


def test_a_weak_answer_then_a_yes_confirms() -> None:
    gate = previewed([MAOTAI_BUY])
    gate.on_user_message("好")
    gate.on_user_message("确认")
    assert gate.authorize(ids([MAOTAI_BUY])).order_ids == tuple(ids([MAOTAI_BUY]))


@pytest.mark.parametrize(("answer", "reason"), [("算了", "declined"), ("看看我的持仓", "new_request"),
                                                ("确认撤三笔", "mismatch")])
def test_the_refusal_the_model_reads_says_why_the_preview_ended(answer: str, reason: str) -> None:
    gate = previewed([MAOTAI_BUY])
    gate.on_user_message(answer)
    with pytest.raises(GateRefusalError) as refused:
        gate.authorize(ids([MAOTAI_BUY]))
    assert refused.value.reason == reason


def test_a_second_preview_in_one_turn_is_refused() -> None:
    gate = previewed([MAOTAI_BUY])
    with pytest.raises(GateRefusalError) as refused:
        gate.propose(ids([PINGAN_SELL]), [PINGAN_SELL], "（另一个预览）")
    assert refused.value.reason == "second_preview"
    assert gate.pending is not None
    assert gate.pending.order_ids == tuple(ids([MAOTAI_BUY]))


def test_a_preview_cannot_be_confirmed_in_its_own_turn() -> None:
    gate = ConfirmationGate(clock=Clock())
    gate.on_user_message("确认")
    gate.propose(ids([MAOTAI_BUY]), [MAOTAI_BUY], "（预览）")
    with pytest.raises(GateRefusalError) as refused:
        gate.authorize(ids([MAOTAI_BUY]))
    assert refused.value.reason == "stale_preview"


def test_a_preview_expires() -> None:
    clock = Clock()
    gate = previewed([MAOTAI_BUY], clock)
    clock.now += 301
    gate.on_user_message("确认")
    with pytest.raises(GateRefusalError) as refused:
        gate.authorize(ids([MAOTAI_BUY]))
    assert refused.value.reason == "expired"


def test_other_ids_than_the_preview_are_refused_even_after_a_yes() -> None:
    gate = previewed([MAOTAI_BUY])
    gate.on_user_message("确认")
    with pytest.raises(GateRefusalError) as refused:
        gate.authorize(ids([PINGAN_SELL]))
    assert refused.value.reason == "other_ids"
    assert gate.pending is not None  # a wrong call does not spend the user's yes


def test_one_yes_one_cancel() -> None:
    gate = previewed([MAOTAI_BUY])
    gate.on_user_message("确认")
    gate.authorize(ids([MAOTAI_BUY]))
    with pytest.raises(GateRefusalError):
        gate.authorize(ids([MAOTAI_BUY]))
