"""The Client's retry budget: a GET rides out a broker restart of up to about 3 s; a DELETE is never retried.

The broker is its own process on a fixed port; it is killed with SIGKILL and started again on the same file.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest

from scripts._http import RESTART_BUDGET_SECONDS, ApiError, Client
from tests.broker._broker_process import BrokerProcess, free_port, start_broker
from tests.conftest import TEST_TOKEN


def restart_later(db: Path, port: int, log: Path, delay: float, started: list[BrokerProcess]) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        started.append(start_broker(db, TEST_TOKEN, sim=False, stderr_path=log, port=port))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("delay", [0.0, 0.8])
def test_gets_ride_out_a_kill_and_restart(tmp_path: Path, delay: float) -> None:
    db, port, log = tmp_path / "broker.db", free_port(), tmp_path / "broker.log"
    broker = start_broker(db, TEST_TOKEN, sim=False, stderr_path=log, port=port)
    started: list[BrokerProcess] = []
    with Client(base_url=broker.url, token=TEST_TOKEN) as client:
        client.account()
        broker.stop(signal.SIGKILL)
        began = time.monotonic()
        thread = restart_later(db, port, log, delay, started)
        try:
            # The restart (process start included) takes the delay plus about a second on this machine.
            for _ in range(5):
                assert client.account().account_id == "acc_default"
            assert time.monotonic() - began < RESTART_BUDGET_SECONDS + 1
        finally:
            thread.join(timeout=30)
            for restarted in started:
                restarted.stop()


def test_a_get_to_a_broker_that_stays_down_gives_up_after_the_budget(tmp_path: Path) -> None:
    with Client(base_url=f"http://127.0.0.1:{free_port()}", token=TEST_TOKEN) as client:
        began = time.monotonic()
        with pytest.raises(ApiError) as caught:
            client.account()
        spent = time.monotonic() - began
    assert caught.value.code == "NETWORK_ERROR"
    assert 2.5 <= spent <= RESTART_BUDGET_SECONDS + 0.5


def test_a_delete_while_the_broker_is_down_is_tried_once(tmp_path: Path) -> None:
    with Client(base_url=f"http://127.0.0.1:{free_port()}", token=TEST_TOKEN) as client:
        began = time.monotonic()
        with pytest.raises(ApiError) as caught:
            client.cancel("ord_accdefault_abc12345")
        spent = time.monotonic() - began
    assert caught.value.code == "NETWORK_ERROR"  # refused: nothing was sent, so nothing changed
    assert spent < 0.5


def test_a_client_without_retries_does_not_wait_for_a_restart() -> None:
    with Client(base_url=f"http://127.0.0.1:{free_port()}", token=TEST_TOKEN, max_retries=0) as client:
        began = time.monotonic()
        with pytest.raises(ApiError):
            client.account()
    assert time.monotonic() - began < 0.5
