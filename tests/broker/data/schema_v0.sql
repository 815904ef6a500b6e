-- The schema of the first broker (no user_version, no constraints): what an old .broker/demo.db holds.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    cash_total TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (token_hash, account_id)
);
CREATE TABLE IF NOT EXISTS prices (
    symbol TEXT PRIMARY KEY,
    last TEXT NOT NULL,
    prev_close TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS positions (
    account_id TEXT NOT NULL,
    symbol TEXT NOT NULL,
    qty INTEGER NOT NULL,
    cost_basis TEXT NOT NULL,
    unsettled_qty INTEGER NOT NULL DEFAULT 0,
    unsettled_day TEXT,
    PRIMARY KEY (account_id, symbol)
);
CREATE TABLE IF NOT EXISTS orders (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    client_order_id TEXT,
    request_hash TEXT,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    type TEXT NOT NULL,
    qty INTEGER NOT NULL,
    limit_price TEXT,
    filled_qty INTEGER NOT NULL DEFAULT 0,
    cancelled_qty INTEGER NOT NULL DEFAULT 0,
    filled_value TEXT NOT NULL DEFAULT '0',
    fees_paid TEXT NOT NULL DEFAULT '0',
    frozen_cash TEXT NOT NULL DEFAULT '0',
    state TEXT NOT NULL,
    reject_reason TEXT,
    awaiting_match INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (account_id, client_order_id)
);
CREATE INDEX IF NOT EXISTS orders_by_account ON orders (account_id, created_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS orders_open ON orders (state) WHERE state IN ('NEW', 'WORKING');
CREATE TABLE IF NOT EXISTS fills (
    fill_id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    qty INTEGER NOT NULL,
    price TEXT NOT NULL,
    fee TEXT NOT NULL,
    ts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS fills_by_order ON fills (order_id, ts);
CREATE TABLE IF NOT EXISTS state_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL,
    state TEXT NOT NULL,
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
