"""Safe by default: no remote bind with the development token or --sim unless asked, /v1/sim only on loopback,
rate limits by authenticated account (not by the header's spelling) with bounded memory."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import httpx
import pytest

from scripts.broker import BrokerSettings, create_app, running_broker
from scripts.broker.__main__ import exposure_problem
from scripts.broker.gateway import MAX_BUCKETS, RateLimiter
from tests.broker._broker_process import REPO_ROOT, free_port
from tests.conftest import TEST_TOKEN


@pytest.mark.parametrize(("host", "dev", "sim", "refused"), [
    ("0.0.0.0", True, False, True), ("0.0.0.0", False, True, True), ("192.168.1.5", True, True, True),
    ("::", True, False, True), ("0.0.0.0", False, False, False), ("127.0.0.1", True, True, False),
    ("::1", True, True, False), ("localhost", True, True, False), ("127.0.0.2", True, False, False),
])
def test_a_remote_bind_is_refused_with_the_development_token_or_sim(host, dev, sim, refused) -> None:
    assert (exposure_problem(host, dev, sim) is not None) == refused


def test_the_command_refuses_a_public_bind_without_a_token_in_one_line() -> None:
    env = {key: value for key, value in os.environ.items() if key != "TRADING_API_TOKEN"}
    result = subprocess.run([sys.executable, "-m", "scripts.broker", "--host", "0.0.0.0", "--port", str(free_port()),
                             "--db", ":memory:"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=30,
                            check=False)
    assert result.returncode == 2
    assert "--allow-remote" in result.stderr
    assert "Traceback" not in result.stderr


def _call(app: Any, path: str, server_host: str) -> int:
    """One request through the ASGI app as if it came in on `server_host`; returns the status."""
    statuses: list[int] = []
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [], "server": (server_host, 8700), "client": ("203.0.113.9", 5000), "scheme": "http",
             "http_version": "1.1", "root_path": ""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    asyncio.run(app(scope, receive, send))
    return statuses[0]


def test_sim_control_answers_only_on_loopback() -> None:
    app = create_app(BrokerSettings(sim=True, token=TEST_TOKEN))
    assert _call(app, "/v1/sim/requests", "127.0.0.1") == 200
    assert _call(app, "/v1/sim/requests", "192.0.2.10") == 404
    assert _call(app, "/v1/sim/reset", "10.0.0.1") == 404


def test_spelling_variants_of_one_token_share_one_rate_limit_bucket() -> None:
    with running_broker(BrokerSettings(sim=True, token=TEST_TOKEN, rate_limit_per_second=0.01,
                                       rate_limit_burst=3)) as url, httpx.Client(base_url=url) as client:
        variants = [f"Bearer {TEST_TOKEN}", f"bearer {TEST_TOKEN}", f"BEARER   {TEST_TOKEN}", f"Bearer {TEST_TOKEN}"]
        statuses = [client.get("/v1/market/status", headers={"authorization": v}).status_code for v in variants]
        assert statuses == [200, 200, 200, 429]
        anonymous = [client.get("/v1/market/status").status_code for _ in range(4)]
        assert anonymous == [401, 401, 401, 429]  # one shared bucket for everyone without a token


def test_the_rate_limiter_keeps_a_bounded_number_of_buckets() -> None:
    limiter = RateLimiter(per_second=1.0, burst=5)
    for n in range(MAX_BUCKETS + 500):
        limiter.retry_after(f"acc_{n}")
    assert len(limiter._buckets) <= MAX_BUCKETS
