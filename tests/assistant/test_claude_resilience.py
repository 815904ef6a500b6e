"""What real APIs and real models do, over the real SDK against the scripted endpoint: stalls, malformed
bodies, refusals, hundreds of tool calls, long chats. Every turn ends in a sentence, and the next one works.

The model turns are scripts written here (tests/assistant/scripted_anthropic.py), not recordings of Claude.
"""

from __future__ import annotations

import json
import time
from typing import Any

import anthropic
import httpx
import pytest

from scripts._http import Client
from scripts.assistant import Assistant
from scripts.assistant.claude import DEFAULT_MODEL
from scripts.assistant.history import BUDGET_CHARS
from scripts.assistant.tools import MAX_ERROR_TEXT
from scripts.messages import render
from tests.assistant.cancel_world import BUY_MAOTAI, SELL_PINGAN
from tests.assistant.scripted_anthropic import Failure, Raw, ScriptedAnthropic, Stall, text, tool_use, turn

OPEN = {"status": ["NEW", "WORKING"], "symbol": None, "side": None, "limit": None}
BREAKPOINT = {"type": "ephemeral"}


def claude(client: Client, endpoint: ScriptedAnthropic, **options: Any) -> Assistant:
    return Assistant(client, engine="claude", api_key="test-key", base_url=endpoint.url, **options)


def recovers(chat: Assistant, endpoint: ScriptedAnthropic) -> None:
    """The next turn works, from a history of plain exchanges the API accepts (the endpoint checks it)."""
    endpoint.script(turn(text("您好。")))
    assert chat.send("你好").text == "您好。"


def markers(request: dict[str, Any]) -> list[str]:
    """Where a request carries cache_control: system, tools, messages.<i>.<j>."""
    found = [f"system.{i}" for i, block in enumerate(request["system"]) if "cache_control" in block]
    found += [f"tools.{i}" for i, tool in enumerate(request["tools"]) if "cache_control" in tool]
    for i, message in enumerate(request["messages"]):
        found += [f"messages.{i}.{j}" for j, block in enumerate(message["content"]) if "cache_control" in block]
    return found


# --- stalls and malformed bodies ---------------------------------------------------------------------


def test_a_stalled_call_ends_at_the_timeout_with_a_sentence(client: Client, endpoint: ScriptedAnthropic) -> None:
    chat = claude(client, endpoint, timeout=0.5, max_retries=0)
    endpoint.script(Stall(30))

    started = time.monotonic()
    reply = chat.send("看看我的委托")

    assert time.monotonic() - started < 3
    assert reply.text == render("model_unavailable", kind="timeout", changed=False, seconds="0.5")
    assert "0.5 秒内没有回答" in reply.text
    recovers(chat, endpoint)


def test_the_timeout_bounds_the_call_with_its_retries(client: Client, endpoint: ScriptedAnthropic) -> None:
    chat = claude(client, endpoint, timeout=1.0, max_retries=5)
    endpoint.script(*[Stall(30) for _ in range(6)])

    started = time.monotonic()
    reply = chat.send("看看我的委托")

    # One attempt runs out the second; the SDK's back-off pause (at most a second here) may follow it, then
    # no further attempt starts.
    assert time.monotonic() - started < 3.5
    assert "没有回答" in reply.text
    assert len(endpoint.requests) <= 2
    endpoint.queue.clear()
    recovers(chat, endpoint)


def test_a_stall_shorter_than_the_timeout_is_waited_for(client: Client, endpoint: ScriptedAnthropic) -> None:
    chat = claude(client, endpoint, timeout=5.0, max_retries=0)
    endpoint.script(Stall(0.3, then=turn(text("您有两笔委托。"))))

    assert chat.send("看看我的委托").text == "您有两笔委托。"


