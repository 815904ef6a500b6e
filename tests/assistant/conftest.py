"""Fixtures for the assistant's tests: an offline assistant talking to the live paper broker over HTTP.

    def test_x(offline_chat):
        chat = offline_chat(world)          # loads the world, builds Assistant(Client(...), engine="offline")
        reply = chat.say("撤掉刚才那单")
        assert chat.state("A") == "WORKING"
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from scripts._http import Client
from scripts.assistant import Assistant, Reply
from tests.assistant.cancel_world import WORLD
from tests.assistant.scripted_anthropic import ScriptedAnthropic
from tests.conftest import TEST_TOKEN


@dataclass
class OfflineChat:
    """One conversation with the offline engine over a freshly loaded world."""

    assistant: Assistant
    refs: dict[str, str]  # scenario ref → the broker's order id
    api: httpx.Client
    sim: httpx.Client

    def say(self, text: str) -> Reply:
        return self.assistant.send(text)

    def order(self, ref: str) -> dict[str, Any]:
        response = self.api.get(f"/v1/orders/{self.refs[ref]}")
        assert response.status_code == 200, response.text
        return response.json()

    def state(self, ref: str) -> str:
        return str(self.order(ref)["state"])

    def short(self, ref: str) -> str:
        return self.refs[ref].rsplit("_", 1)[-1]

    def requests(self, method: str | None = None) -> list[dict[str, Any]]:
        """What the broker answered since the world was loaded (the graders' source of truth)."""
        entries = self.sim.get("/v1/sim/requests").json()["requests"]
        return [entry for entry in entries if method is None or entry["method"] == method]

    def deleted_ids(self) -> list[str]:
        return [order_id for entry in self.requests("DELETE") for order_id in entry["order_ids"]]

    def arm(self, kind: str, ref: str, **fields: Any) -> None:
        response = self.sim.post("/v1/sim/faults", json={"kind": kind, "order_id": self.refs[ref], **fields})
        assert response.status_code == 201, response.text

    def pending_ids(self, reply: Reply) -> set[str]:
        assert reply.pending is not None, reply.text
        return set(reply.pending.order_ids)

    def ids(self, *refs: str) -> set[str]:
        return {self.refs[ref] for ref in refs}


@pytest.fixture
def offline_chat(broker_url: str, api: httpx.Client, sim: httpx.Client,
                 load_world: Callable[..., dict[str, str]]) -> Iterator[Callable[..., OfflineChat]]:
    """A factory: `offline_chat(world, timeout=None)` loads `world` and starts a conversation."""
    clients: list[Client] = []

    def start(world: dict[str, Any] | None = None, timeout: float | httpx.Timeout | None = None) -> OfflineChat:
        refs = load_world(world)
        options: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        client = Client(base_url=broker_url, token=TEST_TOKEN, **options)
        clients.append(client)
        return OfflineChat(Assistant(client, engine="offline"), refs, api, sim)

    yield start
    for client in clients:
        client.close()


@pytest.fixture
def assistant(offline_chat: Callable[..., OfflineChat]) -> Assistant:
    """The offline assistant over BASE_WORLD (tests/conftest.py)."""
    return offline_chat().assistant


# --- the Claude engine over the real SDK, against the scripted Messages endpoint -----------------------


@pytest.fixture
def endpoint() -> Iterator[ScriptedAnthropic]:
    with ScriptedAnthropic() as server:
        yield server
        # Every request the engine made was a conversation the real API would accept.
        assert server.violations == []
        assert server.unscripted == 0


@pytest.fixture
def client(broker_url: str, load_world: Callable[..., dict[str, str]]) -> Iterator[Client]:
    load_world(WORLD)
    with Client(base_url=broker_url, token=TEST_TOKEN) as trading:
        yield trading


@pytest.fixture
def chat(client: Client, endpoint: ScriptedAnthropic) -> Assistant:
    return Assistant(client, engine="claude", api_key="test-key", base_url=endpoint.url)
