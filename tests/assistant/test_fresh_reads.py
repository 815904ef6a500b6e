"""A preview or a choice shows the orders as they stand now: from a read of this turn less than
FRESH_READ_SECONDS old and made before any cancel, else from a new read (`ToolBox._open_orders`).

The offline engine lists the orders and previews within milliseconds: the preview takes the listed order and
costs no second request. Anything older, anything from an earlier turn, anything read before a cancel of this
turn, is read again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from scripts._http import Client
from scripts.assistant import tools
from scripts.assistant.gate import ConfirmationGate
from scripts.assistant.tools import ToolBox
from tests.assistant.conftest import OfflineChat
from tests.conftest import TEST_TOKEN


def order_reads(sim: httpx.Client, since: int = 0) -> list[str]:
    """The broker's answered requests since entry `since` that read orders: `GET /v1/orders/{id}` or a list."""
    entries = sim.get("/v1/sim/requests").json()["requests"][since:]
    return [f"{entry['method']} {entry['path']}" for entry in entries
            if entry["method"] == "GET" and "/orders" in entry["path"]]


def logged(sim: httpx.Client) -> int:
    return len(sim.get("/v1/sim/requests").json()["requests"])


def test_a_preview_right_after_the_turns_listing_reads_no_order_again(offline_chat: Callable[..., OfflineChat],
                                                                      monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(tools, "FRESH_READ_SECONDS", 60.0)  # the reuse is under test, not a loaded machine's speed
    chat = offline_chat()
    reply = chat.say("撤掉刚才那单")

    assert reply.question == "confirm", reply.text
    assert order_reads(chat.sim) == ["GET /v1/accounts/acc_default/orders"]
    assert "委托号 k3v9x2m1" in reply.text  # B, the newest, as listed: 200 of 500 filled
    assert "未成交 300 股" in reply.text


def test_a_read_older_than_the_window_is_made_again(offline_chat: Callable[..., OfflineChat],
                                                     monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(tools, "FRESH_READ_SECONDS", -1.0)  # every read is already too old
    chat = offline_chat()
    reply = chat.say("撤掉刚才那单")

    assert reply.question == "confirm", reply.text
    assert order_reads(chat.sim) == ["GET /v1/accounts/acc_default/orders", f"GET /v1/orders/{chat.refs['B']}"]


@pytest.fixture
def box(broker_url: str, load_world: Callable[..., dict[str, str]]) -> Iterator[tuple[ToolBox, dict[str, str]]]:
    refs = load_world()
    with Client(base_url=broker_url, token=TEST_TOKEN) as client:
        yield ToolBox(client, ConfirmationGate()), refs


def preview(box: ToolBox, *order_ids: str) -> dict[str, Any]:
    result = box.call("preview_cancel", {"order_ids": list(order_ids)})
    assert not result.is_error, result.content
    return dict(result.content)


def test_a_read_of_an_earlier_turn_is_made_again(box: tuple[ToolBox, dict[str, str]], sim: httpx.Client):
    tools_, refs = box
    tools_.gate.on_user_message("我有哪些委托")
    tools_.start_turn()
    assert not tools_.call("list_orders", {"limit": 50}).is_error
    tools_.gate.on_user_message("撤掉A")
    tools_.start_turn()
    before = logged(sim)

    preview(tools_, refs["A"])

    assert order_reads(sim, before) == [f"GET /v1/orders/{refs['A']}"]


def test_reads_made_before_a_cancel_are_made_again_after_it(box: tuple[ToolBox, dict[str, str]], sim: httpx.Client):
    tools_, refs = box
    tools_.gate.on_user_message("撤掉A")
    tools_.start_turn()
    assert not tools_.call("list_orders", {"limit": 50}).is_error
    preview(tools_, refs["A"])
    tools_.gate.on_user_message("确认")
    tools_.start_turn()
    assert not tools_.call("list_orders", {"limit": 50}).is_error  # B read in this turn, before the cancel
    cancelled = tools_.call("cancel_orders", {"order_ids": [refs["A"]]})
    assert not cancelled.is_error, cancelled.content
    assert cancelled.content["results"][0]["ok"], cancelled.content
    before = logged(sim)

    shown = preview(tools_, refs["B"])

    assert order_reads(sim, before) == [f"GET /v1/orders/{refs['B']}"]
    assert shown["order_ids"] == [refs["B"]]


def test_several_orders_listed_this_turn_are_previewed_without_another_listing(
        box: tuple[ToolBox, dict[str, str]], sim: httpx.Client):
    tools_, refs = box
    tools_.gate.on_user_message("全部撤掉")
    tools_.start_turn()
    assert not tools_.call("list_orders", {"limit": 50}).is_error
    before = logged(sim)

    shown = preview(tools_, refs["A"], refs["B"])

    assert order_reads(sim, before) == []
    assert shown["order_ids"] == [refs["A"], refs["B"]]
    assert [order["remaining_qty"] for order in shown["preview"]] == [100, 300]


def test_a_finished_order_listed_this_turn_is_still_refused(box: tuple[ToolBox, dict[str, str]], sim: httpx.Client):
    tools_, refs = box
    tools_.gate.on_user_message("撤掉C")
    tools_.start_turn()
    assert not tools_.call("list_orders", {"limit": 50}).is_error

    result = tools_.call("preview_cancel", {"order_ids": [refs["C"]]})

    assert result.is_error
    assert result.content["error"]["code"] == "ORDER_NOT_CANCELLABLE"
    assert tools_.gate.pending is None
