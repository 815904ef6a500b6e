"""The engine protocol: an `Assistant` takes an engine object or a name, options an engine does not take are
an error, and a write tool expands a short id once."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from scripts._http import Client
from scripts.assistant import Assistant, ConfirmationGate
from scripts.assistant.offline import OfflineEngine
from scripts.assistant.tools import ToolBox
from tests.assistant.conftest import OfflineChat
from tests.conftest import TEST_TOKEN


def test_an_engine_object_built_over_the_assistants_client_drives_the_same_gate(
        offline_chat: Callable[..., OfflineChat], broker_url: str) -> None:
    chat = offline_chat()
    client = chat.assistant.client
    engine = OfflineEngine(ToolBox(client, ConfirmationGate()))
    assistant = Assistant(client, engine)
    assert assistant.engine is engine
    assert assistant.gate is engine.tools.gate
    reply = assistant.send("撤掉刚才那单")
    assert reply.question == "confirm"
    assert assistant.send("确认").cancel_results


def test_an_engine_object_over_another_client_or_with_options_is_refused(broker_url: str) -> None:
    with Client(base_url=broker_url, token=TEST_TOKEN) as client, \
            Client(base_url=broker_url, token=TEST_TOKEN) as other:
        engine = OfflineEngine(ToolBox(other, ConfirmationGate()))
        with pytest.raises(ValueError, match="own client"):
            Assistant(client, engine)
        with pytest.raises(TypeError, match="engine's constructor"):
            Assistant(other, engine, model="x")


def test_the_offline_engine_rejects_options_it_does_not_take(broker_url: str) -> None:
    with Client(base_url=broker_url, token=TEST_TOKEN) as client:
        with pytest.raises(TypeError):
            Assistant(client, engine="offline", model="claude-sonnet")
        with pytest.raises(ValueError, match="unknown engine"):
            Assistant(client, engine="gpt")


def test_a_short_id_is_expanded_once_per_write(offline_chat: Callable[..., OfflineChat]) -> None:
    chat = offline_chat()
    reply = chat.say("撤掉刚才那单")
    (order_id,) = reply.pending.order_ids
    chat.assistant.gate.on_user_message("确认")
    seq = max(entry["seq"] for entry in chat.requests())
    result = chat.assistant.tools.call("cancel_orders", {"order_ids": [order_id.rsplit("_", 1)[-1]]})
    assert not result.is_error, result.content
    listings = [entry for entry in chat.requests("GET") if entry["seq"] > seq and entry["path"].endswith("/orders")]
    assert len(listings) == 1
    assert chat.requests("DELETE")[-1]["order_ids"] == [order_id]
