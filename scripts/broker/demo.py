"""Demo mode: a believable account to talk about, and prices on a seeded random walk so orders fill."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta
from decimal import Decimal

from ..models import SimAccount, SimOrder, SimPosition, SimPrice, SimWorld
from . import rules
from . import world as world_loader
from .errors import BrokerError
from .settings import DEFAULT_ACCOUNT, BrokerSettings
from .trading import Trading, instrument

log = logging.getLogger(__name__)

# (symbol, previous close, shares held, average cost): large caps a retail account plausibly holds.
HOLDINGS = [
    ("600519", "1688.00", 200, "1602.35"),
    ("000001", "11.52", 5000, "10.86"),
    ("300750", "268.40", 300, "231.20"),
    ("601318", "52.36", 2000, "48.90"),
    ("600036", "41.85", 3000, "37.12"),
]
# Open orders of different ages, sides and symbols: (symbol, side, qty, limit, minutes ago).
OPEN_ORDERS = [
    ("600519", "BUY", 100, "1675.00", 95),
    ("000001", "SELL", 2000, "11.68", 60),
    ("002594", "BUY", 100, "318.50", 42),
    ("601318", "BUY", 500, "51.80", 25),
    ("300750", "SELL", 100, "272.00", 8),
    ("000001", "BUY", 1000, "11.40", 3),
]
EXTRA_PRICES = {"002594": "321.30"}
DEMO_CASH = "1000000.00"


def seed(trading: Trading, token: str) -> None:
    """Fill a fresh demo database: cash, positions and a few working orders placed over the last hours."""
    now = trading.now()
    world = SimWorld(
        now=now,
        account=SimAccount(cash=Decimal(DEMO_CASH), positions=[
            SimPosition(symbol=symbol, qty=qty, avg_cost=Decimal(cost)) for symbol, _, qty, cost in HOLDINGS]),
        prices={symbol: SimPrice(last=Decimal(close), prev_close=Decimal(close)) for symbol, close, _, _ in HOLDINGS}
        | {symbol: SimPrice(last=Decimal(close)) for symbol, close in EXTRA_PRICES.items()},
        orders=[SimOrder(ref=f"demo{index}", symbol=symbol, side=side, qty=qty, limit_price=Decimal(limit),  # type: ignore[arg-type]
                         at=(now - timedelta(minutes=ago)).isoformat())
                for index, (symbol, side, qty, limit, ago) in enumerate(OPEN_ORDERS)],
    )
    world_loader.load(trading, world, token)


async def random_walk(trading: Trading, settings: BrokerSettings) -> None:
    """Every tick, nudge each traded symbol's price: noise plus a small drift toward its resting orders."""
    rng = random.Random(settings.demo_seed)
    while True:
        await asyncio.sleep(settings.demo_tick_seconds)
        try:
            _step(trading, rng)
        except BrokerError as error:  # a move outside the band is simply skipped
            log.debug("demo price move skipped: %s", error.message)


def _step(trading: Trading, rng: random.Random) -> None:
    with trading.store.transaction() as db:
        symbols = sorted({row.symbol for row in trading.store.open_orders(db)}
                         | {row.symbol for row in trading.store.positions(db, DEFAULT_ACCOUNT)})
        moves = []
        for symbol in symbols:
            last, _ = trading.price(db, symbol)
            limits = [o.limit_price for o in trading.store.open_orders(db, symbol) if o.limit_price is not None]
            target = min(limits, key=lambda p: abs(p - last)) if limits else last
            # Tuned so a resting order 1% away fills in a few minutes: slow enough to cancel it first.
            drift = Decimal("0.0001") * (1 if target > last else -1 if target < last else 0)
            noise = Decimal(str(rng.gauss(0, 0.0008)))
            price = (last * (1 + drift + noise)).quantize(rules.TICK)
            low, high = trading.band(db, instrument(symbol))
            moves.append((symbol, min(max(price, low), high)))
    for symbol, price in moves:
        trading.move_price(symbol, price, None)
