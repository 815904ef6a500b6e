"""Fixtures for the broker's HTTP contract tests: clients holding other tokens, or none."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import OTHER_TOKEN


@pytest.fixture
def anonymous(broker_url: str) -> Iterator[httpx.Client]:
    """An HTTP client with no Authorization header."""
    with httpx.Client(base_url=broker_url, timeout=10) as client:
        yield client


@pytest.fixture
def other_api(broker_url: str) -> Iterator[httpx.Client]:
    """An HTTP client holding OTHER_TOKEN (grants acc_other in the multi-account worlds)."""
    with httpx.Client(base_url=broker_url, headers={"Authorization": f"Bearer {OTHER_TOKEN}"},
                      timeout=10) as client:
        yield client
