"""What the Client's tests share beyond fixtures: the cassette world with pinned ids, and polling."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import BASE_WORLD

CASSETTE_DIR = Path(__file__).resolve().parents[1] / "cassettes" / "client"
# Every recorded URL names this origin (`.invalid` never resolves: a replay that missed would fail loudly).
CASSETTE_ORIGIN = "http://paper-broker.invalid"

# The seed's own example id (references/cancel-order.md) for the BUY the tests cancel.
SEED_ORDER_ID = "ord_accdefault_abc12345"
ORDER_B = "ord_accdefault_k3v9x2m1"  # SELL 500 000001 @ 10.80, 200 filled: WORKING
ORDER_C = "ord_accdefault_c0ffee01"  # BUY 100 601318 @ 50.00: FILLED
ORDER_D = "ord_accdefault_d0d0d0d0"  # SELL 100 600519 @ 1750.00: WORKING

# BASE_WORLD with every order id pinned, plus a resting SELL: recorded paths never change between recordings.
CASSETTE_WORLD: dict[str, Any] = copy.deepcopy(BASE_WORLD)
for _order, _pinned in zip(CASSETTE_WORLD["orders"], (SEED_ORDER_ID, ORDER_B, ORDER_C), strict=True):
    _order["id"] = _pinned
CASSETTE_WORLD["orders"].append({"ref": "D", "id": ORDER_D, "symbol": "600519", "side": "SELL", "qty": 100,
                                 "limit_price": "1750.00", "at": "10:25:00"})


def wait_for(condition: Callable[[], Any], seconds: float = 10.0) -> Any:
    """Poll until `condition()` is truthy (a server still finishing an answer it was told to delay)."""
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
    return result
