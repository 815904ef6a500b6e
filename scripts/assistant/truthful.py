"""Checks of a model's words against what the turn did: what it may not claim, and whom it may not name.

Used by `Assistant` on model-written replies only; the offline engine speaks through templates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .lexicon import fold

# "已撤单", "撤销成功", "已为您撤掉", "cancelled": a cancel reported as done. "未撤销" and "没有撤单" are not.
CANCEL_CLAIM = re.compile(
    r"已(?:经|为您|帮您|替您)?(?:成功)?(?:撤单|撤销|撤掉|撤回|撤了|取消)|(?:撤单|撤销|取消)(?:已)?成功|成功(?:撤单|撤销|撤掉|取消)|"
    r"帮您撤(?:了|掉)|\b(?:has|have|was|were|been|successfully)\s+(?:been\s+)?cancel+ed\b|\bcancel+ed\b(?!\s*\?)")
SENTENCE = re.compile(r"[^\n。！？!?]*[\n。！？!?]*")


def claims_a_cancel(words: str) -> bool:
    return bool(CANCEL_CLAIM.search(fold(words)))


def without_other_orders(words: str, previewed: Iterable[Mapping[str, Any]],
                         known: Iterable[Mapping[str, Any]]) -> str:
    """The words less every sentence that names an order other than the previewed ones (by id, short id,
    code, or a stock name no previewed order has)."""
    previewed = list(previewed)
    allowed_ids = {str(order["order_id"]) for order in previewed}
    allowed_codes = {str(order.get("symbol")) for order in previewed}
    allowed_names = {fold(str(order.get("name") or "")) for order in previewed}
    marks: set[str] = set()
    for order in known:
        order_id = str(order["order_id"])
        if order_id in allowed_ids:
            continue
        marks |= {order_id.lower(), order_id.rsplit("_", 1)[-1].lower()}
        if str(order.get("symbol")) not in allowed_codes:
            marks.add(str(order.get("symbol")))
        name = fold(str(order.get("name") or ""))
        if name and name not in allowed_names:
            marks.add(name)
    kept = []
    for sentence in SENTENCE.findall(words):
        folded = fold(sentence)
        codes = set(re.findall(r"(?<!\d)\d{6}(?!\d)", folded))
        if any(mark and mark in folded for mark in marks) or (codes - allowed_codes):
            continue
        kept.append(sentence)
    return "".join(kept).strip()
