"""`POST /v1/sim/reset`: replace the whole state with a scenario's world (`docs/scenarios.md`, docs/api.md)."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime, time
from decimal import Decimal

from ..models import SHANGHAI, SimAccount, SimOrder, SimWorld, to_money
from . import rules
from .clock import format_ts
from .errors import BrokerError
from .store import PositionRow, token_hash
from .trading import ORDER_ID, Trading, instrument, new_order_id

DEFAULT_ACCOUNT = "acc_default"


def reset(trading: Trading, world: SimWorld, default_token: str) -> dict[str, str]:
    """Pin the clock at the world's `now` and load the world (the simulation's reset)."""
    saved = trading.clock_state()
    try:
        with trading.store.transaction():
            trading.restart_clock_at(_local(world.now))
            return load(trading, world, default_token)
    except BrokerError:
        # A world that does not load leaves the old one in place, its clock included.
        trading.restore_clock_state(saved)
        raise
    except sqlite3.IntegrityError as error:
        # The database's own rules (schema.py) refused a row the checks above let through.
        trading.restore_clock_state(saved)
        raise _invalid(["world"], f"the world breaks a rule of the database: {str(error)[:200]}") from None
    finally:
        trading.store.reload_grants()


def load(trading: Trading, world: SimWorld, default_token: str) -> dict[str, str]:
    """Replace the whole state with a world; returns the real order id of each `ref`.

    Cash and positions are final as given: seeded fills are history and change neither.
    """
    now = _local(world.now)
    accounts = _accounts(world)
    store = trading.store
    refs: dict[str, str] = {}
    with store.transaction() as db:
        store.wipe(db)
        day = rules.trading_day_of(now).isoformat()
        for account in accounts:
            db.execute("INSERT INTO accounts (account_id, cash_total) VALUES (?, ?)",
                       (account.account_id, str(account.cash)))
            token = account.token or (default_token if account.account_id == DEFAULT_ACCOUNT else None)
            if token is None:
                raise BrokerError("VALIDATION_ERROR", f"account {account.account_id} needs a token",
                                  {"errors": [{"loc": ["accounts", account.account_id, "token"], "msg": "required"}]})
            db.execute("INSERT OR IGNORE INTO tokens (token_hash, account_id) VALUES (?, ?)",
                       (token_hash(token), account.account_id))
            for held in account.positions:
                info = instrument(held.symbol)
                store.put_position(db, PositionRow(account.account_id, info.symbol, held.qty,
                                                   held.avg_cost * held.qty, min(held.unsettled, held.qty), day))
        for symbol, price in _prices(world).items():
            store.set_price(db, symbol, *price)
        known = {account.account_id for account in accounts}
        for order in world.orders:
            if order.ref in refs:
                raise _invalid(["orders", order.ref, "ref"], "refs must be unique")
            if order.account_id not in known:
                raise _invalid(["orders", order.ref, "account_id"], f"no account {order.account_id} in the world")
            refs[order.ref] = _seed_order(trading, db, order, now)
        _check_holdings(trading, db, known)
    return refs


def _local(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI) if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def _accounts(world: SimWorld) -> list[SimAccount]:
    accounts = list(world.accounts or [])
    if world.account is not None:
        accounts.insert(0, world.account.model_copy(update={"account_id": DEFAULT_ACCOUNT}))
    if not accounts:
        accounts = [SimAccount(account_id=DEFAULT_ACCOUNT)]
    return accounts


def _prices(world: SimWorld) -> dict[str, tuple[Decimal, Decimal]]:
    """Given prices; a symbol the world holds or trades but does not price starts at a price it implies
    (a position's average cost, else its first order's limit), so its seeded orders stay inside the band."""
    prices: dict[str, tuple[Decimal, Decimal]] = {}
    for symbol, price in world.prices.items():
        code = instrument(symbol).symbol
        last = price.last if price.last is not None else price.prev_close
        prev_close = price.prev_close if price.prev_close is not None else price.last
        if last is None or prev_close is None:
            raise _invalid(["prices", symbol], "give last, prev_close or both")
        prices[code] = (last, prev_close)
    implied: list[tuple[str, Decimal | None]] = []
    for account in ([world.account] if world.account else []) + list(world.accounts or []):
        implied += [(held.symbol, held.avg_cost) for held in account.positions]
    implied += [(order.symbol, order.limit_price) for order in world.orders]
    for symbol, hint in implied:
        code = instrument(symbol).symbol
        if code not in prices and hint is not None and hint > 0:
            prices[code] = (to_money(hint), to_money(hint))
    return prices


def _seed_order(trading: Trading, db: sqlite3.Connection, order: SimOrder, now: datetime) -> str:
    info = instrument(order.symbol)
    loc = ["orders", order.ref]
    if order.type == "LIMIT" and order.limit_price is None:
        raise _invalid([*loc, "limit_price"], "a LIMIT order needs limit_price")
    if order.filled > order.qty:
        raise _invalid([*loc, "filled"], "filled exceeds qty")
    if order.state == "FILLED" and order.filled not in (0, order.qty):
        raise _invalid([*loc, "filled"], "a FILLED order is filled entirely")
    created = _at(order.at, now)
    ts = format_ts(created)
    order_id = order.id or new_order_id(order.account_id)
    if not ORDER_ID.match(order_id):
        raise _invalid([*loc, "id"], "ids look like ord_accdefault_abc12345")
    price = order.limit_price
    if price is None:
        price, _ = trading.price(db, info.symbol)
    filled = order.qty if order.state == "FILLED" else order.filled
    store = trading.store
    fills, value, fees = [], Decimal("0"), Decimal("0")
    if filled:
        fee = trading.fees.fill_fee(order.side, Decimal("0"), price * filled)
        fills.append((filled, price, fee))
        value, fees = price * filled, fee
    is_open = order.state is None
    frozen = Decimal("0")
    if is_open and order.side == "BUY":
        frozen = trading.fees.buy_freeze(price, order.qty) - (value + fees)
    state = order.state or ("WORKING" if trading.clock.exchange_takes_orders(created) else "NEW")
    cancelled = 0 if is_open or state == "FILLED" else order.qty - filled
    store.insert_order(db, {
        "order_id": order_id, "account_id": order.account_id,
        # Seeded orders get a uuid like any other (derived from the id, so a world reloads identically).
        "client_order_id": order.client_order_id or str(uuid.uuid5(uuid.NAMESPACE_URL, order_id)),
        "symbol": info.symbol,
        "side": order.side, "type": order.type, "qty": order.qty, "limit_price": order.limit_price,
        "filled_qty": filled, "cancelled_qty": cancelled, "filled_value": value, "fees_paid": fees,
        "frozen_cash": frozen, "state": state, "reject_reason": order.reject_reason if state == "REJECTED" else None,
        "created_at": ts, "updated_at": ts,
    })
    store.add_history(db, order_id, "NEW", ts, None)
    if state not in {"NEW", "REJECTED"}:
        store.add_history(db, order_id, "WORKING", ts, None)
    for qty, fill_price, fee in fills:
        store.add_fill(db, f"fil_{order_id[-8:]}seed", order_id, qty, fill_price, fee, ts)
    if state not in ("NEW", "WORKING"):
        store.add_history(db, order_id, state, ts, order.reject_reason if state == "REJECTED" else None)
    return order_id


def _check_holdings(trading: Trading, db: sqlite3.Connection, known: set[str]) -> None:
    """The world must be possible: open BUYs fit in the cash, open SELLs in the sellable shares."""
    day = trading.trading_day()
    for account_id in known:
        total = trading.store.cash_total(db, account_id)
        frozen = trading.store.frozen_cash(db, account_id)
        if frozen > total:
            raise _invalid(["account", "cash"],
                           f"open BUY orders of {account_id} freeze {frozen}, more than the cash {total}")
        for order in trading.store.open_orders(db):
            if order.account_id != account_id or order.side != "SELL":
                continue
            position = trading.store.position(db, account_id, order.symbol)
            held = position.qty - position.unsettled_on(day) if position else 0
            if trading.store.locked_for_sell(db, account_id, order.symbol) > held:
                raise _invalid(["orders", order.order_id],
                               f"open SELL orders of {order.symbol} exceed the sellable shares")


def _at(text: str, now: datetime) -> datetime:
    """`HH:MM:SS` on the Beijing date of `now`, or a full RFC 3339 time."""
    try:
        if len(text) <= 8:
            return datetime.combine(now.date(), time.fromisoformat(text), tzinfo=SHANGHAI)
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise _invalid(["orders", "at"], f"{text!r} is neither HH:MM:SS nor a full time") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def _invalid(loc: list[str], msg: str) -> BrokerError:
    return BrokerError("VALIDATION_ERROR", f"invalid world: {'.'.join(loc)}: {msg}",
                       {"errors": [{"loc": loc, "msg": msg}]})
