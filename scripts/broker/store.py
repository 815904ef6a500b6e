"""SQLite persistence: one connection serialized by a lock, and row-level reads and writes.

Concurrency, as it really is: the routes are plain `def`, so FastAPI runs them on its threadpool, several
at once. What keeps a cancel and a fill of one order from interleaving is `Store.transaction()`: the lock
serializes this process's threads on the one connection, and `BEGIN IMMEDIATE` takes SQLite's write lock
before the first read, so any other connection to the file (another process) waits for the commit instead
of acting on what it read before. Reads (`Store.reading()`) take the lock and a deferred transaction: a
consistent snapshot that, under WAL, never waits for another connection's writer. Tests fail when either
guard is removed (tests/broker/test_transaction_guard.py).

WAL mode lets a killed process restart on the same file with every committed order, fill, cash figure and
position as it was. The file is opened by `dbfile.open_database` (one broker per file, integrity, schema).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..models import OPEN_STATES
from . import dbfile
from .schema import STATE_TABLES

# A request waits this long for another connection's write lock, then answers 503 SERVICE_UNAVAILABLE
# with `retry`: short, because the one connection's lock makes every other request wait behind it.
BUSY_TIMEOUT_SECONDS = 0.5


# What `list_order_records` gives for each order, in this order: what the order object on the wire needs,
# and `seq` for the next page's cursor.
ORDER_RECORD_COLUMNS = ("order_id", "client_order_id", "account_id", "symbol", "side", "type", "qty", "limit_price",
                        "filled_qty", "cancelled_qty", "filled_value", "frozen_cash", "state", "reject_reason",
                        "created_at", "updated_at", "seq")


class StorageError(Exception):
    """The database file cannot be used: the message is one line naming the file and what to do."""


def token_hash(token: str) -> str:
    """Tokens are stored hashed: the database file holds no credential."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class OrderRow:
    seq: int
    order_id: str
    account_id: str
    client_order_id: str | None
    request_hash: str | None
    symbol: str
    side: str
    type: str
    qty: int
    limit_price: Decimal | None
    filled_qty: int
    cancelled_qty: int
    filled_value: Decimal
    fees_paid: Decimal
    frozen_cash: Decimal
    state: str
    reject_reason: str | None
    awaiting_match: bool
    created_at: str
    updated_at: str

    @property
    def remaining_qty(self) -> int:
        return self.qty - self.filled_qty - self.cancelled_qty

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> OrderRow:
        return cls(
            seq=row["seq"],
            order_id=row["order_id"],
            account_id=row["account_id"],
            client_order_id=row["client_order_id"],
            request_hash=row["request_hash"],
            symbol=row["symbol"],
            side=row["side"],
            type=row["type"],
            qty=row["qty"],
            limit_price=Decimal(row["limit_price"]) if row["limit_price"] is not None else None,
            filled_qty=row["filled_qty"],
            cancelled_qty=row["cancelled_qty"],
            filled_value=Decimal(row["filled_value"]),
            fees_paid=Decimal(row["fees_paid"]),
            frozen_cash=Decimal(row["frozen_cash"]),
            state=row["state"],
            reject_reason=row["reject_reason"],
            awaiting_match=bool(row["awaiting_match"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


@dataclass(frozen=True, slots=True)
class PositionRow:
    account_id: str
    symbol: str
    qty: int
    cost_basis: Decimal  # total cost of the shares held, fees included
    unsettled_qty: int
    unsettled_day: str | None

    def unsettled_on(self, trading_day: str) -> int:
        """Shares bought on `trading_day` itself stay unsettled (T+1); earlier purchases have settled."""
        return self.unsettled_qty if self.unsettled_day is not None and self.unsettled_day >= trading_day else 0


class Store:
    """One SQLite connection, serialized by a lock; `:memory:` for throwaway brokers."""

    def __init__(self, path: str | Path = ":memory:", *, exclusive: bool = True) -> None:
        """Open (or create) the database; `StorageError` when the file cannot be used.

        `exclusive=False` skips the one-broker-per-file lock: only for tests that need two connections.
        """
        self.path = str(path)
        self._lock = threading.RLock()
        opened = dbfile.open_database(self.path, BUSY_TIMEOUT_SECONDS, exclusive=exclusive)
        self._conn = opened.connection
        self._conn.row_factory = sqlite3.Row
        self._file_lock = opened.file_lock
        self.note = opened.note
        self._depth = 0
        self._grants: dict[str, frozenset[str]] = {}
        # The order list's JSON of finished orders (`order_json`), by order id with the record it was written
        # from: a finished order never changes again. Touched only under the lock; emptied by `wipe`.
        self.finished_json: dict[str, tuple[tuple[Any, ...], str]] = {}
        self.reload_grants()
        with self.reading() as db:
            self._faults_may_be_armed = db.execute("SELECT 1 FROM faults LIMIT 1").fetchone() is not None

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            if self._file_lock is not None:
                self._file_lock.close()  # closing the descriptor ends the flock

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A serialized write transaction; nested calls join the outer one."""
        with self._joined("BEGIN IMMEDIATE") as db:
            yield db

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A consistent read: the lock and a deferred transaction (under WAL it never waits for a writer)."""
        with self._joined("BEGIN") as db:
            yield db

    @contextmanager
    def _joined(self, begin: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute(begin)
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    # --- meta --------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self.reading():
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
                       (key, value, value))

    # --- accounts and tokens -----------------------------------------------------------------------

    def accounts_for_token(self, token: str) -> frozenset[str]:
        """From memory: the gateway asks on the event loop, which must never wait for the lock or the disk."""
        return self._grants.get(token_hash(token), frozenset()) if token else frozenset()

    def reload_grants(self) -> None:
        """Read the token table into memory again; called after every change to it."""
        with self.reading() as db:
            rows = db.execute("SELECT token_hash, account_id FROM tokens").fetchall()
        grants: dict[str, set[str]] = {}
        for row in rows:
            grants.setdefault(row["token_hash"], set()).add(row["account_id"])
        self._grants = {key: frozenset(accounts) for key, accounts in grants.items()}  # swapped in whole

    def ensure_account(self, account_id: str, cash_total: Decimal, token: str) -> None:
        """Create the account if it is missing and grant it to `token` (an existing balance is kept)."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO accounts (account_id, cash_total) VALUES (?, ?)",
                       (account_id, str(cash_total)))
            db.execute("INSERT OR IGNORE INTO tokens (token_hash, account_id) VALUES (?, ?)",
                       (token_hash(token), account_id))
        self.reload_grants()

    def grant_only(self, account_id: str, token: str) -> None:
        """Make `token` the only one that grants `account_id`."""
        with self.transaction() as db:
            db.execute("DELETE FROM tokens WHERE account_id = ? AND token_hash != ?", (account_id, token_hash(token)))
            db.execute("INSERT OR IGNORE INTO tokens (token_hash, account_id) VALUES (?, ?)",
                       (token_hash(token), account_id))
        self.reload_grants()

    def has_account(self, account_id: str) -> bool:
        with self.reading() as db:
            return db.execute("SELECT 1 FROM accounts WHERE account_id = ?", (account_id,)).fetchone() is not None

    def has_accounts(self) -> bool:
        with self.reading() as db:
            return db.execute("SELECT 1 FROM accounts LIMIT 1").fetchone() is not None

    def cash_total(self, db: sqlite3.Connection, account_id: str) -> Decimal:
        row = db.execute("SELECT cash_total FROM accounts WHERE account_id = ?", (account_id,)).fetchone()
        return Decimal(row["cash_total"])

    def set_cash_total(self, db: sqlite3.Connection, account_id: str, total: Decimal) -> None:
        db.execute("UPDATE accounts SET cash_total = ? WHERE account_id = ?", (str(total), account_id))

    def frozen_cash(self, db: sqlite3.Connection, account_id: str) -> Decimal:
        rows = db.execute(
            "SELECT frozen_cash FROM orders WHERE account_id = ? AND state IN ('NEW', 'WORKING') AND side = 'BUY'",
            (account_id,),
        ).fetchall()
        return sum((Decimal(row["frozen_cash"]) for row in rows), Decimal("0"))

    # --- prices ------------------------------------------------------------------------------------

    def price(self, db: sqlite3.Connection, symbol: str) -> tuple[Decimal, Decimal] | None:
        row = db.execute("SELECT last, prev_close FROM prices WHERE symbol = ?", (symbol,)).fetchone()
        return (Decimal(row["last"]), Decimal(row["prev_close"])) if row else None

    def set_price(self, db: sqlite3.Connection, symbol: str, last: Decimal, prev_close: Decimal) -> None:
        db.execute(
            "INSERT INTO prices (symbol, last, prev_close) VALUES (?, ?, ?) "
            "ON CONFLICT(symbol) DO UPDATE SET last = excluded.last, prev_close = excluded.prev_close",
            (symbol, str(last), str(prev_close)),
        )

    def roll_prices(self, db: sqlite3.Connection) -> None:
        """At the close, today's last price becomes tomorrow's previous close (the next band's anchor)."""
        db.execute("UPDATE prices SET prev_close = last")

    # --- positions ---------------------------------------------------------------------------------

    def position(self, db: sqlite3.Connection, account_id: str, symbol: str) -> PositionRow | None:
        row = db.execute("SELECT * FROM positions WHERE account_id = ? AND symbol = ?",
                         (account_id, symbol)).fetchone()
        return _position(row) if row else None

    def positions(self, db: sqlite3.Connection, account_id: str) -> list[PositionRow]:
        rows = db.execute("SELECT * FROM positions WHERE account_id = ? AND qty > 0 ORDER BY symbol",
                          (account_id,)).fetchall()
        return [_position(row) for row in rows]

    def put_position(self, db: sqlite3.Connection, row: PositionRow) -> None:
        if row.qty <= 0:
            db.execute("DELETE FROM positions WHERE account_id = ? AND symbol = ?", (row.account_id, row.symbol))
            return
        db.execute(
            "INSERT INTO positions (account_id, symbol, qty, cost_basis, unsettled_qty, unsettled_day) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(account_id, symbol) DO UPDATE SET qty = excluded.qty, "
            "cost_basis = excluded.cost_basis, unsettled_qty = excluded.unsettled_qty, "
            "unsettled_day = excluded.unsettled_day",
            (row.account_id, row.symbol, row.qty, str(row.cost_basis), row.unsettled_qty, row.unsettled_day),
        )

    def locked_for_sell(self, db: sqlite3.Connection, account_id: str, symbol: str) -> int:
        row = db.execute(
            "SELECT COALESCE(SUM(qty - filled_qty - cancelled_qty), 0) AS locked FROM orders "
            "WHERE account_id = ? AND symbol = ? AND side = 'SELL' AND state IN ('NEW', 'WORKING')",
            (account_id, symbol),
        ).fetchone()
        return int(row["locked"])

    # --- orders ------------------------------------------------------------------------------------

    def insert_order(self, db: sqlite3.Connection, fields: dict[str, Any]) -> None:
        stored = {key: (str(value) if isinstance(value, Decimal) else value) for key, value in fields.items()}
        columns = ", ".join(stored)
        marks = ", ".join("?" for _ in stored)
        db.execute(f"INSERT INTO orders ({columns}) VALUES ({marks})", tuple(stored.values()))

    def update_order(self, db: sqlite3.Connection, order_id: str, **fields: Any) -> None:
        stored = {key: (str(value) if isinstance(value, Decimal) else value) for key, value in fields.items()}
        assignments = ", ".join(f"{key} = ?" for key in stored)
        db.execute(f"UPDATE orders SET {assignments} WHERE order_id = ?", (*stored.values(), order_id))

    def order(self, db: sqlite3.Connection, order_id: str) -> OrderRow | None:
        row = db.execute("SELECT * FROM orders WHERE order_id = ?", (order_id,)).fetchone()
        return OrderRow.from_row(row) if row else None

    def order_by_client_id(self, db: sqlite3.Connection, account_id: str, client_order_id: str) -> OrderRow | None:
        row = db.execute("SELECT * FROM orders WHERE account_id = ? AND client_order_id = ?",
                         (account_id, client_order_id)).fetchone()
        return OrderRow.from_row(row) if row else None

    def open_orders(self, db: sqlite3.Connection, symbol: str | None = None) -> list[OrderRow]:
        query = "SELECT * FROM orders WHERE state IN ('NEW', 'WORKING')"
        params: tuple[Any, ...] = ()
        if symbol is not None:
            query += " AND symbol = ?"
            params = (symbol,)
        return [OrderRow.from_row(row) for row in db.execute(query + " ORDER BY seq", params).fetchall()]

    def list_orders(
        self,
        db: sqlite3.Connection,
        account_ids: list[str],
        states: list[str] | None,
        symbol: str | None,
        side: str | None,
        since: str | None,
        after: tuple[str, int] | None,
        limit: int,
    ) -> list[OrderRow]:
        """Newest first: by created_at, then the later entry first; `after` is a keyset cursor."""
        where, params = _order_filter(account_ids, states, symbol, side, since, after)
        query = f"SELECT * FROM orders WHERE {where} ORDER BY created_at DESC, seq DESC LIMIT ?"
        return [OrderRow.from_row(row) for row in db.execute(query, [*params, limit]).fetchall()]

    def list_order_records(
        self,
        db: sqlite3.Connection,
        account_ids: list[str],
        states: list[str] | None,
        symbol: str | None,
        side: str | None,
        since: str | None,
        after: tuple[str, int] | None,
        limit: int,
    ) -> list[tuple[Any, ...]]:
        """`list_orders` as plain tuples of ORDER_RECORD_COLUMNS: the list endpoint builds no object per row."""
        where, params = _order_filter(account_ids, states, symbol, side, since, after)
        query = (f"SELECT {', '.join(ORDER_RECORD_COLUMNS)} FROM orders WHERE {where} "
                 "ORDER BY created_at DESC, seq DESC LIMIT ?")
        return _tuples(db, query, [*params, limit])

    def add_history(self, db: sqlite3.Connection, order_id: str, state: str, ts: str, reason: str | None) -> None:
        db.execute("INSERT INTO state_history (order_id, state, ts, reason) VALUES (?, ?, ?, ?)",
                   (order_id, state, ts, reason))

    def history(self, db: sqlite3.Connection, order_ids: list[str]) -> dict[str, list[sqlite3.Row]]:
        return self._grouped(db, "SELECT * FROM state_history WHERE order_id IN ({}) ORDER BY id", order_ids)

    def add_fill(self, db: sqlite3.Connection, fill_id: str, order_id: str, qty: int, price: Decimal,
                 fee: Decimal, ts: str) -> None:
        db.execute("INSERT INTO fills (fill_id, order_id, qty, price, fee, ts) VALUES (?, ?, ?, ?, ?, ?)",
                   (fill_id, order_id, qty, str(price), str(fee), ts))

    def fills(self, db: sqlite3.Connection, order_ids: list[str]) -> dict[str, list[sqlite3.Row]]:
        return self._grouped(db, "SELECT * FROM fills WHERE order_id IN ({}) ORDER BY ts, rowid", order_ids)

    # The list endpoint's reads: a page of ids binds as one JSON parameter (no chunking under SQLite's parameter
    # cap), and each row carries the id's index in the page, not the id, so grouping needs no lookup.
    def fill_records(self, db: sqlite3.Connection, order_ids: list[str]) -> list[tuple[Any, ...]]:
        """`(i, fill_id, qty, price, fee, ts)` for the fills of `order_ids[i]`, by i, then as `fills` orders them."""
        return _tuples(db, "SELECT ids.key, fill_id, qty, price, fee, ts FROM json_each(?) AS ids "
                           "JOIN fills AS f ON f.order_id = ids.value ORDER BY ids.key, f.ts, f.rowid",
                       [json.dumps(order_ids)])

    def history_records(self, db: sqlite3.Connection, order_ids: list[str]) -> list[tuple[Any, ...]]:
        """`(i, state, ts, reason)` for the state changes of `order_ids[i]`, by i, then in the order they happened."""
        return _tuples(db, "SELECT ids.key, state, ts, reason FROM json_each(?) AS ids "
                           "JOIN state_history AS h ON h.order_id = ids.value ORDER BY ids.key, h.id",
                       [json.dumps(order_ids)])

    @staticmethod
    def _grouped(db: sqlite3.Connection, query: str, order_ids: list[str]) -> dict[str, list[sqlite3.Row]]:
        grouped: dict[str, list[sqlite3.Row]] = {order_id: [] for order_id in order_ids}
        # SQLite caps bound parameters; chunk so a 500-order page stays one query or two.
        for start in range(0, len(order_ids), 400):
            chunk = order_ids[start:start + 400]
            for row in db.execute(query.format(", ".join("?" for _ in chunk)), chunk).fetchall():
                grouped[row["order_id"]].append(row)
        return grouped

    # --- simulation: faults, request log, reset ----------------------------------------------------

    def add_fault(self, fields: dict[str, Any]) -> None:
        with self.transaction() as db:
            columns = ", ".join(fields)
            db.execute(f"INSERT INTO faults ({columns}) VALUES ({', '.join('?' for _ in fields)})",
                       tuple(fields.values()))
            self._faults_may_be_armed = True

    def has_faults(self) -> bool:
        """Whether a fault may be armed, from memory: the gateway asks on the event loop before every request.

        Only this broker writes the file (one per file), so the flag is set wherever a fault is added, under
        the lock, and cleared only by `take_fault` finding none left.
        """
        return self._faults_may_be_armed

    def take_fault(self, method: str, path: str, order_ids: list[str], kinds: tuple[str, ...]) -> sqlite3.Row | None:
        """Consume the oldest armed fault of one of `kinds` that matches this request (one-shot)."""
        with self.transaction() as db:
            rows = db.execute(
                f"SELECT * FROM faults WHERE kind IN ({', '.join('?' for _ in kinds)}) ORDER BY id", kinds
            ).fetchall()
            for row in rows:
                if row["path"] is not None:
                    matches = row["path"] == path and (row["method"] is None or row["method"] == method)
                else:
                    matches = row["order_id"] in order_ids and (row["method"] or "DELETE") == method
                if matches:
                    db.execute("DELETE FROM faults WHERE id = ?", (row["id"],))
                    return row
            if db.execute("SELECT 1 FROM faults LIMIT 1").fetchone() is None:
                self._faults_may_be_armed = False
        return None

    def log_request(self, entry: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO request_log (ts, method, path, query, status, code, account_id, order_ids) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (entry["ts"], entry["method"], entry["path"], entry["query"], entry["status"], entry["code"],
                 entry["account_id"], json.dumps(entry["order_ids"])),
            )

    def request_log(self) -> list[dict[str, Any]]:
        with self.reading():
            rows = self._conn.execute("SELECT * FROM request_log ORDER BY seq").fetchall()
        return [{**dict(row), "order_ids": json.loads(row["order_ids"])} for row in rows]

    def wipe(self, db: sqlite3.Connection) -> None:
        self.finished_json.clear()  # a new world may reuse an order id for another order
        for table in STATE_TABLES:
            db.execute(f"DELETE FROM {table}")


def _order_filter(account_ids: list[str], states: list[str] | None, symbol: str | None, side: str | None,
                  since: str | None, after: tuple[str, int] | None) -> tuple[str, list[Any]]:
    """The WHERE clause of an order listing and its parameters."""
    clauses = [f"account_id IN ({', '.join('?' for _ in account_ids)})"]
    params: list[Any] = list(account_ids)
    if states:
        clauses.append(f"state IN ({', '.join('?' for _ in states)})")
        params += states
    if symbol:
        clauses.append("symbol = ?")
        params.append(symbol)
    if side:
        clauses.append("side = ?")
        params.append(side)
    if since:
        clauses.append("created_at >= ?")
        params.append(since)
    if after:
        clauses.append("(created_at < ? OR (created_at = ? AND seq < ?))")
        params += [after[0], after[0], after[1]]
    return " AND ".join(clauses), params


def _tuples(db: sqlite3.Connection, query: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Rows as plain tuples (the connection's row factory makes a `sqlite3.Row` of each)."""
    cursor = db.cursor()
    cursor.row_factory = None
    return cursor.execute(query, params).fetchall()


def _position(row: sqlite3.Row) -> PositionRow:
    return PositionRow(
        account_id=row["account_id"],
        symbol=row["symbol"],
        qty=row["qty"],
        cost_basis=Decimal(row["cost_basis"]),
        unsettled_qty=row["unsettled_qty"],
        unsettled_day=row["unsettled_day"],
    )
