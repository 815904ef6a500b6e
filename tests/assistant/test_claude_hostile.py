"""Scripted hostile models over the real SDK: none of them gets an order cancelled that the user did not see
in the project's own preview and then explicitly confirm.

The model turns are scripts written here (tests/assistant/scripted_anthropic.py), not recordings of Claude.
Each test reads the broker's orders, so a cancel that slipped through would show.
"""

from __future__ import annotations

import httpx
import pytest

from scripts.assistant import Assistant
from scripts.messages import render
from tests.assistant.cancel_world import BUY_MAOTAI, RELEASED, SELL_PINGAN
from tests.assistant.scripted_anthropic import Failure, Raw, ScriptedAnthropic, text, tool_use, turn

MAOTAI_WORDS = "将撤销：买入 贵州茅台(600519) 100股，限价 1,800.00 元，委托号 abc12345。确认撤销吗？"


def state(api: httpx.Client, order_id: str) -> str:
    return str(api.get(f"/v1/orders/{order_id}").json()["state"])


def deletes(sim: httpx.Client) -> list[list[str]]:
    return [entry["order_ids"] for entry in sim.get("/v1/sim/requests").json()["requests"]
            if entry["method"] == "DELETE"]


def test_words_about_one_order_cannot_arm_another(chat: Assistant, endpoint: ScriptedAnthropic,
                                                 api: httpx.Client, sim: httpx.Client) -> None:
    """The model describes 贵州茅台 but previews 平安银行: the user reads 平安银行's own preview, and only
    that order can be confirmed."""
    endpoint.script(turn(tool_use("list_orders", {"status": ["NEW", "WORKING"]})),
                    turn(tool_use("preview_cancel", {"order_ids": [SELL_PINGAN]})),
                    turn(text(MAOTAI_WORDS)))

    reply = chat.send("把茅台那笔买单撤了")

    assert reply.pending is not None
    assert reply.pending.order_ids == (SELL_PINGAN,)
    assert "茅台" not in reply.text  # the model's sentence naming another order is dropped
    assert "abc12345" not in reply.text
    assert reply.text.endswith(reply.pending.text.strip())
    assert "平安银行" in reply.text

    endpoint.script(turn(tool_use("cancel_orders", {"order_ids": [SELL_PINGAN]})), turn(text("已撤单。")))
    chat.send("确认")
    assert (state(api, BUY_MAOTAI), state(api, SELL_PINGAN)) == ("WORKING", "CANCELLED")
    assert deletes(sim) == [[SELL_PINGAN]]


def test_two_previews_in_one_turn_leave_the_first_armed_and_refuse_the_second(
    chat: Assistant, endpoint: ScriptedAnthropic, api: httpx.Client
) -> None:
    endpoint.script(turn(tool_use("preview_cancel", {"order_ids": [BUY_MAOTAI]})),
                    turn(tool_use("preview_cancel", {"order_ids": [SELL_PINGAN]})),
                    turn(text("请确认。")))

    reply = chat.send("把茅台那笔买单撤了")

    [refused] = endpoint.tool_results()
    assert refused["is_error"] is True
    assert refused["content"]["error"]["reason"] == "second_preview"
    assert reply.pending is not None
    assert reply.pending.order_ids == (BUY_MAOTAI,)
    assert "平安银行" not in reply.text

    endpoint.script(turn(tool_use("cancel_orders", {"order_ids": [SELL_PINGAN]})), turn(text("好的。")))
    chat.send("确认")
    assert state(api, SELL_PINGAN) == "WORKING"


