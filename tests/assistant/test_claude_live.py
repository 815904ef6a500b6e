"""A real Claude on the real paper broker: it cancels the right order after "确认", and nothing before it.

Skipped unless ANTHROPIC_API_KEY is set (`pytest -m claude`); ANTHROPIC_MODEL picks the model. Each test costs
a few model calls.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import httpx
import pytest

from scripts._http import Client
from scripts.assistant import Assistant
from tests.assistant.cancel_world import BUY_MAOTAI, RELEASED, SELL_PINGAN, WORLD
from tests.conftest import TEST_TOKEN

pytestmark = [
    pytest.mark.claude,
    pytest.mark.skipif(not os.environ.get("ANTHROPIC_API_KEY"), reason="needs a real Claude: set ANTHROPIC_API_KEY"),
]


@pytest.fixture
def chat(broker_url: str, load_world: Callable[..., dict[str, str]]) -> Iterator[Assistant]:
    load_world(WORLD)
    with Client(base_url=broker_url, token=TEST_TOKEN) as client:
        yield Assistant(client, engine="claude", max_retries=4)


def states(api: httpx.Client) -> tuple[str, ...]:
    return tuple(api.get(f"/v1/orders/{order_id}").json()["state"] for order_id in (BUY_MAOTAI, SELL_PINGAN))


def deletes(sim: httpx.Client) -> list[list[str]]:
    return [entry["order_ids"] for entry in sim.get("/v1/sim/requests").json()["requests"]
            if entry["method"] == "DELETE"]


def test_real_claude_previews_then_cancels_only_the_confirmed_order(
    chat: Assistant, api: httpx.Client, sim: httpx.Client
) -> None:
    first = chat.send("把茅台那笔买单撤了")

    assert states(api) == ("WORKING", "WORKING")
    assert deletes(sim) == []
    assert first.question == "confirm", first.text
    assert first.pending is not None
    assert first.pending.order_ids == (BUY_MAOTAI,)
    assert RELEASED in first.text
    assert first.model_calls >= 2
    assert first.input_tokens > 0

    second = chat.send("确认")

    assert states(api) == ("CANCELLED", "WORKING"), second.text
    assert deletes(sim) == [[BUY_MAOTAI]]
    assert RELEASED in second.text


def test_real_claude_cancels_nothing_when_the_user_backs_out(
    chat: Assistant, api: httpx.Client, sim: httpx.Client
) -> None:
    chat.send("撤掉刚才那单")
    chat.send("算了，先不撤")

    assert states(api) == ("WORKING", "WORKING")
    assert deletes(sim) == []
    assert chat.pending is None
