"""A broker restart in the middle of a cancel loses nothing: the preview survives it, or the user hears the
broker is unreachable and nothing was cancelled, and the order is still there to cancel afterwards."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx

from scripts._http import Client
from scripts.assistant import Assistant
from tests.assistant.cancel_world import BUY_MAOTAI, WORLD
from tests.broker._broker_process import free_port, start_broker
from tests.conftest import TEST_TOKEN


def _order_state(url: str, order_id: str) -> str:
    headers = {"Authorization": f"Bearer {TEST_TOKEN}"}
    return httpx.get(f"{url}/v1/orders/{order_id}", headers=headers).json()["state"]


def test_a_preview_confirmed_after_the_broker_restarted_cancels_the_same_order(tmp_path: Path) -> None:
    db, port, log = tmp_path / "broker.db", free_port(), tmp_path / "broker.log"
    broker = start_broker(db, TEST_TOKEN, sim=True, stderr_path=log, port=port)
    refs = httpx.post(f"{broker.url}/v1/sim/reset", json=WORLD).json()["orders"]
    with Client(base_url=broker.url, token=TEST_TOKEN) as client:
        assistant = Assistant(client, engine="offline")
        preview = assistant.send("撤掉刚才那单")
        assert preview.question == "confirm"
        order_id = preview.pending.order_ids[0]
        assert order_id == refs["A"] == BUY_MAOTAI
        broker.stop(signal.SIGKILL)
        broker = start_broker(db, TEST_TOKEN, sim=True, stderr_path=log, port=port)
        try:
            done = assistant.send("确认")
            assert "已撤单" in done.text
            assert _order_state(broker.url, order_id) == "CANCELLED"
        finally:
            broker.stop()


def test_a_confirmation_while_the_broker_is_down_cancels_nothing_and_says_so(tmp_path: Path) -> None:
    db, port, log = tmp_path / "broker.db", free_port(), tmp_path / "broker.log"
    broker = start_broker(db, TEST_TOKEN, sim=True, stderr_path=log, port=port)
    httpx.post(f"{broker.url}/v1/sim/reset", json=WORLD).raise_for_status()
    with Client(base_url=broker.url, token=TEST_TOKEN, max_retries=0) as client:
        assistant = Assistant(client, engine="offline")
        order_id = assistant.send("撤掉刚才那单").pending.order_ids[0]
        broker.stop(signal.SIGKILL)
        down = assistant.send("确认")
        assert "连不上交易系统" in down.text
        assert "已撤单" not in down.text
        broker = start_broker(db, TEST_TOKEN, sim=True, stderr_path=log, port=port)
        try:
            assert _order_state(broker.url, order_id) == "WORKING"
            again = assistant.send("撤掉刚才那单")
            assert again.pending is not None
            assert again.pending.order_ids == (order_id,)
            assistant.send("确认")
            assert _order_state(broker.url, order_id) == "CANCELLED"
        finally:
            broker.stop()
