"""The optional rate limit: off by default; when set, the excess gets 429 RATE_LIMITED with Retry-After."""

from __future__ import annotations

import httpx

from scripts.broker import BrokerSettings, running_broker
from tests.conftest import TEST_TOKEN


def test_requests_beyond_the_configured_rate_get_429_with_retry_after() -> None:
    settings = BrokerSettings(token=TEST_TOKEN, rate_limit_per_second=1.0, rate_limit_burst=3)
    with running_broker(settings) as url, httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {TEST_TOKEN}"}) as api:
        statuses = [api.get("/v1/market/status") for _ in range(5)]
        assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
        limited = statuses[-1]
        assert limited.status_code == 429
        assert limited.json()["code"] == "RATE_LIMITED"
        assert limited.json()["recovery_hint"] == "retry"
        assert int(limited.headers["retry-after"]) >= 1
        assert api.get("/healthz").status_code == 200  # liveness is never limited


def test_there_is_no_rate_limit_by_default(api: httpx.Client) -> None:
    assert all(api.get("/v1/market/status").status_code == 200 for _ in range(60))