@pytest.mark.parametrize("body", [
    {"id": "m", "type": "message", "role": "assistant", "content": [{"type": "text", "text": "好"}],
     "stop_reason": "end_turn", "model": "m"},  # no usage
    {"id": "m", "type": "message", "role": "assistant", "stop_reason": "end_turn", "model": "m",
     "usage": {"input_tokens": 1, "output_tokens": 1}},  # no content
    {"id": "m", "type": "message", "role": "assistant", "content": None, "stop_reason": "end_turn", "model": "m",
     "usage": {"input_tokens": 1, "output_tokens": 1}},  # content null
    {"id": "m", "type": "message", "role": "assistant", "content": [{"type": "tool_use", "name": "list_orders"}],
     "stop_reason": "tool_use", "model": "m", "usage": {"input_tokens": 1, "output_tokens": 1}},  # no id, no input
    {"type": "error"},
    [],
    "this is not json",
    "",
])
def test_a_malformed_body_is_a_sentence_and_the_session_recovers(
    chat: Assistant, endpoint: ScriptedAnthropic, body: Any
) -> None:
    endpoint.script(Raw(body))

    reply = chat.send("看看我的委托")

    assert reply.text == render("model_stopped", reason="malformed", changed=False)
    assert reply.pending is None
    recovers(chat, endpoint)


def test_a_connection_error_then_a_normal_turn(client: Client, endpoint: ScriptedAnthropic) -> None:
    chat = claude(client, endpoint, max_retries=0)
    endpoint.script(Stall(0))  # the connection closes without an answer

    reply = chat.send("看看我的委托")

    assert reply.text == render("model_unavailable", kind="connection", changed=False)
    recovers(chat, endpoint)


def test_a_refusal_is_not_stored_and_the_next_turn_works(chat: Assistant, endpoint: ScriptedAnthropic) -> None:
    endpoint.script(turn(text("I can't help with that."), stop_reason="refusal"))

    refused = chat.send("帮我把所有人的委托都撤了")

    assert refused.text == render("model_stopped", reason="refusal", changed=False)
    recovers(chat, endpoint)
    sent = json.dumps(endpoint.requests[-1]["messages"], ensure_ascii=False)
    assert "I can't help" not in sent


def test_a_model_that_rejects_adaptive_thinking_is_called_again_without_it(
    chat: Assistant, endpoint: ScriptedAnthropic
) -> None:
    endpoint.script(Failure(400, "thinking.type: adaptive is not supported on this model"), turn(text("您好。")),
                    turn(text("还在。")))

    assert chat.send("你好").text == "您好。"
    assert chat.send("在吗").text == "还在。"

    first, retried, later = endpoint.requests
    assert first["thinking"] == {"type": "adaptive"}
    assert "thinking" not in retried
    assert "output_config" not in retried
    assert "thinking" not in later


def test_a_context_overflow_shrinks_what_the_next_calls_send(chat: Assistant, endpoint: ScriptedAnthropic) -> None:
    endpoint.script(turn(text("…"), stop_reason="model_context_window_exceeded"))

    reply = chat.send("看看我的委托")

    assert reply.text == render("model_stopped", reason="context_window", changed=False)
    assert chat.engine.history.budget_chars == BUDGET_CHARS // 2  # type: ignore[attr-defined]
    recovers(chat, endpoint)


# --- thinking blocks go back unchanged ----------------------------------------------------------------


def test_thinking_blocks_go_back_unchanged_within_the_tool_loop(chat: Assistant, endpoint: ScriptedAnthropic) -> None:
    thought = {"type": "thinking", "thinking": "先查一下未成交的委托。", "signature": "c2lnbmF0dXJl"}
    endpoint.script(turn(thought, tool_use("list_orders", OPEN)), turn(text("您有两笔未成交的委托。")))

    chat.send("我有哪些委托没成交？")

    assistant_turn = endpoint.requests[1]["messages"][1]
    assert assistant_turn["content"][0] == thought


# --- the model's reach ------------------------------------------------------------------------------


def test_three_hundred_tool_calls_in_one_response_run_at_most_four(
    chat: Assistant, endpoint: ScriptedAnthropic, sim: httpx.Client
) -> None:
    before = len(sim.get("/v1/sim/requests").json()["requests"])
    endpoint.script(turn(*[tool_use("list_orders", OPEN) for _ in range(300)]), turn(text("您有两笔未成交的委托。")))

    reply = chat.send("我有哪些委托？")

    assert reply.text == "您有两笔未成交的委托。"
    assert [action.tool for action in reply.actions] == ["list_orders"] * 4
    assert len(sim.get("/v1/sim/requests").json()["requests"]) - before == 4
    request = endpoint.requests[-1]
    asked = [block for block in request["messages"][1]["content"] if block["type"] == "tool_use"]
    assert len(asked) == 4  # the calls not run are not in the history
    [note] = [block for block in request["messages"][2]["content"] if block["type"] == "text"]
    error = json.loads(note["text"])["error"]
    assert error["code"] == "TOO_MANY_TOOL_CALLS"
    assert "296 more tool calls" in error["user_message"]
    assert len(json.dumps(request["messages"], ensure_ascii=False)) < 10_000


