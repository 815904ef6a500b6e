"""The committed OpenAPI document (`docs/openapi.json`) is exactly what the broker serves at `/openapi.json`.

When the API changes on purpose, regenerate it: start a broker (`.venv/bin/python -m scripts.broker --db :memory:`)
and save `GET /openapi.json` over `docs/openapi.json` (`python3 -m json.tool --no-ensure-ascii`).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_served_openapi_document_matches_the_committed_one(broker_url: str) -> None:
    served = httpx.get(f"{broker_url}/openapi.json", timeout=30)
    assert served.status_code == 200
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert served.json() == committed, (
        "the broker's API changed: regenerate docs/openapi.json (see this test's docstring) and update docs/api.md")


def test_the_committed_document_leaves_simulation_control_out() -> None:
    paths = json.loads(COMMITTED.read_text(encoding="utf-8"))["paths"]
    assert "/v1/orders/{order_id}" in paths
    assert not [path for path in paths if path.startswith("/v1/sim")]
