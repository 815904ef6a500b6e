"""The account's kind (issue 15): 模拟账户 / 实盘账户 / 账户类型未知 from the `environment` field of
GET /v1/accounts/{id}, never assumed. The broker always serves "paper"; a server that leaves the field out (or a
live one) is played by a transport in front of the real broker that rewrites only the account's answer, since
no real part of the project serves those.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from scripts._http import Client
from scripts.assistant import Assistant
from tests.assistant.conftest import OfflineChat
from tests.conftest import TEST_TOKEN

ACCOUNT_PATH = "/v1/accounts/acc_default"


class RewritingTransport(httpx.BaseTransport):
    """Forwards to the real broker; the account's answer gets `environment` set to `kind` (None: removed).
    Counts the account reads."""

    def __init__(self, kind: str | None) -> None:
        self.kind = kind
        self.account_reads = 0
        self._real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._real.handle_request(request)
        if request.method != "GET" or request.url.path != ACCOUNT_PATH:
            return response
        self.account_reads += 1
        response.read()
        body = json.loads(response.content)
        body.pop("environment", None)
        if self.kind is not None:
            body["environment"] = self.kind
        return httpx.Response(response.status_code, json=body)

    def close(self) -> None:
        self._real.close()


@pytest.fixture
def rewritten(broker_url: str, load_world: Callable[..., dict[str, str]]) -> Iterator[Callable[..., Any]]:
    made: list[httpx.Client] = []

    def start(kind: str | None) -> tuple[Assistant, RewritingTransport]:
        load_world()
        transport = RewritingTransport(kind)
        http = httpx.Client(transport=transport, timeout=30)
        made.append(http)
        return Assistant(Client(base_url=broker_url, token=TEST_TOKEN, http_client=http)), transport

    yield start
    for http in made:
        http.close()


def test_the_broker_serves_paper_and_the_client_reads_it(broker_url: str, load_world) -> None:
    load_world()
    with Client(base_url=broker_url, token=TEST_TOKEN) as client:
        assert client.account().environment == "paper"


def test_a_cancel_preview_names_the_paper_account(offline_chat: Callable[..., OfflineChat]) -> None:
    chat = offline_chat()
    reply = chat.say("撤掉刚才那单")
    assert reply.question == "confirm", reply.text
    assert "账户：模拟账户" in reply.text
    assert "实盘" not in reply.text
    assert "账户类型未知" not in reply.text


def test_the_account_kind_is_read_once_per_session(rewritten) -> None:
    assistant, transport = rewritten("paper")
    for _ in range(2):
        reply = assistant.send("撤掉刚才那单")
        assert "账户：模拟账户" in reply.text
        assistant.send("取消")
    assert transport.account_reads == 1


def test_a_missing_environment_is_shown_as_unknown_never_as_paper(rewritten) -> None:
    assistant, _ = rewritten(None)
    reply = assistant.send("撤掉刚才那单")
    assert reply.question == "confirm", reply.text
    assert "账户类型未知" in reply.text
    assert "模拟账户" not in reply.text
    assert assistant.tools.environment() is None


def test_a_live_accounts_preview_is_visibly_marked(rewritten) -> None:
    assistant, _ = rewritten("live")
    reply = assistant.send("撤掉刚才那单")
    assert reply.question == "confirm", reply.text
    assert reply.pending is not None
    assert reply.pending.text.startswith("⚠ 实盘账户")
    assert "模拟账户" not in reply.text


def test_a_missing_field_is_accepted_by_the_clients_model() -> None:
    from scripts.models import Account

    body = {"account_id": "acc_default", "cash": {"available": "1", "frozen": "0", "total": "1"},
            "positions": [], "market_value": "0", "equity": "1", "as_of": "2026-11-24T10:00:00+08:00"}
    assert Account.model_validate(body).environment is None


def test_the_kind_is_kept_for_the_session_and_read_again_by_the_next(rewritten, broker_url: str) -> None:
    """The lifetime of the kept kind is the tool box's, one chat session over one Client: an account does not
    change kind, and a different broker or account means a new Client and so a new session, which reads it
    again from the API."""
    assistant, transport = rewritten("paper")
    assert "账户：模拟账户" in assistant.send("撤掉刚才那单").text
    assistant.send("取消")
    transport.kind = "live"
    assert "账户：模拟账户" in assistant.send("撤掉刚才那单").text
    assistant.send("取消")

    with httpx.Client(transport=transport, timeout=30) as http:
        reply = Assistant(Client(base_url=broker_url, token=TEST_TOKEN, http_client=http)).send("撤掉刚才那单")

    assert reply.pending is not None
    assert reply.pending.text.startswith("⚠ 实盘账户")
    assert transport.account_reads == 2
