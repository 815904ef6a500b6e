"""Benchmark the trading API Client: per-call cost against a bare httpx.Client, and cold import time.

    .venv/bin/python bench/client.py [--rounds N] [--calls N] [--imports N]

Starts a paper broker in its own process (simulation mode, in-memory database), loads a small world, then
times the same requests three ways in interleaved rounds: a bare `httpx.Client` (`.get(path).json()`), the
Client's plain `get(path)`, and its typed helper (which also validates the model). Prints the median
milliseconds per call and the ratio to bare httpx (the target for `Client.get` is at most 1.15x). Then the
import time of `scripts._http` in fresh processes (median), next to `import httpx` alone.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts._http import Client  # noqa: E402 (the skill folder is put on the path first)

TOKEN = "bench-token"
TARGET_RATIO = 1.15
WARM_UP_CALLS = 50
STARTUP_TIMEOUT_SECONDS = 30.0
ORDER_ID = "ord_accdefault_bench001"
# Twenty orders: a list page of realistic size (the skill asks for the open orders of one account).
WORLD: dict[str, Any] = {
    "now": "2026-11-24T10:30:00+08:00",
    "account": {"cash": "5000000.00", "positions": [{"symbol": "600519", "qty": 1000, "avg_cost": "1700.00"}]},
    "prices": {"600519": {"last": "1690.00", "prev_close": "1700.00"}},
    "orders": [{"ref": f"o{n}", "id": ORDER_ID if n == 0 else None, "symbol": "600519", "side": "BUY",
                "qty": 100, "limit_price": f"{1600 + n}.00", "at": f"10:{n:02d}:00"} for n in range(20)],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def broker_process() -> Iterator[str]:
    """A paper broker in a subprocess; yields its URL once /healthz answers, stops it on exit."""
    port = free_port()
    env = {**os.environ, "TRADING_API_TOKEN": TOKEN}
    process = subprocess.Popen([sys.executable, "-m", "scripts.broker", "--sim", "--db", ":memory:",
                                "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the paper broker did not start")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def per_call_ms(call: Callable[[], object], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) * 1000 / calls


def time_calls(url: str, rounds: int, calls: int) -> list[tuple[str, float, float, float]]:
    """(operation, bare httpx ms, Client.get ms, typed helper ms) per operation, medians over rounds."""
    bare = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"})
    client = Client(url, token=TOKEN)
    operations: list[tuple[str, str, Callable[[], object]]] = [
        ("GET order", f"/v1/orders/{ORDER_ID}", lambda: client.order(ORDER_ID)),
        ("list orders", "/v1/accounts/acc_default/orders?status=WORKING", lambda: client.orders(status="WORKING")),
        ("account", "/v1/accounts/acc_default", client.account),
    ]
    rows = []
    for name, path, typed in operations:
        variants: dict[str, Callable[[], object]] = {
            "bare": lambda path=path: bare.get(path).json(),
            "client": lambda path=path: client.get(path),
            "typed": typed,
        }
        for call in variants.values():  # warm: connections, the models' import, the broker's caches
            per_call_ms(call, WARM_UP_CALLS)
        samples: dict[str, list[float]] = {key: [] for key in variants}
        for _ in range(rounds):  # interleaved, so drift in the broker or the machine hits all three alike
            for key, call in variants.items():
                samples[key].append(per_call_ms(call, calls))
        rows.append((name, *(statistics.median(samples[key]) for key in ("bare", "client", "typed"))))
    bare.close()
    client.close()
    return rows


def own_cost_us(calls: int) -> tuple[float, float]:
    """Microseconds per call with no socket and no broker (httpx.MockTransport): the clients' own CPU cost."""
    body = httpx.Response(200, json=WORLD).content
    transport = httpx.MockTransport(lambda request: httpx.Response(
        200, content=body, headers={"content-type": "application/json"}))
    bare = httpx.Client(base_url="http://broker.bench", headers={"Authorization": f"Bearer {TOKEN}"},
                        transport=transport)
    client = Client("http://broker.bench", token=TOKEN, http_client=httpx.Client(transport=transport))
    bare_call, client_call = (lambda: bare.get("/v1/orders/x").json()), (lambda: client.get("/v1/orders/x"))
    per_call_ms(bare_call, WARM_UP_CALLS)
    per_call_ms(client_call, WARM_UP_CALLS)
    bare_us = statistics.median(per_call_ms(bare_call, calls) * 1000 for _ in range(5))
    client_us = statistics.median(per_call_ms(client_call, calls) * 1000 for _ in range(5))
    return bare_us, client_us


def import_ms(module: str, runs: int) -> tuple[float, float]:
    """Median of `-X importtime`'s cumulative figure for `module`, and of the whole process's wall time."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    command = [sys.executable, "-X", "importtime", "-c", f"import {module}"]
    subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=True)  # writes the bytecode cache
    cumulative, wall = [], []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        wall.append((time.perf_counter() - started) * 1000)
        line = [row for row in done.stderr.splitlines() if re.search(rf"\|\s*{re.escape(module)}$", row)][-1]
        cumulative.append(int(line.split("|")[1]) / 1000)
    return statistics.median(cumulative), statistics.median(wall)


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/client.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per operation (default 15)")
    parser.add_argument("--calls", type=int, default=40, help="calls per round and variant (default 40)")
    parser.add_argument("--imports", type=int, default=9, help="fresh processes per import figure (default 9)")
    options = parser.parse_args()

    with broker_process() as url:
        httpx.post(f"{url}/v1/sim/reset", json=WORLD, timeout=30).raise_for_status()
        rows = time_calls(url, options.rounds, options.calls)

    print(f"Per call, median of {options.rounds} rounds x {options.calls} calls (broker in a subprocess):")
    print(f"| {'operation':<12} | {'httpx ms':>8} | {'Client.get ms':>13} | {'ratio':>5} "
          f"| {'typed ms':>8} | {'ratio':>5} |")
    print(f"|{'-' * 14}|{'-' * 10}|{'-' * 15}|{'-' * 7}|{'-' * 10}|{'-' * 7}|")
    worst = 0.0
    for name, bare_ms, client_ms, typed_ms in rows:
        worst = max(worst, client_ms / bare_ms)
        print(f"| {name:<12} | {bare_ms:8.3f} | {client_ms:13.3f} | {client_ms / bare_ms:5.2f} "
              f"| {typed_ms:8.3f} | {typed_ms / bare_ms:5.2f} |")
    print(f"Client.get overhead: worst ratio {worst:.2f}x (target <= {TARGET_RATIO:.2f}x): "
          f"{'met' if worst <= TARGET_RATIO else 'MISSED'}")
    bare_us, client_us = own_cost_us(options.calls * 25)
    print(f"Own CPU per call, no socket (httpx.MockTransport): httpx {bare_us:.0f} us, "
          f"Client.get {client_us:.0f} us ({client_us / bare_us:.2f}x)")

    print(f"\nImport, fresh process, bytecode cached, median of {options.imports}:")
    print(f"| {'module':<14} | {'importtime ms':>13} | {'process wall ms':>15} |")
    print(f"|{'-' * 16}|{'-' * 15}|{'-' * 17}|")
    for module in ("httpx", "scripts._http"):
        cumulative, wall = import_ms(module, options.imports)
        print(f"| {module:<14} | {cumulative:13.1f} | {wall:15.1f} |")
    return 0 if worst <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
