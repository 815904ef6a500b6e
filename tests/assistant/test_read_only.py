"""Read-only mode (issue 15): the tool box carries no write tool at all, a cancel request is answered with what
read-only means and how to leave it, and the broker's request log shows no DELETE."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from scripts._http import Client
from scripts.assistant import Assistant
from scripts.messages import render
from tests.assistant.cancel_world import BUY_MAOTAI
from tests.assistant.conftest import OfflineChat
from tests.assistant.scripted_anthropic import ScriptedAnthropic, text, tool_use, turn
from tests.conftest import TEST_TOKEN


@pytest.fixture
def read_only_chat(offline_chat: Callable[..., OfflineChat], broker_url: str) -> OfflineChat:
    chat = offline_chat()
    client = Client(base_url=broker_url, token=TEST_TOKEN)
    chat.assistant = Assistant(client, engine="offline", read_only=True)
    return chat


def test_a_read_only_tool_box_has_no_write_tool_at_all(read_only_chat: OfflineChat) -> None:
    tools = read_only_chat.assistant.tools
    assert "cancel_orders" not in tools.tools
    assert "preview_cancel" not in tools.tools
    assert {definition["name"] for definition in tools.definitions()} == set(tools.tools)
    assert all(tool.access.value == "read" for tool in tools.tools.values())
    assert tools.call("cancel_orders", {"order_ids": ["abc12345"]}).content["error"]["code"] == "UNKNOWN_TOOL"


@pytest.mark.parametrize("text", ["撤掉刚才那单", "全部撤掉", "把茅台那笔买单撤了"])
def test_a_cancel_request_is_answered_with_what_read_only_means(read_only_chat: OfflineChat, text: str) -> None:
    reply = read_only_chat.say(text)
    assert "只读模式" in reply.text
    assert "TRADING_READ_ONLY" in reply.text
    assert "--read-only" in reply.text
    assert reply.pending is None
    assert reply.question is None
    assert "确认撤销吗" not in reply.text
    confirmed = read_only_chat.say("确认")
    assert confirmed.cancel_results == ()
    assert read_only_chat.requests("DELETE") == []
    assert read_only_chat.state("A") in ("NEW", "WORKING")


def test_reading_still_works_in_read_only_mode(read_only_chat: OfflineChat) -> None:
    reply = read_only_chat.say("我有哪些委托")
    assert "只读模式" not in reply.text
    assert "贵州茅台" in reply.text


def test_an_engine_over_a_writing_tool_box_is_refused_as_read_only(offline_chat: Callable[..., OfflineChat]) -> None:
    assistant = offline_chat().assistant
    with pytest.raises(ValueError, match="read_only"):
        Assistant(assistant.client, engine=assistant.engine, read_only=True)


def test_the_claude_engine_is_told_and_offered_no_write_tool(read_only_chat: OfflineChat) -> None:
    from scripts.assistant.claude import ClaudeEngine

    engine = ClaudeEngine(read_only_chat.assistant.tools)
    names = {definition["name"] for definition in engine.tool_definitions}
    assert not names & {"cancel_orders", "preview_cancel"}
    assert "read-only" in engine.system[0]["text"]


# --- the Claude engine, driven through the real SDK against the scripted Messages endpoint -------------

READ_ONLY_WORDS = ("现在是只读模式，不能撤单。要撤单，请取消环境变量 TRADING_READ_ONLY（或去掉 --read-only 参数）后"
                   "重新启动对话。")


def test_a_claude_conversation_in_read_only_mode_offers_no_write_tool_and_cancels_nothing(
    client: Client, endpoint: ScriptedAnthropic, api: httpx.Client, sim: httpx.Client
) -> None:
    chat = Assistant(client, engine="claude", read_only=True, api_key="test-key", base_url=endpoint.url)
    endpoint.script(turn(tool_use("list_orders", {"status": ["NEW", "WORKING"], "symbol": None, "side": None,
                                                  "limit": None, "cursor": None})),
                    turn(text(READ_ONLY_WORDS)))

    reply = chat.send("撤掉刚才那单")

    for request in endpoint.requests:  # every request the model saw: no tool that could ask for or make a cancel
        names = {tool["name"] for tool in request["tools"]}
        assert "list_orders" in names
        assert not names & {"preview_cancel", "cancel_orders"}
        assert "read-only" in "".join(block["text"] for block in request["system"])
    assert reply.text == READ_ONLY_WORDS
    assert (reply.pending, reply.question) == (None, None)

    # A model that claims a cancel anyway is corrected, and "确认" has nothing to confirm.
    endpoint.script(turn(text("好的，已为您撤单。")))
    confirmed = chat.send("确认")
    assert render("nothing_cancelled") in confirmed.text
    assert confirmed.cancel_results == ()
    assert [entry for entry in sim.get("/v1/sim/requests").json()["requests"] if entry["method"] == "DELETE"] == []
    assert api.get(f"/v1/orders/{BUY_MAOTAI}").json()["state"] == "WORKING"
