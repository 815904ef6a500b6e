"""The user's own reference (seed cancel-order.md) works exactly as written, in a fresh Python process.

The two snippets below are copied verbatim from it; they reach the live broker through the environment
variables a user sets, and print the decoded JSON.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import scripts._http
from scripts.broker.settings import DEVELOPMENT_TOKEN
from tests.client.support import CASSETTE_WORLD, SEED_ORDER_ID
from tests.conftest import TEST_TOKEN

SKILL_ROOT = Path(__file__).resolve().parents[2]

SEED_LIST_WORKING = """
from scripts._http import Client
print(Client().get('/v1/accounts/acc_default/orders?status=WORKING'))
"""
SEED_CANCEL = """
from scripts._http import Client
print(Client().delete('/v1/orders/ord_accdefault_abc12345'))
"""


def _run_seed(snippet: str, broker_url: str) -> Any:
    """`python3 -c "<snippet>"` from the skill folder, the way the reference runs it; returns what it printed."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("TRADING_")}
    env |= {"TRADING_API_URL": broker_url, "TRADING_API_TOKEN": TEST_TOKEN}
    done = subprocess.run([sys.executable, "-c", snippet], cwd=SKILL_ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return ast.literal_eval(done.stdout.strip())


def test_seed_snippet_lists_working_orders(broker_url: str, load_world: Callable[..., dict[str, str]]) -> None:
    load_world(CASSETTE_WORLD)

    listing = _run_seed(SEED_LIST_WORKING, broker_url)

    assert SEED_ORDER_ID in [order["order_id"] for order in listing["orders"]]
    assert {order["state"] for order in listing["orders"]} == {"WORKING"}


def test_seed_snippet_cancels_and_prints_the_final_snapshot(
        broker_url: str, load_world: Callable[..., dict[str, str]]) -> None:
    load_world(CASSETTE_WORLD)

    snapshot = _run_seed(SEED_CANCEL, broker_url)

    assert (snapshot["order_id"], snapshot["state"], snapshot["remaining_qty"]) == (SEED_ORDER_ID, "CANCELLED", 0)
    assert snapshot["fills"] == []
    assert [change["state"] for change in snapshot["state_history"]] == ["NEW", "WORKING", "CANCELLED"]
    assert snapshot["client_order_id"]


def test_defaults_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADING_API_URL", "http://broker.example:9000/")
    monkeypatch.setenv("TRADING_ACCOUNT_ID", "acc_other")
    monkeypatch.delenv("TRADING_API_TOKEN", raising=False)

    client = scripts._http.Client()

    assert (client.base_url, client.account_id) == ("http://broker.example:9000", "acc_other")


def test_without_a_token_the_client_uses_the_brokers_development_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRADING_API_TOKEN", raising=False)
    for name in ("TRADING_API_URL", "TRADING_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)

    client = scripts._http.Client()

    assert scripts._http.DEVELOPMENT_TOKEN == DEVELOPMENT_TOKEN, "the copy in _http.py must follow the broker"
    assert client._headers["Authorization"] == f"Bearer {DEVELOPMENT_TOKEN}"
    assert (client.base_url, client.account_id) == ("http://127.0.0.1:8700", "acc_default")


def test_the_module_exports_exactly_client_and_api_error() -> None:
    assert scripts._http.__all__ == ["ApiError", "Client"]


def test_importing_the_client_never_imports_the_broker() -> None:
    probe = "import sys, scripts._http; print(sorted(m for m in sys.modules if m.startswith('scripts.broker')))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=SKILL_ROOT, capture_output=True, text=True,
                          timeout=60, check=True)

    assert done.stdout.strip() == "[]"


def test_the_command_line_starts_without_rich() -> None:
    # Start-up laziness lives at the entry point: the command line skips httpx's rich CLI, and imports rich
    # itself only for --table.
    probe = "import sys, scripts.trade; print(sorted(m for m in ('rich', 'scripts.broker') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=SKILL_ROOT, capture_output=True, text=True,
                          timeout=60, check=True)

    assert done.stdout.strip() == "[]"
