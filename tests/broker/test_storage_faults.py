"""The database defends itself, and a file the broker cannot use ends in one clear line, never a traceback.

Garbage, corrupt, locked, read-only and unreachable files; a second broker on one file; an older schema
upgraded in place; the schema's own constraints; a lock held by another process while serving (503 with
`retry`, /healthz unaffected).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from scripts.broker import BrokerSettings, running_broker
from scripts.broker.schema import SCHEMA_VERSION
from scripts.broker.store import StorageError, Store
from tests.broker._broker_process import REPO_ROOT, broker_process, free_port
from tests.conftest import TEST_TOKEN

SCHEMA_V0 = (Path(__file__).parent / "data" / "schema_v0.sql").read_text(encoding="utf-8")
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
AUTH = {"Authorization": f"Bearer {TEST_TOKEN}"}
ORDER = {"account_id": "acc_default", "symbol": "000001", "side": "BUY", "qty": 100, "limit_price": "9.00"}


def start_failing(db: Path, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """Start `python -m scripts.broker` on `db`, expecting it to refuse; returns how it ended."""
    env = {**os.environ, "TRADING_API_TOKEN": TEST_TOKEN}
    return subprocess.run([sys.executable, "-m", "scripts.broker", "--db", str(db), "--port", str(free_port())],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def assert_one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("broker: ")]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_a_garbage_file_is_refused_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "broker.db"
    db.write_bytes(b"this is not a database, just text that someone saved here " * 200)
    assert_one_clear_line(start_failing(db), str(db), "not an SQLite database")


def test_a_corrupt_file_is_refused_at_start_not_served(tmp_path: Path) -> None:
    db = tmp_path / "broker.db"
    store = Store(db)
    with store.transaction() as conn:
        conn.executemany("INSERT INTO prices (symbol, last, prev_close) VALUES (?, '10.00', '10.00')",
                         [(f"{n:06d}",) for n in range(5000)])
    store.close()
    sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    raw = bytearray(db.read_bytes())
    page = 4096
    assert len(raw) > 6 * page
    raw[3 * page:5 * page] = os.urandom(2 * page)  # two pages in the middle of the prices table's tree
    db.write_bytes(bytes(raw))
    line = assert_one_clear_line(start_failing(db), str(db))
    assert "corrupt" in line or "malformed" in line


def test_a_second_broker_on_the_same_file_refuses(tmp_path: Path) -> None:
    db = tmp_path / "broker.db"
    with broker_process(db, TEST_TOKEN, sim=False, stderr_path=tmp_path / "first.log") as first:
        assert_one_clear_line(start_failing(db), "in use by another broker")
        assert httpx.get(f"{first.url}/v1/accounts/acc_default", headers=AUTH).status_code == 200


def test_a_second_in_process_store_on_the_same_file_refuses(tmp_path: Path) -> None:
    store = Store(tmp_path / "broker.db")
    try:
        with pytest.raises(StorageError, match="in use by another broker"):
            Store(tmp_path / "broker.db")
    finally:
        store.close()
    Store(tmp_path / "broker.db").close()  # released on close


def test_a_missing_directory_is_created_and_an_impossible_one_is_refused(tmp_path: Path) -> None:
    Store(tmp_path / "new" / "deeper" / "broker.db").close()
    (tmp_path / "plain-file").write_text("x")
    assert_one_clear_line(start_failing(tmp_path / "plain-file" / "broker.db"), "cannot create or open")


@pytest.mark.skipif(AS_ROOT, reason="root writes through file modes")
def test_a_read_only_file_is_refused_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "broker.db"
    Store(db).close()
    db.chmod(0o444)
    assert_one_clear_line(start_failing(db), str(db))


@pytest.mark.skipif(AS_ROOT, reason="root writes through directory modes")
def test_a_read_only_directory_is_refused_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert_one_clear_line(start_failing(folder / "broker.db"), "broker.db")
    finally:
        folder.chmod(0o755)


def test_a_read_only_filesystem_is_refused_in_one_line() -> None:
    assert_one_clear_line(start_failing(Path("/proc/broker-test.db")), "/proc/broker-test.db")


def test_starting_on_a_file_another_process_holds_locked_is_refused_quickly(tmp_path: Path) -> None:
    db = tmp_path / "broker.db"
    Store(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        began = time.monotonic()
        assert_one_clear_line(start_failing(db), "lock")
        assert time.monotonic() - began < 10
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_lock_held_while_serving_answers_503_retry_and_healthz_stays_instant(tmp_path: Path) -> None:
    db = tmp_path / "broker.db"
    with running_broker(BrokerSettings(db=str(db), token=TEST_TOKEN)) as url, httpx.Client(
            base_url=url, headers=AUTH, timeout=10) as api:
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            began = time.monotonic()
            refused = api.post("/v1/orders", json=ORDER)
            assert time.monotonic() - began < 2
            assert refused.status_code == 503, refused.text
            body = refused.json()
            assert (body["code"], body["recovery_hint"]) == ("SERVICE_UNAVAILABLE", "retry")
            assert body["request_id"] == refused.headers["x-request-id"]
            assert refused.headers["retry-after"] == "1"
            began = time.monotonic()
            assert api.get("/healthz").status_code == 200
            assert time.monotonic() - began < 0.3
            assert api.get("/v1/accounts/acc_default").status_code == 200  # WAL: readers never wait
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert api.post("/v1/orders", json=ORDER).status_code == 201


def _old_database(db: Path, *, order_qty: int = 100) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.executescript(SCHEMA_V0)
    conn.execute("INSERT INTO accounts VALUES ('acc_default', '1000000.00')")
    conn.execute("INSERT INTO orders (order_id, account_id, client_order_id, symbol, side, type, qty, limit_price, "
                 "frozen_cash, state, created_at, updated_at) VALUES ('ord_accdefault_old00001', 'acc_default', "
                 f"'c1', '000001', 'BUY', 'LIMIT', {order_qty}, '9.00', '905.01', 'WORKING', "
                 "'2026-11-24T10:00:00.000+08:00', '2026-11-24T10:00:00.000+08:00')")
    conn.execute("INSERT INTO state_history (order_id, state, ts) VALUES ('ord_accdefault_old00001', 'NEW', "
                 "'2026-11-24T10:00:00.000+08:00')")
    conn.close()


def test_an_older_database_is_upgraded_in_place_with_every_row_kept(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    _old_database(db)
    store = Store(db)
    try:
        assert store.note == f"upgraded from schema 0 to {SCHEMA_VERSION}"
        with store.reading() as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            order = store.order(conn, "ord_accdefault_old00001")
            assert order is not None
            assert order.frozen_cash == Decimal("905.01")
            assert store.frozen_cash(conn, "acc_default") == Decimal("905.01")
        with pytest.raises(sqlite3.IntegrityError), store.transaction() as conn:
            conn.execute("UPDATE orders SET qty = 0")
    finally:
        store.close()
    again = Store(db)
    assert again.note is None  # the second start finds it current
    again.close()


def test_an_older_database_whose_rows_break_the_new_rules_is_refused_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    _old_database(db, order_qty=-5)
    with pytest.raises(StorageError, match="breaks a rule"):
        Store(db)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    assert conn.execute("SELECT qty FROM orders").fetchone()[0] == -5
    conn.close()


def test_a_database_from_a_newer_broker_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "broker.db"
    Store(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StorageError, match="newer broker"):
        Store(db)


@pytest.mark.parametrize("statement", [
    "UPDATE orders SET qty = 0",
    "UPDATE orders SET side = 'HOLD'",
    "UPDATE orders SET state = 'PAUSED'",
    "UPDATE orders SET filled_qty = qty + 1",
    "UPDATE orders SET state = 'CANCELLED'",  # terminal with shares still open
    "UPDATE orders SET frozen_cash = '-1.00'",
    "UPDATE orders SET account_id = 'acc_nobody'",
    "INSERT INTO fills (fill_id, order_id, qty, price, fee, ts) VALUES ('f1', 'ord_nope_00000000', 1, '1', '0', 't')",
    "INSERT INTO fills (fill_id, order_id, qty, price, fee, ts) "
    "VALUES ('f2', 'ord_accdefault_old00001', 0, '9.00', '0', 't')",
    "INSERT INTO positions (account_id, symbol, qty, cost_basis) VALUES ('acc_default', '600519', -1, '0')",
    "INSERT INTO tokens (token_hash, account_id) VALUES ('x', 'acc_nobody')",
])
def test_the_schema_refuses_rows_that_break_an_invariant(tmp_path: Path, statement: str) -> None:
    db = tmp_path / "demo.db"
    _old_database(db)
    store = Store(db)
    try:
        with pytest.raises(sqlite3.IntegrityError), store.transaction() as conn:
            conn.execute(statement)
    finally:
        store.close()
