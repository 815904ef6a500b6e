"""A missing token is named before a malformed request, and a refused cancel is logged with its account."""

from __future__ import annotations

from collections.abc import Callable

import httpx


def test_a_malformed_body_without_a_token_gets_401_not_422(anonymous: httpx.Client, api: httpx.Client) -> None:
    response = anonymous.post("/v1/orders", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"
    with_token = api.post("/v1/orders", content=b"{not json", headers={"content-type": "application/json"})
    assert with_token.status_code == 422
    assert with_token.json()["code"] == "VALIDATION_ERROR"


def test_a_refused_cancel_is_logged_with_the_account_it_concerned(
    api: httpx.Client, sim: httpx.Client, load_world: Callable[..., dict[str, str]]
) -> None:
    refs = load_world()
    assert api.delete(f"/v1/orders/{refs['C']}").status_code == 409  # C is FILLED
    entry = sim.get("/v1/sim/requests").json()["requests"][-1]
    assert (entry["method"], entry["code"], entry["account_id"]) == ("DELETE", "ORDER_NOT_CANCELLABLE", "acc_default")
