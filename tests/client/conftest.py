"""Fixtures for the Client's tests: cassettes recorded from the real broker, and live-broker helpers.

Cassette tests (`@pytest.mark.vcr`) replay `tests/cassettes/client/*.yaml` by default, with no broker running.
Re-record them from the real in-process broker with:

    .venv/bin/pytest tests/client --record-mode=rewrite

While recording, the world `support.CASSETTE_WORLD` (every order id pinned) is loaded through /v1/sim, which is
never recorded; every recorded URL is rewritten to `CASSETTE_ORIGIN`, so replay does not depend on the
random port the broker had; the Authorization header is dropped before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from scripts._http import Client
from tests.client.support import CASSETTE_DIR, CASSETTE_ORIGIN, CASSETTE_WORLD
from tests.conftest import TEST_TOKEN


def _as_recorded(request: Any) -> Any:
    """vcrpy's before_record_request: skip simulation control, pin the origin (applied to replays too)."""
    parts = urlsplit(request.uri)
    if parts.path.startswith("/v1/sim/"):
        return None
    request.uri = CASSETTE_ORIGIN + request.uri[len(f"{parts.scheme}://{parts.netloc}"):]
    return request


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    # The host header carries the broker's random port: dropped like the token, so a re-recording diffs clean.
    return {"filter_headers": ["authorization", "host"], "before_record_request": _as_recorded}


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTE_DIR)


@pytest.fixture
def recorded_client(request: pytest.FixtureRequest, record_mode: str) -> Iterator[Client]:
    """A Client for a cassette test: a live broker holding CASSETTE_WORLD while recording, nothing on replay."""
    if record_mode == "none":
        base_url = CASSETTE_ORIGIN
    else:
        base_url = request.getfixturevalue("broker_url")
        request.getfixturevalue("load_world")(CASSETTE_WORLD)
    with Client(base_url, token=TEST_TOKEN) as client:
        yield client


# --- live broker -----------------------------------------------------------------------------------------


@pytest.fixture
def client(broker_url: str) -> Iterator[Client]:
    """A Client of the live session broker, authenticated as acc_default."""
    with Client(broker_url, token=TEST_TOKEN) as live:
        yield live


@pytest.fixture
def arm_fault(sim: httpx.Client) -> Callable[..., None]:
    """Arm a one-shot fault (`docs/api.md` Simulation control) on the live broker."""

    def arm(**fault: Any) -> None:
        response = sim.post("/v1/sim/faults", json=fault)
        assert response.status_code == 201, response.text

    return arm


@pytest.fixture
def logged_requests(sim: httpx.Client) -> Callable[..., list[dict[str, Any]]]:
    """The broker's request log since the last reset, optionally only one method and path."""

    def read(method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        entries = sim.get("/v1/sim/requests").json()["requests"]
        return [entry for entry in entries
                if (method is None or entry["method"] == method) and (path is None or entry["path"] == path)]

    return read
