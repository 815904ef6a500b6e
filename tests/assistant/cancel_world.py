"""The account the Claude engine's tests and bench cancel in: the references' example order among BASE_WORLD's.

BUY 100 贵州茅台 at 1,800.00 freezes 180,000.00 + 45.00 commission + 1.80 transfer fee = 180,046.80
(references/market-rules.md), resting below the last price of 1,805.00; 平安银行's partly filled SELL stays open
beside it, and a FILLED order (ref "C") is history.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.conftest import BASE_WORLD

BUY_MAOTAI = "ord_accdefault_abc12345"
SELL_PINGAN = "ord_accdefault_k3v9x2m1"  # SELL 500 平安银行 @10.80, 200 filled
RELEASED = "180,046.80"  # what cancelling BUY_MAOTAI releases, as the user reads it

WORLD: dict[str, Any] = copy.deepcopy(BASE_WORLD) | {
    "now": "2026-11-24T10:31:05+08:00",
    "prices": {"600519": {"last": "1805.00", "prev_close": "1800.00"}, "000001": {"last": "10.50"}},
}
WORLD["orders"] = [
    {"ref": "A", "id": BUY_MAOTAI, "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1800.00",
     "at": "10:31:05"},
    *[order for order in copy.deepcopy(BASE_WORLD["orders"]) if order["ref"] != "A"],
]
