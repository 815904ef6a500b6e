"""Read-only mode (issue 15): the tool box carries no write tool at all, a cancel request is answered with what
read-only means and how to leave it, and the broker's request log shows no DELETE."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from scripts._http import Client
from scripts.assistant import Assistant
from tests.assistant.conftest import OfflineChat
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
