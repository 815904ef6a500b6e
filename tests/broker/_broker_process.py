"""The paper broker as its own process (`python -m scripts.broker`), for the restart and isolation tests.

Its stderr goes to a file, so a test can read everything the broker printed after it stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class BrokerProcess:
    process: subprocess.Popen[bytes]
    url: str
    stderr_path: Path

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send `sig` and wait for the process to end; returns its exit code (-N when a signal ended it)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def stderr_text(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")


def start_broker(db: Path, token: str, *, sim: bool, stderr_path: Path, port: int | None = None) -> BrokerProcess:
    """Start a broker on `port` (default: a free one) over the SQLite file `db`; returns once /healthz answers."""
    port = port or free_port()
    command = [sys.executable, "-m", "scripts.broker", "--db", str(db), "--port", str(port)]
    if sim:
        command.append("--sim")
    env = {**os.environ, "TRADING_API_TOKEN": token, "PYTHONUNBUFFERED": "1"}
    with stderr_path.open("ab") as stderr:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    broker = BrokerProcess(process, f"http://127.0.0.1:{port}", stderr_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the broker exited with {process.returncode}:\n{broker.stderr_text()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{broker.url}/healthz", timeout=1).status_code == 200:
                return broker
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise RuntimeError(f"the broker did not answer /healthz in time:\n{broker.stderr_text()}")
        time.sleep(0.05)


@contextlib.contextmanager
def broker_process(db: Path, token: str, *, sim: bool, stderr_path: Path) -> Iterator[BrokerProcess]:
    """A started broker that is killed on exit if the test did not stop it itself."""
    broker = start_broker(db, token, sim=sim, stderr_path=stderr_path)
    try:
        yield broker
    finally:
        if broker.process.poll() is None:
            broker.process.kill()
            broker.process.wait(timeout=STOP_TIMEOUT_SECONDS)
