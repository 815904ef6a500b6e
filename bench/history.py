"""Cost by open orders, not history: place-an-order and read-the-account latency at 0 and N finished orders.

    .venv/bin/python bench/history.py [--orders 300000] [--requests 300]

Builds a database whose account holds N historical (FILLED/CANCELLED) orders, written straight into SQLite,
starts the real broker on it, and times `POST /v1/orders` (each order cancelled again, so the open set stays
small) and `GET /v1/accounts/acc_default` over real HTTP. Prints p50/p90 per size and the ratio to the
empty account; the target is within 1.5x at p50.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.broker import BrokerSettings, running_broker
from scripts.broker.store import Store, token_hash

TOKEN = "bench-history-token"
ACCOUNT = "acc_default"
WORLD_NOW = "2026-11-24T10:30:00+08:00"
STAMP = "2026-11-{day:02d}T10:{minute:02d}:00.000+08:00"


def seed_history(db: Path, orders: int) -> None:
    store = Store(db)
    with store.transaction() as conn:
        conn.execute("INSERT INTO accounts (account_id, cash_total) VALUES (?, '100000000.00')", (ACCOUNT,))
        conn.execute("INSERT INTO tokens (token_hash, account_id) VALUES (?, ?)", (token_hash(TOKEN), ACCOUNT))
        rows = []
        for n in range(orders):
            filled = n % 2 == 0
            ts = STAMP.format(day=1 + n % 20, minute=n % 60)
            rows.append((f"ord_accdefault_{n:08d}", ACCOUNT, f"h{n}", "000001", "BUY" if n % 3 else "SELL", "LIMIT",
                         100, "10.00", 100 if filled else 0, 0 if filled else 100, "1000.00" if filled else "0",
                         "FILLED" if filled else "CANCELLED", ts, ts))
        conn.executemany(
            "INSERT INTO orders (order_id, account_id, client_order_id, symbol, side, type, qty, limit_price, "
            "filled_qty, cancelled_qty, filled_value, state, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    store.close()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(db: Path, requests: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"place": [], "account": []}
    with running_broker(BrokerSettings(db=str(db), token=TOKEN, sim=True)) as url, httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as api:
        httpx.post(f"{url}/v1/sim/clock", json={"now": WORLD_NOW}).raise_for_status()
        for n in range(requests + 20):
            began = time.perf_counter()
            placed = api.post("/v1/orders", json={"account_id": ACCOUNT, "symbol": "000001", "side": "BUY",
                                                  "qty": 100, "limit_price": "9.50"})
            place_seconds = time.perf_counter() - began
            placed.raise_for_status()
            began = time.perf_counter()
            api.get(f"/v1/accounts/{ACCOUNT}").raise_for_status()
            account_seconds = time.perf_counter() - began
            api.delete(f"/v1/orders/{placed.json()['order_id']}").raise_for_status()
            if n >= 20:  # warm-up left out
                timings["place"].append(place_seconds * 1000)
                timings["account"].append(account_seconds * 1000)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300_000, help="historical orders in the big account")
    parser.add_argument("--requests", type=int, default=300, help="timed requests of each kind per size")
    args = parser.parse_args()
    results: dict[int, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in (0, args.orders):
            db = Path(folder) / f"history-{size}.db"
            began = time.perf_counter()
            seed_history(db, size)
            seeded = time.perf_counter() - began
            results[size] = measure(db, args.requests)
            print(f"{size:>8,} historical orders (seeded in {seeded:.1f} s): " + "; ".join(
                f"{kind} p50 {statistics.median(ms):.2f} ms p90 {percentile(ms, 0.9):.2f} ms"
                for kind, ms in results[size].items()))
    for kind in ("place", "account"):
        ratio = statistics.median(results[args.orders][kind]) / statistics.median(results[0][kind])
        print(f"{kind}: p50 at {args.orders:,} / p50 at 0 = {ratio:.2f} (target <= 1.5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