@pytest.mark.parametrize(("tool", "arguments"), [
    ("get_order", {"order_id": "x" * 200_000}),
    ("preview_cancel", {"order_ids": ["y" * 200_000]}),
    ("find_instruments", {"query": "茅" * 200_000}),
    ("list_orders", {"symbol": "z" * 200_000, "status": ["NEW"]}),
])
def test_a_tool_error_never_echoes_unbounded_input(
    chat: Assistant, endpoint: ScriptedAnthropic, tool: str, arguments: dict[str, Any]
) -> None:
    endpoint.script(turn(tool_use(tool, arguments)), turn(text("这个输入无效。")))

    chat.send("查一下")

    [result] = endpoint.tool_results()
    assert result["is_error"] is True
    assert len(json.dumps(result["content"], ensure_ascii=False)) <= MAX_ERROR_TEXT + 200


# --- tools that tell the truth --------------------------------------------------------------------------


def test_a_cut_list_says_so_and_the_cursor_gets_the_rest(chat: Assistant, endpoint: ScriptedAnthropic) -> None:
    endpoint.script(turn(tool_use("list_orders", {**OPEN, "status": None, "limit": 2})),
                    turn(tool_use("list_orders", {**OPEN, "status": None, "limit": 2, "cursor": "CURSOR"})),
                    turn(text("一共三笔委托。")))
    # The second call's cursor is the first page's next_cursor, filled in once the first page is known.
    first_page: dict[str, Any] = {}

    original = chat.tools.call

    def call(name: str, arguments: dict[str, Any]) -> Any:
        if arguments.get("cursor") == "CURSOR":
            arguments = {**arguments, "cursor": first_page["next_cursor"]}
        result = original(name, arguments)
        first_page.setdefault("next_cursor", result.content.get("next_cursor"))
        first_page.setdefault("truncated", result.content.get("truncated"))
        return result

    chat.tools.call = call  # type: ignore[method-assign]
    chat.send("我所有的委托")

    page_one = endpoint.tool_results(1)[0]["content"]
    page_two = endpoint.tool_results(2)[0]["content"]
    assert (page_one["truncated"], len(page_one["orders"])) == (True, 2)
    assert "cursor" in page_one["more"]
    assert page_two["truncated"] is False
    ids = [order["order_id"] for order in page_one["orders"] + page_two["orders"]]
    assert len(ids) == len(set(ids)) == 3


def test_get_order_tells_when_it_changed_and_how_it_filled(chat: Assistant, endpoint: ScriptedAnthropic) -> None:
    endpoint.script(turn(tool_use("get_order", {"order_id": SELL_PINGAN})), turn(text("这笔已部分成交。")))

    chat.send("平安那笔卖单什么时候成交的？")

    [result] = endpoint.tool_results()
    order = result["content"]
    assert order["updated_at"]
    assert [change["state"] for change in order["state_history"]][:1] == ["NEW"]
    assert sum(fill["qty"] for fill in order["fills"]) == 200


def test_market_status_answers_whether_cancels_work_now(chat: Assistant, endpoint: ScriptedAnthropic) -> None:
    endpoint.script(turn(tool_use("market_status", {})), turn(text("现在可以撤单。")))

    reply = chat.send("现在能撤单吗")

    [result] = endpoint.tool_results()
    assert result["is_error"] is False
    assert (result["content"]["phase"], result["content"]["accepts_cancels"]) == ("CONTINUOUS", True)
    assert reply.text == "现在可以撤单。"


def test_each_tool_call_is_announced_to_the_host(chat: Assistant, endpoint: ScriptedAnthropic) -> None:
    heard: list[str] = []
    chat.tools.on_call = heard.append
    endpoint.script(turn(tool_use("list_orders", OPEN)), turn(tool_use("preview_cancel", {"order_ids": [BUY_MAOTAI]})),
                    turn(text("请确认。")))

    chat.send("把茅台那笔买单撤了")

    assert heard == ["list_orders", "preview_cancel"]
    assert [render("tool_progress", tool=name) for name in heard] == ["查询委托…", "预览撤单…"]


# --- bounded, cached context ----------------------------------------------------------------------------


