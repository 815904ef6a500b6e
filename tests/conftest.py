"""Shared fixtures: a real paper broker over real HTTP, and a way to load a scenario world into it."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from scripts.broker import BrokerSettings, running_broker

USERS_AUDIT_KEY = pytest.StashKey["tuple[str, float, int] | None"]()

TEST_TOKEN = "test-token-acc-default"
OTHER_TOKEN = "test-token-acc-other"
NOW = "2026-11-24T10:30:00+08:00"  # a Tuesday, continuous trading

# A small world most tests start from (the example of docs/scenarios.md).
BASE_WORLD: dict[str, Any] = {
    "now": NOW,
    "account": {
        "cash": "1000000.00",
        "positions": [
            {"symbol": "600519", "qty": 200, "avg_cost": "1700.00"},
            {"symbol": "000001", "qty": 1000, "avg_cost": "10.20", "unsettled": 500},
        ],
    },
    "prices": {"600519": {"last": "1690.00", "prev_close": "1700.00"}, "000001": {"last": "10.50"}},
    "orders": [
        {"ref": "A", "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1650.00", "at": "10:05:00"},
        {"ref": "B", "id": "ord_accdefault_k3v9x2m1", "symbol": "000001", "side": "SELL", "qty": 500,
         "limit_price": "10.80", "at": "10:20:00", "filled": 200},
        {"ref": "C", "symbol": "601318", "side": "BUY", "qty": 100, "limit_price": "50.00", "at": "09:40:00",
         "state": "FILLED"},
    ],
}


def _users_audit_file() -> tuple[str, float, int] | None:
    """The user's own audit file as a subprocess without TRADING_AUDIT_LOG would find it: (path, mtime, size)."""
    from scripts.audit import default_path

    path = default_path({key: value for key, value in os.environ.items() if key != "TRADING_AUDIT_LOG"})
    return (str(path), path.stat().st_mtime, path.stat().st_size) if path.exists() else None


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[USERS_AUDIT_KEY] = _users_audit_file()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No test may write to the user's audit file (a subprocess started with an environment of its own and no
    TRADING_AUDIT_LOG would): the run fails if the file changed while it ran."""
    before, after = session.config.stash.get(USERS_AUDIT_KEY, None), _users_audit_file()
    if after is not None and after != before:
        print(f"\nFAILED: the test run wrote to the user's audit file {after[0]}: give each subprocess "
              "TRADING_AUDIT_LOG (tests/conftest.py's audit_file)", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session", autouse=True)
def audit_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Every face's audit entries go to one file of the session's (subprocesses inherit it), never to the user's
    data directory; a test of the audit trail points TRADING_AUDIT_LOG at a file of its own."""
    path = str(tmp_path_factory.mktemp("audit") / "audit.jsonl")
    before = os.environ.get("TRADING_AUDIT_LOG")
    os.environ["TRADING_AUDIT_LOG"] = path
    yield path
    if before is None:
        os.environ.pop("TRADING_AUDIT_LOG", None)
    else:
        os.environ["TRADING_AUDIT_LOG"] = before


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    """One in-process simulation broker (in-memory SQLite) for the session; each test resets its world."""
    with running_broker(BrokerSettings(sim=True, token=TEST_TOKEN)) as url:
        yield url


@pytest.fixture
def api(broker_url: str) -> Iterator[httpx.Client]:
    """An HTTP client authenticated as acc_default."""
    with httpx.Client(base_url=broker_url, headers={"Authorization": f"Bearer {TEST_TOKEN}"}, timeout=10) as client:
        yield client


@pytest.fixture
def sim(broker_url: str) -> Iterator[httpx.Client]:
    """An HTTP client for /v1/sim/* (no token needed)."""
    with httpx.Client(base_url=broker_url, timeout=30) as client:
        yield client


@pytest.fixture
def load_world(sim: httpx.Client) -> Callable[..., dict[str, str]]:
    """Reset the broker to a world (default: BASE_WORLD); returns the order id of each ref."""

    def load(world: dict[str, Any] | None = None) -> dict[str, str]:
        response = sim.post("/v1/sim/reset", json=world if world is not None else BASE_WORLD)
        assert response.status_code == 200, response.text
        return response.json()["orders"]

    return load
