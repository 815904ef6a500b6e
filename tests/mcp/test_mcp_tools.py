"""The MCP server's tool list, its reads and its preview, through the SDK's own client over stdio."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.mcp.helpers import PROTOCOLS, run_async

READ_TOOLS = {"list_orders", "get_order", "get_account", "get_positions", "find_instruments", "get_quote",
              "market_status", "preview_cancel"}


def text_of(result: Any) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


def deletes(sim: httpx.Client) -> list[dict[str, Any]]:
    return [r for r in sim.get("/v1/sim/requests").json()["requests"] if r["method"] == "DELETE"]


@pytest.mark.parametrize("mode", PROTOCOLS)
def test_the_tools_and_their_annotations_are_listed(mcp_server, load_world, mode: str) -> None:
    load_world()

    async def scenario() -> dict[str, Any]:
        async with mcp_server(mode=mode) as (client, _):
            return {tool.name: tool for tool in (await client.list_tools()).tools}

    tools = run_async(scenario)
    assert set(tools) == READ_TOOLS | {"cancel_orders"}
    for name in READ_TOOLS:
        assert tools[name].annotations.read_only_hint is True, name
        assert tools[name].annotations.destructive_hint is False, name
    cancel = tools["cancel_orders"].annotations
    assert (cancel.read_only_hint, cancel.destructive_hint) == (False, True)
    assert not any("all" in name or "filter" in name for name in tools), "no cancel-all / cancel-by-filter tool"
    # The hidden parameters the resolvers fill are not the model's to give.
    assert set(tools["cancel_orders"].input_schema["properties"]) == {"order_ids"}


@pytest.mark.parametrize(("args", "env"), [(("--read-only",), {}), ((), {"TRADING_READ_ONLY": "1"})])
def test_read_only_mode_lists_no_write_tool_at_all(mcp_server, load_world, args, env) -> None:
    load_world()

    async def scenario() -> tuple[set[str], str]:
        async with mcp_server(args=args, **env) as (client, _):
            return {tool.name for tool in (await client.list_tools()).tools}, client.instructions or ""

    names, instructions = run_async(scenario)
    assert names == READ_TOOLS - {"preview_cancel"}
    assert "现在是只读模式" in instructions
    assert "重新启动 MCP 服务器" in instructions


@pytest.mark.parametrize("mode", PROTOCOLS)
def test_a_read_lists_the_open_orders_in_chinese_and_as_data(mcp_server, load_world, mode: str) -> None:
    refs = load_world()

    async def scenario() -> Any:
        async with mcp_server(mode=mode) as (client, _):
            return await client.call_tool("list_orders", {"status": ["NEW", "WORKING"]})

    result = run_async(scenario)
    assert not result.is_error
    assert [order["order_id"] for order in result.structured_content["orders"]] == [refs["B"], refs["A"]]
    assert "贵州茅台(600519)" in text_of(result)
    assert "部成" in text_of(result)


def test_the_account_says_which_kind_it_is_from_the_api(mcp_server, load_world) -> None:
    load_world()

    async def scenario() -> Any:
        async with mcp_server() as (client, _):
            return await client.call_tool("get_account", {})

    result = run_async(scenario)
    assert result.structured_content["environment"] == "paper"
    assert "模拟账户" in text_of(result)
    assert "可用资金" in text_of(result)


def test_market_quote_and_instruments_read(mcp_server, load_world) -> None:
    load_world()

    async def scenario() -> list[Any]:
        async with mcp_server() as (client, _):
            return [await client.call_tool("market_status", {}),
                    await client.call_tool("get_quote", {"symbol": "600519"}),
                    await client.call_tool("find_instruments", {"query": "茅台"}),
                    await client.call_tool("get_positions", {})]

    market, quote, found, positions = run_async(scenario)
    assert market.structured_content["accepts_cancels"] is True
    assert "可以撤单" in text_of(market)
    assert "贵州茅台(600519) 现价 1,690.00 元" in text_of(quote)
    assert "600519" in text_of(found)
    assert "持仓" in text_of(positions)


@pytest.mark.parametrize("mode", PROTOCOLS)
def test_a_preview_shows_the_orders_and_the_accounts_kind_and_changes_nothing(mcp_server, load_world, api, sim,
                                                                               mode: str) -> None:
    refs = load_world()

    async def scenario() -> Any:
        async with mcp_server(mode=mode) as (client, _):
            return await client.call_tool("preview_cancel", {"order_ids": [refs["A"], refs["B"].rsplit("_", 1)[1]]})

    result = run_async(scenario)
    text = text_of(result)
    assert "账户：模拟账户" in text
    assert "买入 贵州茅台(600519) 100股，限价 1,650.00 元" in text
    assert "卖出" in text
    assert "释放可卖股份 300 股" in text
    assert result.structured_content["order_ids"] == [refs["A"], refs["B"]]
    assert api.get(f"/v1/orders/{refs['A']}").json()["state"] == "WORKING"
    assert deletes(sim) == []


def test_a_preview_of_a_finished_order_says_so(mcp_server, load_world) -> None:
    refs = load_world()

    async def scenario() -> Any:
        async with mcp_server() as (client, _):
            return await client.call_tool("preview_cancel", {"order_ids": [refs["C"]]})

    result = run_async(scenario)
    assert result.is_error
    assert result.structured_content["error"]["code"] == "ORDER_NOT_CANCELLABLE"
    assert "全部成交" in text_of(result)
