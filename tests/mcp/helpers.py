"""Helpers for the MCP server's tests: `python -m scripts.mcp` spawned over stdio by the SDK's own Client, against
the session's real paper broker; its stderr is kept so that tests can check what it logged."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.conftest import TEST_TOKEN

ROOT = Path(__file__).resolve().parents[2]
# The two protocol generations the SDK's client speaks: the initialize handshake and the stateless revision.
PROTOCOLS = ["legacy", "2026-07-28"]

Answer = Callable[[str], Awaitable[types.ElicitResult]] | Callable[[str], types.ElicitResult]


class McpRun:
    """One spawned server's stderr and every elicitation message it showed the 'user'."""

    def __init__(self, errlog: Path) -> None:
        self.errlog = errlog
        self.asked: list[str] = []

    def stderr(self) -> str:
        return self.errlog.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def mcp_server(broker_url: str, tmp_path: Path) -> Callable[..., Any]:
    """`async with mcp_server(mode=..., answer=..., args=..., env=...) as (client, run)`.

    `answer`: the user at the client's confirmation form (called with the message shown); None: a client that
    declares no elicitation capability at all.
    """

    @asynccontextmanager
    async def start(mode: str = "legacy", answer: Any = None, args: tuple[str, ...] = (), **env: str):
        environment = {**os.environ, "TRADING_API_URL": broker_url, "TRADING_API_TOKEN": TEST_TOKEN,
                       "TRADING_ACCOUNT_ID": "acc_default", **env}
        environment.pop("TRADING_READ_ONLY", None) if "TRADING_READ_ONLY" not in env else None
        run = McpRun(tmp_path / f"mcp-stderr-{len(list(tmp_path.iterdir()))}.log")
        callback = None
        if answer is not None:
            async def callback(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
                run.asked.append(params.message)
                reply = answer(params.message)
                return await reply if hasattr(reply, "__await__") else reply

        params = StdioServerParameters(command=sys.executable, args=["-m", "scripts.mcp", *args], env=environment,
                                       cwd=str(ROOT))
        with run.errlog.open("w", encoding="utf-8") as errlog:
            async with Client(stdio_client(params, errlog=errlog), mode=mode, elicitation_callback=callback,
                              read_timeout_seconds=60) as client:
                yield client, run

    return start


def accept(choice: str) -> Callable[[str], types.ElicitResult]:
    return lambda message: types.ElicitResult(action="accept", content={"choice": choice})


def run_async(fn: Callable[[], Awaitable[Any]]) -> Any:
    return anyio.run(fn)