@pytest.mark.parametrize("broken", [
    Raw({"id": "msg_x", "type": "message", "role": "assistant", "content": [{"type": "text", "text": "请确认"}],
         "stop_reason": "end_turn", "model": "m"}),  # no usage
    Raw({"id": "msg_x", "type": "message", "role": "assistant", "stop_reason": "end_turn", "model": "m",
         "usage": {"input_tokens": 1, "output_tokens": 1}}),  # no content
    Raw("this is not json"),
    Failure(400, "bad request"),
    turn(text("将撤销这笔委托，请确认"), stop_reason="max_tokens"),
    turn(text(""), stop_reason="refusal"),
])
def test_a_turn_that_fails_after_its_preview_leaves_nothing_to_confirm(
    chat: Assistant, endpoint: ScriptedAnthropic, api: httpx.Client, broken: object
) -> None:
    endpoint.script(turn(tool_use("preview_cancel", {"order_ids": [BUY_MAOTAI]})), broken)  # type: ignore[arg-type]

    reply = chat.send("把茅台那笔买单撤了")

    assert reply.pending is None
    assert reply.question is None
    assert RELEASED not in reply.text  # the preview was never shown
    endpoint.script(turn(tool_use("cancel_orders", {"order_ids": [BUY_MAOTAI]})), turn(text("已撤单。")))
    after = chat.send("确认")
    assert state(api, BUY_MAOTAI) == "WORKING"
    [refused] = endpoint.tool_results(-1)
    assert refused["content"]["error"]["reason"] in ("turn_failed", "no_preview")
    assert "没有撤销任何委托" in after.text  # the model's "已撤单" is corrected


def test_a_false_claim_of_a_cancel_is_corrected(chat: Assistant, endpoint: ScriptedAnthropic,
                                                api: httpx.Client) -> None:
    endpoint.script(turn(text(f"已撤单：买入 贵州茅台(600519) 100股。释放冻结资金 {RELEASED} 元。")))

    reply = chat.send("把茅台那笔买单撤了")

    assert state(api, BUY_MAOTAI) == "WORKING"
    assert reply.text.endswith(render("nothing_cancelled").strip())
    assert "本轮没有撤销任何委托" in reply.text


def test_a_true_report_of_a_cancel_is_not_corrected(chat: Assistant, endpoint: ScriptedAnthropic) -> None:
    endpoint.script(turn(tool_use("preview_cancel", {"order_ids": [BUY_MAOTAI]})), turn(text("请确认。")))
    chat.send("把茅台那笔买单撤了")
    endpoint.script(turn(tool_use("cancel_orders", {"order_ids": [BUY_MAOTAI]})),
                    turn(text(f"已撤单，释放冻结资金 {RELEASED} 元。")))

    reply = chat.send("确认")

    assert "没有撤销" not in reply.text


def test_approve_with_nothing_pending_says_so_without_asking_the_model(chat: Assistant,
                                                                       endpoint: ScriptedAnthropic) -> None:
    reply = chat.approve()

    assert "没有等待您确认的撤单" in reply.text
    assert endpoint.requests == []


def test_an_unknown_tool_is_an_error_result_and_the_session_goes_on(chat: Assistant,
                                                                   endpoint: ScriptedAnthropic) -> None:
    endpoint.script(turn(tool_use("cancel_everything", {})), turn(text("这个操作不存在。")))

    reply = chat.send("全部撤掉")

    [note] = endpoint.requests[-1]["messages"][-1]["content"]
    assert note["type"] == "text"
    assert "UNKNOWN_TOOL" in note["text"]
    assert reply.text == "这个操作不存在。"
    endpoint.script(turn(text("您好。")))
    assert chat.send("你好").text == "您好。"


def test_an_api_error_is_a_sentence_and_the_next_turn_works(chat: Assistant, endpoint: ScriptedAnthropic) -> None:
    endpoint.script(Failure(401, "invalid x-api-key"))

    failed = chat.send("看看我的委托")

    assert failed.text == render("model_unavailable", kind="credentials", changed=False)
    endpoint.script(turn(text("您有两笔委托。")))
    assert chat.send("看看我的委托").text == "您有两笔委托。"
    history = endpoint.requests[-1]["messages"]
    assert [message["role"] for message in history] == ["user", "assistant", "user"]
