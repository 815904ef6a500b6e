"""Fixtures for the command line's tests: `trade(*args)` runs `python3 -m scripts.trade` against the broker."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TEST_TOKEN

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def trade(broker_url: str) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environment = {**os.environ, "TRADING_API_URL": broker_url, "TRADING_API_TOKEN": TEST_TOKEN, **env}
        return subprocess.run([sys.executable, "-m", "scripts.trade", *args], cwd=ROOT, env=environment,
                              capture_output=True, text=True, timeout=60, check=False)

    return run
