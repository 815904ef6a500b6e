"""cancel_orders: the user confirms through MCP elicitation (both protocol generations), or on the one-time approval
page when the client has no confirmation form; nothing is cancelled on the model's word alone."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import mcp_types as types
import pytest

from tests.conftest import TEST_TOKEN
from tests.mcp.helpers import PROTOCOLS, accept, run_async
from tests.mcp.test_mcp_tools import deletes, text_of


def state(api: httpx.Client, order_id: str) -> str:
    return api.get(f"/v1/orders/{order_id}").json()["state"]


@pytest.mark.parametrize("mode", PROTOCOLS)
def test_confirmed_in_the_form_it_cancels_and_reports_what_was_released(mcp_server, load_world, api, mode) -> None:
    refs = load_world()
    frozen = api.get(f"/v1/orders/{refs['A']}").json()["frozen_cash"]

    async def scenario() -> tuple[Any, Any, str]:
        async with mcp_server(mode=mode, answer=accept("确认")) as (client, run):
            return await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]}), run, client.protocol_version

    result, run, version = run_async(scenario)
    assert version == ("2025-11-25" if mode == "legacy" else mode)
    assert len(run.asked) == 1
    assert "账户：模拟账户" in run.asked[0]
    assert "买入 贵州茅台(600519) 100股，限价 1,650.00 元" in run.asked[0]
    assert "请选择“确认”撤销" in run.asked[0]
    assert not result.is_error
    assert result.structured_content["status"] == "cancelled"
    assert result.structured_content["released"]["cash"] == frozen
    assert "已撤单" in text_of(result)
    assert "释放冻结资金" in text_of(result)
    assert state(api, refs["A"]) == "CANCELLED"
    assert api.get("/v1/accounts/acc_default").json()["cash"]["frozen"] == "0.00"


@pytest.mark.parametrize("mode", PROTOCOLS)
def test_a_partly_filled_sell_releases_its_open_shares(mcp_server, load_world, api, mode) -> None:
    refs = load_world()

    async def scenario() -> Any:
        async with mcp_server(mode=mode, answer=accept("确认")) as (client, _):
            return await client.call_tool("cancel_orders", {"order_ids": [refs["B"]]})

    result = run_async(scenario)
    assert result.structured_content["released"]["qty"] == 300
    assert "其中已成交 200 股，撤销剩余 300 股（部撤）" in text_of(result)
    assert state(api, refs["B"]) == "CANCELLED"


@pytest.mark.parametrize("mode", PROTOCOLS)
@pytest.mark.parametrize("reply", [
    types.ElicitResult(action="decline"),
    types.ElicitResult(action="cancel"),
    types.ElicitResult(action="accept", content={"choice": "取消"}),
], ids=["decline", "dismiss", "accept-取消"])
def test_declined_dismissed_or_answered_quxiao_cancels_nothing(mcp_server, load_world, api, sim, mode, reply) -> None:
    refs = load_world()

    async def scenario() -> Any:
        async with mcp_server(mode=mode, answer=lambda message: reply) as (client, _):
            return await client.call_tool("cancel_orders", {"order_ids": [refs["A"], refs["B"]]})

    result = run_async(scenario)
    assert result.structured_content["status"] == "declined"
    assert "不撤了" in text_of(result)
    assert (state(api, refs["A"]), state(api, refs["B"])) == ("WORKING", "WORKING")
    assert deletes(sim) == []


@pytest.mark.parametrize("mode", PROTOCOLS)
def test_an_order_that_fills_while_the_user_decides_is_not_cancelled_blindly(mcp_server, load_world, api, sim,
                                                                              mode) -> None:
    refs = load_world()

    def fill_then_confirm(message: str) -> types.ElicitResult:
        # While the form is open, the market reaches the buy's limit: the order fills completely.
        sim.post("/v1/sim/prices", json={"symbol": "600519", "price": "1650.00"}).raise_for_status()
        return types.ElicitResult(action="accept", content={"choice": "确认"})

    async def scenario() -> Any:
        async with mcp_server(mode=mode, answer=fill_then_confirm) as (client, _):
            return await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]})

    result = run_async(scenario)
    assert result.is_error
    assert "没有撤单" in text_of(result) or "无需撤单" in text_of(result)
    assert state(api, refs["A"]) == "FILLED"
    assert deletes(sim) == []


def test_a_partial_fill_while_the_form_is_open_is_reported_not_cancelled_on_the_handshake(
        mcp_server, load_world, api, sim) -> None:
    refs = load_world()

    def part_fill_then_confirm(message: str) -> types.ElicitResult:
        sim.post("/v1/sim/prices", json={"symbol": "600519", "price": "1650.00", "volume": 40}).raise_for_status()
        return types.ElicitResult(action="accept", content={"choice": "确认"})

    async def scenario() -> Any:
        async with mcp_server(mode="legacy", answer=part_fill_then_confirm) as (client, _):
            return await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]})

    result = run_async(scenario)
    assert result.structured_content["status"] == "state_changed"
    assert "没有撤单" in text_of(result)
    assert "已成交 40 股" in text_of(result)
    assert state(api, refs["A"]) == "WORKING"
    assert deletes(sim) == []


def test_a_partial_fill_between_rounds_asks_the_user_again_on_2026(mcp_server, load_world, api, sim) -> None:
    """2026-07-28: the retry re-reads the preview; it reads differently now, so the SDK asks again (its answer is
    pinned to the exact question), and only the yes to the new preview cancels."""
    refs = load_world()
    replies = iter(["fill", "confirm"])

    def answer(message: str) -> types.ElicitResult:
        if next(replies) == "fill":
            sim.post("/v1/sim/prices", json={"symbol": "600519", "price": "1650.00", "volume": 40}).raise_for_status()
        return types.ElicitResult(action="accept", content={"choice": "确认"})

    async def scenario() -> tuple[Any, Any]:
        async with mcp_server(mode="2026-07-28", answer=answer) as (client, run):
            return await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]}), run

    result, run = run_async(scenario)
    assert len(run.asked) == 2
    assert "已成交 40 股" not in run.asked[0]
    assert "已成交 40 股" in run.asked[1]
    assert result.structured_content["status"] == "cancelled"
    assert result.structured_content["results"][0]["order"]["filled_qty"] == 40
    assert state(api, refs["A"]) == "CANCELLED"


# --- a client without elicitation: the approval page ------------------------------------------------------------


# What a browser sends when it opens a link (a navigation) and when it submits a page's own form.
OPENED = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Sec-Fetch-Site": "none"}


def page_form(url: str) -> tuple[str, str, str]:
    """GET the page as a browser opens it: its HTML, its CSRF value and the base URL to send as Origin."""
    page = httpx.get(url, headers=OPENED, timeout=10)
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return page.text, csrf, url.split("/approve/", maxsplit=1)[0]


def press(url: str, csrf: str, origin: str, choice: str = "确认", **headers: str) -> httpx.Response:
    return httpx.post(url, data={"csrf": csrf, "choice": choice}, timeout=30,
                      headers={"Origin": origin, "Sec-Fetch-Site": "same-origin", **headers})


@pytest.mark.parametrize("mode", PROTOCOLS)
def test_without_elicitation_the_approval_page_decides_and_a_replay_does_nothing(mcp_server, load_world, api, sim,
                                                                                  mode) -> None:
    refs = load_world()

    async def scenario() -> tuple[Any, Any, Any, Any]:
        async with mcp_server(mode=mode) as (client, run):
            first = await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]})
            url = first.structured_content["approval_url"]
            again = await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]})
            assert state(api, refs["A"]) == "WORKING"  # nothing on the model's word alone
            html, csrf, origin = page_form(url)
            assert "贵州茅台(600519)" in html
            assert "账户：模拟账户" in html
            pressed = press(url, csrf, origin)
            replay = press(url, csrf, origin)
            reported = await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]})
        assert url.rsplit("/", 1)[1] not in run.stderr()  # the page logs no request line
        assert TEST_TOKEN not in run.stderr()
        return first, again, (pressed, replay), reported

    first, again, (pressed, replay), reported = run_async(scenario)
    assert first.structured_content["status"] == "approval_required"
    assert first.structured_content["approval_url"].startswith("http://127.0.0.1:")
    assert "还没有撤单" in text_of(first)
    assert first.structured_content["approval_url"] in text_of(first)
    assert again.structured_content["status"] == "approval_pending"
    assert again.structured_content["approval_url"] == first.structured_content["approval_url"]
    assert pressed.status_code == 200
    assert "已撤单" in pressed.text
    assert replay.status_code == 409
    assert "已经使用过" in replay.text
    assert reported.structured_content["status"] == "cancelled"
    assert reported.structured_content["via"] == "approval_page"
    assert "您已在确认页上确认" in text_of(reported)
    assert state(api, refs["A"]) == "CANCELLED"
    assert len(deletes(sim)) == 1


def test_an_expired_approval_page_does_nothing(mcp_server, load_world, api, sim) -> None:
    refs = load_world()

    async def scenario() -> tuple[Any, Any]:
        async with mcp_server(TRADING_MCP_APPROVAL_SECONDS="1") as (client, _):
            first = await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]})
            url = first.structured_content["approval_url"]
            _, csrf, origin = page_form(url)
            time.sleep(1.5)
            late = press(url, csrf, origin)
            after = await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]})
            return late, after

    late, after = run_async(scenario)
    assert late.status_code == 410
    assert "已过期" in late.text
    assert state(api, refs["A"]) == "WORKING"
    assert deletes(sim) == []
    assert "已过期" in text_of(after)
    assert after.structured_content["status"] == "approval_required"


def test_a_cross_site_or_forged_post_is_refused_and_leaves_the_page_usable(mcp_server, load_world, api, sim) -> None:
    refs = load_world()

    async def scenario() -> list[httpx.Response]:
        async with mcp_server() as (client, _):
            first = await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]})
            url = first.structured_content["approval_url"]
            _, csrf, origin = page_form(url)
            rebound = httpx.get(url, headers={**OPENED, "Host": "attacker.example"})
            assert rebound.status_code == 403
            assert csrf not in rebound.text
            return [press(url, csrf, "http://evil.example"),
                    press(url, csrf, origin, Host="attacker.example"),
                    press(url, csrf, origin, **{"Sec-Fetch-Site": "cross-site"}),
                    press(url, "forged", origin),
                    press(url, "伪造的值", origin),
                    httpx.post(url.rsplit("/", 1)[0] + "/guessed-token", data={"csrf": csrf, "choice": "确认"},
                               headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"}),
                    press(url, csrf, origin, choice="取消")]

    *refused, declined = run_async(scenario)
    assert [response.status_code for response in refused] == [403, 403, 403, 403, 403, 404]
    assert declined.status_code == 200
    assert "没有撤单" in declined.text
    assert state(api, refs["A"]) == "WORKING"
    assert deletes(sim) == []


def test_a_script_that_fetches_the_page_and_posts_its_form_cannot_approve(mcp_server, load_world, api, sim) -> None:
    # What a model with a fetch or shell tool would do with the link it was given: plain GET, plain POST.
    refs = load_world()

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        async with mcp_server() as (client, _):
            first = await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]})
            url = first.structured_content["approval_url"]
            fetched = httpx.get(url, timeout=10)
            _, csrf, origin = page_form(url)  # even holding the page's CSRF value (as a browser would)
            posted = httpx.post(url, data={"csrf": csrf, "choice": "确认"}, timeout=30)
            with_origin = httpx.post(url, data={"csrf": csrf, "choice": "确认"}, headers={"Origin": origin},
                                     timeout=30)
            return fetched, posted, with_origin

    fetched, posted, with_origin = run_async(scenario)
    assert fetched.status_code == 403
    assert 'name="csrf"' not in fetched.text
    assert "浏览器" in fetched.text
    assert [posted.status_code, with_origin.status_code] == [403, 403]
    assert state(api, refs["A"]) == "WORKING"
    assert deletes(sim) == []


def test_a_fill_before_the_page_is_approved_voids_the_approval(mcp_server, load_world, api, sim) -> None:
    refs = load_world()

    async def scenario() -> httpx.Response:
        async with mcp_server() as (client, _):
            first = await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]})
            url = first.structured_content["approval_url"]
            _, csrf, origin = page_form(url)
            sim.post("/v1/sim/prices", json={"symbol": "600519", "price": "1650.00", "volume": 40}).raise_for_status()
            return press(url, csrf, origin)

    pressed = run_async(scenario)
    assert pressed.status_code == 409
    assert "没有撤单" in pressed.text
    assert state(api, refs["A"]) == "WORKING"
    assert deletes(sim) == []


# --- the token ----------------------------------------------------------------------------------------------------


def test_the_token_appears_in_no_result_and_no_log(mcp_server, load_world) -> None:
    refs = load_world()
    wrong = "wrong-secret-token-4f9a1c"

    async def scenario() -> tuple[list[Any], list[str]]:
        results = []
        async with mcp_server(answer=accept("确认")) as (client, good):
            results += [await client.call_tool("list_orders", {}),
                        await client.call_tool("get_order", {"order_id": "zzzzzzzz"}),
                        await client.call_tool("preview_cancel", {"order_ids": [refs["A"]]}),
                        await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]})]
        async with mcp_server(TRADING_API_TOKEN=wrong) as (client, bad):
            refused = await client.call_tool("list_orders", {})
            results += [refused, await client.call_tool("cancel_orders", {"order_ids": [refs["B"]]})]
        assert refused.structured_content["error"]["code"] == "UNAUTHENTICATED"
        return results, [good.stderr(), bad.stderr()]

    results, logs = run_async(scenario)
    seen = "\n".join([r.model_dump_json() for r in results] + logs)
    assert TEST_TOKEN not in seen
    assert wrong not in seen
    assert "令牌" in text_of(results[4])


# --- what the broker refuses ---------------------------------------------------------------------------------------


def test_a_cancel_in_the_no_cancel_window_is_refused_with_the_brokers_code_in_chinese(mcp_server, load_world, api,
                                                                                      sim) -> None:
    refs = load_world()
    sim.post("/v1/sim/clock", json={"now": "2026-11-24T14:58:00+08:00"}).raise_for_status()

    async def scenario() -> Any:
        async with mcp_server(answer=accept("确认")) as (client, _):
            return await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]})

    result = run_async(scenario)
    assert result.is_error
    failure = result.structured_content["results"][0]
    assert (failure["code"], failure["recovery_hint"]) == ("CANCEL_NOT_ALLOWED_NOW", "retry_later")
    assert "现在是交易所不接受撤单的时段" in text_of(result)
    assert state(api, refs["A"]) == "WORKING"


def test_a_cancel_that_loses_the_race_to_a_fill_reports_the_orders_real_state(mcp_server, load_world, api,
                                                                             sim) -> None:
    refs = load_world()
    sim.post("/v1/sim/faults", json={"kind": "cancel_races_fill", "order_id": refs["A"]}).raise_for_status()

    async def scenario() -> Any:
        async with mcp_server(answer=accept("确认")) as (client, _):
            return await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]})

    result = run_async(scenario)
    failure = result.structured_content["results"][0]
    assert failure["code"] == "CANCEL_FAILED"
    assert failure["order_now"]["state"] == "FILLED"
    assert "全部成交" in text_of(result)
    assert len(deletes(sim)) == 1  # queried afterwards, never cancelled again


@pytest.mark.parametrize("mode", PROTOCOLS)
def test_a_client_with_url_elicitation_only_is_shown_the_approval_link_by_the_client(mcp_server, load_world, api,
                                                                                   sim, monkeypatch, mode) -> None:
    """URL mode where the connection can send it (2025-11-25); on 2026-07-28 there is no back-channel for it, and
    the link is in the tool's answer. Either way the page decides, not the model."""
    from mcp.client.session import ClientSession

    built = ClientSession._build_capabilities

    def url_only(self: ClientSession, version: str) -> types.ClientCapabilities:
        capabilities = built(self, version)
        if capabilities.elicitation is not None:
            capabilities.elicitation = types.ElicitationCapability(url=types.UrlElicitationCapability())
        return capabilities

    monkeypatch.setattr(ClientSession, "_build_capabilities", url_only)
    refs = load_world()
    def open_link(message: str) -> types.ElicitResult:
        return types.ElicitResult(action="accept")

    async def scenario() -> tuple[Any, Any, Any]:
        async with mcp_server(mode=mode, answer=open_link) as (client, run):
            first = await client.call_tool("cancel_orders", {"order_ids": [refs["A"]]})
            url = first.structured_content["approval_url"]
            assert state(api, refs["A"]) == "WORKING"
            _, csrf, origin = page_form(url)
            pressed = press(url, csrf, origin)
            return first, pressed, run

    first, pressed, run = run_async(scenario)
    assert first.structured_content["status"] == "approval_required"
    if mode == "legacy":
        assert len(run.asked) == 1
        assert "确认页" in run.asked[0]
        assert "确认页已在浏览器中打开" in text_of(first)
    else:
        assert run.asked == []
        assert first.structured_content["approval_url"] in text_of(first)
    assert pressed.status_code == 200
    assert state(api, refs["A"]) == "CANCELLED"
