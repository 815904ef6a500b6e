"""The Client against a live broker that misbehaves on cue (`/v1/sim/faults`): what is retried, what is not.

No cassettes here: a timeout, a dropped connection or a Retry-After wait only exists on a real socket.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from scripts._http import ApiError, Client
from tests.client.support import wait_for
from tests.conftest import TEST_TOKEN

LATE_ANSWER_SECONDS = 2.0  # the broker's delay_after_apply
SHORT_TIMEOUT_SECONDS = 0.5  # the Client's read timeout in these tests: well under the delay

Arm = Callable[..., None]
Log = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def refs(load_world: Callable[..., dict[str, str]]) -> dict[str, str]:
    """BASE_WORLD: A is a WORKING BUY of 600519, B a partly filled WORKING SELL of 000001, C a FILLED BUY."""
    return load_world()


def test_a_delete_answered_late_is_not_retried_and_its_outcome_is_unknown(
        broker_url: str, client: Client, refs: dict[str, str], arm_fault: Arm, logged_requests: Log) -> None:
    order_id = refs["A"]
    arm_fault(kind="delay_after_apply", order_id=order_id, seconds=LATE_ANSWER_SECONDS)
    impatient = Client(broker_url, token=TEST_TOKEN, timeout=SHORT_TIMEOUT_SECONDS, max_retries=2)

    started = time.monotonic()
    with pytest.raises(ApiError) as caught:
        impatient.cancel(order_id)
    elapsed = time.monotonic() - started

    error = caught.value
    assert (error.code, error.http_status, error.recovery_hint) == ("OUTCOME_UNKNOWN", 0, "retry")
    assert "Query the order before anything else" in error.message
    assert elapsed < SHORT_TIMEOUT_SECONDS * 2, "one try only: a DELETE is never retried"
    order = client.order(order_id)
    assert order.state == "CANCELLED"
    assert [change.state for change in order.state_history].count("CANCELLED") == 1
    deletes = wait_for(lambda: logged_requests("DELETE", f"/v1/orders/{order_id}"))
    time.sleep(SHORT_TIMEOUT_SECONDS)  # a retry, had there been one, would be logged by now
    assert len(logged_requests("DELETE", f"/v1/orders/{order_id}")) == len(deletes) == 1
    impatient.close()


def test_a_dropped_delete_is_outcome_unknown_and_changes_nothing(
        client: Client, refs: dict[str, str], arm_fault: Arm, logged_requests: Log) -> None:
    order_id = refs["A"]
    arm_fault(kind="drop_connection", order_id=order_id)

    with pytest.raises(ApiError) as caught:
        client.cancel(order_id)

    assert caught.value.code == "OUTCOME_UNKNOWN"
    assert "RemoteProtocolError" in caught.value.message
    assert client.order(order_id).state == "WORKING"
    assert [entry["status"] for entry in logged_requests("DELETE")] == [0]


def test_a_delete_answered_503_is_not_retried(
        client: Client, refs: dict[str, str], arm_fault: Arm, logged_requests: Log) -> None:
    arm_fault(kind="error_before_apply", order_id=refs["A"], status=503)

    with pytest.raises(ApiError) as caught:
        client.cancel(refs["A"])

    assert (caught.value.code, caught.value.http_status, caught.value.recovery_hint) == (
        "SERVICE_UNAVAILABLE", 503, "retry")
    assert [entry["status"] for entry in logged_requests("DELETE")] == [503]
    assert client.order(refs["A"]).state == "WORKING"


def test_a_get_answered_503_then_200_succeeds(
        client: Client, refs: dict[str, str], arm_fault: Arm, logged_requests: Log) -> None:
    path = f"/v1/orders/{refs['B']}"
    arm_fault(kind="error_before_apply", path=path, method="GET", status=503)

    order = client.order(refs["B"])

    assert order.order_id == refs["B"]
    assert [entry["status"] for entry in logged_requests("GET", path)] == [503, 200]


def test_a_429_waits_as_long_as_retry_after_says(
        client: Client, refs: dict[str, str], arm_fault: Arm, logged_requests: Log) -> None:
    arm_fault(kind="error_before_apply", path="/v1/market/status", method="GET", status=429, retry_after=1)

    started = time.monotonic()
    status = client.market_status()
    elapsed = time.monotonic() - started

    assert status.phase == "CONTINUOUS"
    assert elapsed >= 0.95
    assert [entry["status"] for entry in logged_requests("GET", "/v1/market/status")] == [429, 200]


def test_a_dropped_get_is_retried_and_succeeds(
        client: Client, refs: dict[str, str], arm_fault: Arm, logged_requests: Log) -> None:
    arm_fault(kind="drop_connection", order_id=refs["B"], method="GET")

    assert client.order(refs["B"]).filled_qty == 200
    assert [entry["status"] for entry in logged_requests("GET", f"/v1/orders/{refs['B']}")] == [0, 200]


def test_a_get_dropped_on_every_try_is_a_network_error(
        client: Client, refs: dict[str, str], arm_fault: Arm, logged_requests: Log) -> None:
    for _ in range(client.max_retries + 1):
        arm_fault(kind="drop_connection", path="/v1/market/status", method="GET")

    with pytest.raises(ApiError) as caught:
        client.market_status()

    assert (caught.value.code, caught.value.http_status, caught.value.recovery_hint) == (
        "NETWORK_ERROR", 0, "retry")
    assert "3 tries" in caught.value.message
    assert len(logged_requests("GET", "/v1/market/status")) == 3


def test_a_refused_connection_is_a_network_error(refs: dict[str, str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    nowhere = f"http://127.0.0.1:{closed_port}"

    with Client(nowhere, token=TEST_TOKEN) as client, pytest.raises(ApiError) as caught:
        client.get("/v1/accounts/acc_default/orders?status=WORKING")

    error = caught.value
    assert (error.code, error.http_status, error.recovery_hint) == ("NETWORK_ERROR", 0, "retry")
    assert error.message.startswith(f"could not reach the trading API for GET {nowhere}/v1/accounts/")
    assert "refused" in error.message
    assert f"Is the broker running at {nowhere}?" in error.message


def test_a_place_answered_503_is_retried_and_places_one_order(
        client: Client, refs: dict[str, str], arm_fault: Arm, logged_requests: Log) -> None:
    arm_fault(kind="error_before_apply", path="/v1/orders", method="POST", status=503)

    placed = client.place("600519", "BUY", 100, "1600.00")

    assert placed.state == "WORKING"
    assert [entry["status"] for entry in logged_requests("POST", "/v1/orders")] == [503, 201]
    same = [order for order in client.orders().orders if order.client_order_id == placed.client_order_id]
    assert [order.order_id for order in same] == [placed.order_id]


def test_a_place_answered_late_is_retried_and_the_server_deduplicates_it(
        broker_url: str, client: Client, refs: dict[str, str], arm_fault: Arm, logged_requests: Log) -> None:
    arm_fault(kind="delay_after_apply", path="/v1/orders", method="POST", seconds=LATE_ANSWER_SECONDS)
    impatient = Client(broker_url, token=TEST_TOKEN, timeout=SHORT_TIMEOUT_SECONDS)

    placed = impatient.place("600519", "BUY", 100, "1600.00")

    posts = wait_for(lambda: len(entries := logged_requests("POST", "/v1/orders")) == 2 and entries)
    assert sorted(entry["status"] for entry in posts) == [200, 201]  # the retry got the order already placed
    same = [order for order in client.orders().orders if order.client_order_id == placed.client_order_id]
    assert [order.order_id for order in same] == [placed.order_id]
    impatient.close()


def test_a_raw_post_of_an_order_gets_a_client_order_id(client: Client, refs: dict[str, str]) -> None:
    body = {"account_id": "acc_default", "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1600.00"}

    placed = client.post("/v1/orders", json=body)

    assert placed["client_order_id"]
    assert "client_order_id" not in body, "the caller's dict is not changed"


def test_cancel_many_of_no_ids_sends_nothing(client: Client, refs: dict[str, str], logged_requests: Log) -> None:
    # Without order_ids the batch endpoint cancels by filter: an empty list must never reach it.
    with pytest.raises(ValueError, match="at least one order id"):
        client.cancel_many([])

    assert logged_requests("DELETE") == []
    assert client.order(refs["A"]).state == "WORKING"
