"""The database's schema, its version, and the upgrade of a file an older broker wrote.

The invariants a bug must never break are the database's own (CHECK constraints, foreign keys), so a
wrong write fails loudly instead of corrupting cash or shares. `PRAGMA user_version` names the schema:
0 is the first broker's (no constraints), upgraded in place by copying every row into the new tables.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 2
STATES = "('NEW', 'WORKING', 'FILLED', 'CANCELLED', 'REJECTED', 'EXPIRED')"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    cash_total TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    PRIMARY KEY (token_hash, account_id)
);
CREATE TABLE IF NOT EXISTS prices (
    symbol TEXT PRIMARY KEY,
    last TEXT NOT NULL CHECK (CAST(last AS REAL) > 0),
    prev_close TEXT NOT NULL CHECK (CAST(prev_close AS REAL) > 0)
);
CREATE TABLE IF NOT EXISTS positions (
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    symbol TEXT NOT NULL,
    qty INTEGER NOT NULL CHECK (qty >= 0),
    cost_basis TEXT NOT NULL,
    unsettled_qty INTEGER NOT NULL DEFAULT 0 CHECK (unsettled_qty >= 0),
    unsettled_day TEXT,
    PRIMARY KEY (account_id, symbol)
);
CREATE TABLE IF NOT EXISTS orders (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    client_order_id TEXT,
    request_hash TEXT,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
    type TEXT NOT NULL CHECK (type IN ('LIMIT', 'MARKET')),
    qty INTEGER NOT NULL CHECK (qty > 0),
    limit_price TEXT CHECK (limit_price IS NULL OR CAST(limit_price AS REAL) > 0),
    filled_qty INTEGER NOT NULL DEFAULT 0 CHECK (filled_qty >= 0),
    cancelled_qty INTEGER NOT NULL DEFAULT 0 CHECK (cancelled_qty >= 0),
    filled_value TEXT NOT NULL DEFAULT '0' CHECK (CAST(filled_value AS REAL) >= 0),
    fees_paid TEXT NOT NULL DEFAULT '0' CHECK (CAST(fees_paid AS REAL) >= 0),
    -- Only an open BUY holds cash.
    frozen_cash TEXT NOT NULL DEFAULT '0' CHECK (CAST(frozen_cash AS REAL) >= 0
        AND (CAST(frozen_cash AS REAL) = 0 OR (side = 'BUY' AND state IN ('NEW', 'WORKING')))),
    state TEXT NOT NULL CHECK (state IN {STATES}),
    reject_reason TEXT,
    awaiting_match INTEGER NOT NULL DEFAULT 0 CHECK (awaiting_match IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (account_id, client_order_id),
    -- qty = filled + cancelled + remaining, and a terminal order has nothing remaining.
    CHECK (filled_qty + cancelled_qty <= qty),
    CHECK (state IN ('NEW', 'WORKING') OR filled_qty + cancelled_qty = qty),
    CHECK (state != 'FILLED' OR filled_qty = qty)
);
CREATE INDEX IF NOT EXISTS orders_by_account ON orders (account_id, created_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS orders_open ON orders (state) WHERE state IN ('NEW', 'WORKING');
-- What costs must scale with (frozen cash, locked shares): an account's open orders, never its history.
CREATE INDEX IF NOT EXISTS orders_open_by_account ON orders (account_id, side, symbol)
    WHERE state IN ('NEW', 'WORKING');
CREATE TABLE IF NOT EXISTS fills (
    fill_id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (order_id),
    qty INTEGER NOT NULL CHECK (qty > 0),
    price TEXT NOT NULL CHECK (CAST(price AS REAL) > 0),
    fee TEXT NOT NULL CHECK (CAST(fee AS REAL) >= 0),
    ts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS fills_by_order ON fills (order_id, ts);
CREATE TABLE IF NOT EXISTS state_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL REFERENCES orders (order_id),
    state TEXT NOT NULL CHECK (state IN {STATES}),
    ts TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS history_by_order ON state_history (order_id, id);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    order_id TEXT,
    path TEXT,
    method TEXT,
    seconds REAL NOT NULL DEFAULT 0,
    status INTEGER NOT NULL DEFAULT 500,
    retry_after INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS request_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    status INTEGER NOT NULL,
    code TEXT,
    account_id TEXT,
    order_ids TEXT NOT NULL
);
"""

# Children before parents: the order in which a reset may empty them with foreign keys enforced.
STATE_TABLES = ("request_log", "faults", "fills", "state_history", "orders", "positions", "tokens", "prices",
                "accounts")
TABLES = ("meta", "accounts", "tokens", "prices", "positions", "orders", "fills", "state_history", "faults",
          "request_log")


class SchemaError(Exception):
    """The file's schema cannot be used by this broker (newer, or an upgrade its rows do not pass)."""


def prepare(db: sqlite3.Connection) -> str | None:
    """Bring the file to SCHEMA_VERSION (foreign keys must be off); returns a note when it upgraded one."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise SchemaError(f"it was written by a newer broker (schema {version}, this one reads {SCHEMA_VERSION})")
    existing = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version == SCHEMA_VERSION or not existing & set(TABLES):
        db.executescript(SCHEMA)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return None
    _upgrade(db, existing)
    return f"upgraded from schema {version} to {SCHEMA_VERSION}"


def _upgrade(db: sqlite3.Connection, existing: set[str]) -> None:
    """Rebuild every table with the constraints, copying each row; any row that breaks one stops it all."""
    old = [table for table in TABLES if table in existing]
    db.execute("BEGIN IMMEDIATE")
    try:
        # The old indexes go first: their names are the new ones', and they would follow the renamed tables.
        indexes = db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall()
        for (index,) in indexes:
            db.execute(f'DROP INDEX "{index}"')
        for table in old:
            db.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_old"')
        for statement in SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        for table in old:
            new_columns = [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]
            old_columns = {row[1] for row in db.execute(f'PRAGMA table_info("{table}_old")')}
            columns = ", ".join(f'"{name}"' for name in new_columns if name in old_columns)
            db.execute(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{table}_old"')
            db.execute(f'DROP TABLE "{table}_old"')
        broken = db.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise SchemaError(f"{len(broken)} row(s) refer to rows that do not exist (first in {broken[0][0]})")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except sqlite3.IntegrityError as error:
        db.execute("ROLLBACK")
        raise SchemaError(f"a row breaks a rule of the new schema ({error})") from None
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
