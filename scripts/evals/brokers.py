"""The worlds scenarios run in: paper brokers started through their public starter, one per worker.

Each broker is its own process (`python -m scripts.broker --sim --db :memory:`), so N workers use N cores
and never share state; a broker is reused from scenario to scenario through `POST /v1/sim/reset`.

The harness drives the broker's simulation control (`/v1/sim/*`, which the Client does not offer) and reads the
graded orders as raw JSON over plain httpx, so nothing of the skill's own code decides a grade; every path is
still built by `Client.path`, the one place a `/v1/` URL is spelt.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from .._http import Client
from .suite import Event, Scenario

ROOT = Path(__file__).resolve().parents[2]  # the folder holding the package (the checkout, or site-packages)
PACKAGE = __package__.rpartition(".")[0]  # `scripts` in the checkout, `a_share_orders` from the wheel
STARTUP_SECONDS = 20.0
START_ATTEMPTS = 3


class WorldError(Exception):
    """The broker refused a scenario's world or fault (a malformed scenario found at run time)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BrokerProcess:
    """A simulation broker in its own process, with an in-memory database and a token of its own."""

    def __init__(self) -> None:
        self.token = secrets.token_urlsafe(16)
        for _ in range(START_ATTEMPTS):
            if self._start():
                return
        raise RuntimeError("a paper broker for the evaluation did not start")

    def _start(self) -> bool:
        """Start on a free port; True once the broker there answers to this broker's own token.

        The port is free when chosen but may be taken before the child binds it (another run starting
        brokers at the same time): only an answer accepting our random token proves it is ours.
        """
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "TRADING_API_TOKEN": self.token}
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"{PACKAGE}.broker", "--sim", "--db", ":memory:", "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.sim = httpx.Client(base_url=self.url, timeout=30)
        deadline = time.monotonic() + STARTUP_SECONDS
        while self.process.poll() is None and time.monotonic() < deadline:
            try:
                answer = self.sim.get(Client.path("market", "status"),
                                      headers={"Authorization": f"Bearer {self.token}"})
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            if answer.status_code == 200:
                return True
            break  # someone else's server on this port
        self.close()
        return False

    def load(self, scenario: Scenario) -> dict[str, str]:
        """Reset to the scenario's world and arm its faults; returns the real order id of each ref."""
        response = self.sim.post(Client.path("sim", "reset"), json=scenario.world())
        if response.status_code != 200:
            raise WorldError(_reason(response))
        refs: dict[str, str] = response.json()["orders"]
        for fault in scenario.faults:
            body: dict[str, Any] = {k: v for k, v in fault.model_dump().items() if v is not None and k != "order"}
            if fault.order is not None:
                body["order_id"] = refs[fault.order]
            armed = self.sim.post(Client.path("sim", "faults"), json=body)
            if armed.status_code != 201:
                raise WorldError(f"fault {fault.kind}: {_reason(armed)}")
        return refs

    def apply(self, event: Event) -> None:
        """Move the world as the scenario says: prices first (they may fill resting orders), then the clock."""
        for move in event.prices:
            answer = self.sim.post(Client.path("sim", "prices"), json=move)
            if answer.status_code != 200:
                raise WorldError(f"event after turn {event.after_turn}: prices: {_reason(answer)}")
        if event.clock is not None:
            answer = self.sim.post(Client.path("sim", "clock"), json=event.clock)
            if answer.status_code != 200:
                raise WorldError(f"event after turn {event.after_turn}: clock: {_reason(answer)}")

    def request_log(self) -> list[dict[str, Any]]:
        return self.sim.get(Client.path("sim", "requests")).json()["requests"]

    def orders(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The orders as they stand now (read through the trading API, like any client)."""
        with httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30) as api:
            return {order_id: api.get(Client.path("orders", order_id)).json() for order_id in ids}

    def close(self) -> None:
        self.sim.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _reason(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", response.text[:200]))
    except ValueError:
        return response.text[:200]
