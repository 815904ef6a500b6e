"""Every word and sentence a user sees, in Simplified Chinese for a retail investor (委托, 撤单, 冻结资金, 可卖).

A leaf: it imports nothing of the project's. Labels live here as data; sentences live in templates beside it.
"""

from __future__ import annotations

from decimal import Decimal

# The broker's states in the words Chinese trading apps use; WORKING and CANCELLED split on partial fills.
STATE_LABELS = {
    "NEW": "未报",
    "WORKING": "已报",
    "FILLED": "已成",
    "CANCELLED": "已撤",
    "REJECTED": "废单",
    "EXPIRED": "已过期",
}
PARTIAL_STATE_LABELS = {"WORKING": "部成", "CANCELLED": "部撤"}
SIDE_LABELS = {"BUY": "买入", "SELL": "卖出"}


def state_label(state: str, filled_qty: int = 0) -> str:
    """未报/已报/部成/已成/已撤/部撤/废单/已过期."""
    if filled_qty > 0 and state in PARTIAL_STATE_LABELS:
        return PARTIAL_STATE_LABELS[state]
    return STATE_LABELS.get(state, state)


def side_label(side: str) -> str:
    return SIDE_LABELS.get(side, side)


def money(amount: Decimal | str) -> str:
    """`180046.8` → `180,046.80` (the 元 is the sentence's)."""
    return f"{Decimal(amount):,.2f}"