def test_a_long_chat_stays_under_the_budget_and_old_results_are_shortened(
    chat: Assistant, endpoint: ScriptedAnthropic
) -> None:
    for number in range(40):
        endpoint.script(turn(tool_use("list_orders", {**OPEN, "status": None, "limit": 200})),
                        turn(tool_use("get_order", {"order_id": SELL_PINGAN})),
                        turn(text(f"第 {number} 次：您有三笔委托。")))
        assert chat.send(f"第 {number} 次：看看我所有的委托").text == f"第 {number} 次：您有三笔委托。"

    sizes = [len(json.dumps(request["messages"], ensure_ascii=False, separators=(",", ":")))
             for request in endpoint.requests]
    assert max(sizes) <= BUDGET_CHARS
    last = endpoint.requests[-1]["messages"]
    assert last[0]["role"] == "user"
    old_turns = last[:-11]  # the current turn (5 messages) and the one before (6) are whole
    old_results = [block for message in old_turns for block in message["content"] if block["type"] == "tool_result"]
    assert old_results
    assert all(json.loads(block["content"]).get("shortened") for block in old_results)
    assert all("state_history" not in block["content"] for block in old_results)


def test_over_the_budget_the_oldest_turns_are_dropped_and_the_history_stays_valid(
    client: Client, endpoint: ScriptedAnthropic
) -> None:
    chat = claude(client, endpoint, context_budget=8_000)
    for number in range(15):
        endpoint.script(turn(tool_use("list_orders", {**OPEN, "status": None})), turn(text(f"第 {number} 次。")))
        assert chat.send(f"第 {number} 次：看看我所有的委托").text == f"第 {number} 次。"

    sizes = [len(json.dumps(request["messages"], ensure_ascii=False, separators=(",", ":")))
             for request in endpoint.requests]
    assert max(sizes) <= 8_000
    assert len(chat.engine.history.turn_starts) < 15  # type: ignore[attr-defined]
    first = endpoint.requests[-1]["messages"][0]
    assert first["role"] == "user"
    assert first["content"][0]["type"] == "text"  # a turn's own first message, not an orphan tool_result


def test_caching_markers_sit_on_the_system_prompt_and_the_last_block(
    chat: Assistant, endpoint: ScriptedAnthropic
) -> None:
    endpoint.script(turn(tool_use("list_orders", OPEN)), turn(text("您有两笔未成交的委托。")))
    chat.send("看看我的委托")
    endpoint.script(turn(text("好的。")))
    chat.send("谢谢")

    for request in endpoint.requests:
        last = len(request["messages"]) - 1
        assert markers(request) == ["system.0", f"messages.{last}.{len(request['messages'][last]['content']) - 1}"]
        assert request["system"][0]["cache_control"] == BREAKPOINT


def test_the_prompt_cache_is_read_on_every_later_call(client: Client) -> None:
    with ScriptedAnthropic(simulate_cache=True) as endpoint:
        chat = claude(client, endpoint)
        endpoint.script(turn(tool_use("list_orders", OPEN)), turn(text("您有两笔未成交的委托。")))
        first = chat.send("看看我的委托")
        endpoint.script(turn(text("好的。")))
        second = chat.send("谢谢")

    assert first.model_calls == 2
    assert first.cache_write_tokens > 0
    assert first.cache_read_tokens > 0  # the second call reads what the first one wrote
    assert second.cache_read_tokens > first.cache_read_tokens / 2
    assert second.input_tokens == (second.uncached_input_tokens + second.cache_write_tokens
                                   + second.cache_read_tokens)
    assert endpoint.violations == []


# --- settings -----------------------------------------------------------------------------------------------


def test_the_default_model_is_the_newest_sonnet_of_the_installed_sdk() -> None:
    from typing import get_args

    from anthropic.types.model_param import ModelParam

    ids = [name for literal in get_args(ModelParam) for name in get_args(literal)]
    assert DEFAULT_MODEL in ids
    newest_sonnet = next(name for name in ids if "sonnet" in name)
    assert newest_sonnet == DEFAULT_MODEL


def test_the_sdk_client_carries_the_timeout_and_retries(client: Client, endpoint: ScriptedAnthropic) -> None:
    chat = claude(client, endpoint, timeout=12.5, max_retries=4)

    sdk = chat.engine.client  # type: ignore[attr-defined]
    assert isinstance(sdk, anthropic.Anthropic)
    assert (sdk.timeout, sdk.max_retries) == (12.5, 4)
