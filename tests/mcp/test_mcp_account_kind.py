"""Every MCP preview says which kind of account it is about, from the API's `environment` — a live account visibly
marked, a missing field said as unknown, never assumed paper. The broker always answers paper, so these tests put a
proxy in front of it that rewrites that one field, and run the server in process with the SDK's client."""

from __future__ import annotations

from typing import Any

import httpx
import mcp_types as types
import pytest
from mcp import Client as McpClient

from scripts._http import Client
from scripts.mcp import build_server
from tests.conftest import TEST_TOKEN
from tests.mcp.helpers import run_async


def rewriting_client(broker_url: str, environment: str | None) -> Client:
    """A Client whose account answer says `environment` (None: the field left out)."""
    upstream = httpx.Client(base_url=broker_url, timeout=10)

    def forward(request: httpx.Request) -> httpx.Response:
        answer = upstream.request(request.method, request.url.raw_path.decode(), headers=dict(request.headers),
                                  content=request.content)
        if request.method == "GET" and request.url.path == "/v1/accounts/acc_default":
            body = answer.json()
            body.pop("environment", None)
            if environment is not None:
                body["environment"] = environment
            return httpx.Response(answer.status_code, json=body)
        return httpx.Response(answer.status_code, headers={"content-type": "application/json"},
                              content=answer.content)

    return Client(base_url=broker_url, token=TEST_TOKEN,
                  http_client=httpx.Client(transport=httpx.MockTransport(forward)))


@pytest.mark.parametrize(("environment", "said"), [
    ("live", "⚠ 实盘账户（真实资金）"), ("paper", "账户：模拟账户"), (None, "账户：账户类型未知"),
])
def test_previews_and_the_form_say_the_accounts_kind(broker_url, load_world, environment, said) -> None:
    refs = load_world()
    client = rewriting_client(broker_url, environment)
    asked: list[str] = []

    async def user(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="decline")

    async def scenario() -> tuple[Any, Any, Any]:
        async with McpClient(build_server(client=client), elicitation_callback=user) as mcp:
            return (await mcp.call_tool("preview_cancel", {"order_ids": [refs["A"]]}),
                    await mcp.call_tool("cancel_orders", {"order_ids": [refs["A"]]}),
                    await mcp.call_tool("get_account", {}))

    preview, declined, account = run_async(scenario)
    assert said in preview.content[0].text
    assert preview.structured_content["environment"] == environment
    assert said in asked[0]
    assert declined.structured_content["status"] == "declined"
    kind = {"live": "实盘账户", "paper": "模拟账户", None: "账户类型未知"}[environment]
    assert f"（{kind}）" in account.content[0].text
    assert account.content[0].text.startswith("⚠") == (environment == "live")
