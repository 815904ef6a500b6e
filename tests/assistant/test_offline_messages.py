"""Every error code the user can meet has its own sentence, and every sentence renders with a realistic
context (the templates run under StrictUndefined: a missing variable fails here, never reaches a user).
"""

from __future__ import annotations

from typing import Any

import pytest

from scripts.messages import has_template, render, render_error
from scripts.models import CLIENT_ERROR_CATALOGUE, ERROR_CATALOGUE
from scripts.orders import cancels_reopen_at

ORDER: dict[str, Any] = {
    "order_id": "ord_accdefault_abc12345", "symbol": "600519", "name": "贵州茅台", "side": "BUY", "type": "LIMIT",
    "qty": 100, "limit_price": "1800.00", "filled_qty": 0, "cancelled_qty": 0, "remaining_qty": 100,
    "avg_fill_price": None, "frozen_cash": "180046.80", "state": "WORKING", "created_at": "2026-11-24T10:31:05+08:00",
}
FILLED = {**ORDER, "state": "FILLED", "filled_qty": 100, "remaining_qty": 0, "avg_fill_price": "1800.00",
          "frozen_cash": "0.00"}

# What each code's `details` look like on the wire, and a figure of them the user must read.
DETAILS: dict[str, tuple[dict[str, Any], str]] = {
    "ORDER_NOT_CANCELLABLE": ({"state": "FILLED"}, "全部成交"),
    "CANCEL_FAILED": ({"state": "FILLED"}, "全部成交"),
    "CANCEL_NOT_ALLOWED_NOW": ({"retry_after": "2026-11-24T09:30:00+08:00"}, "09:30"),
    "INSUFFICIENT_CASH": ({"required": "180046.80", "available": "1000.00"}, "180,046.80"),
    "INSUFFICIENT_POSITION": ({"sellable": 100}, "100"),
    "INVALID_QUANTITY": ({"lot": {"min": 200, "step": 1}}, "200"),
    "PRICE_OUT_OF_LIMIT": ({"limit_down": "1630.80", "limit_up": "1993.20"}, "1,993.20"),
    "RATE_LIMITED": ({"retry_after_seconds": 3}, "3"),
    "VALIDATION_ERROR": ({"errors": [{"loc": ["qty"], "msg": "must be positive"}]}, "没有变化"),
}
CODES = sorted({*ERROR_CATALOGUE, *CLIENT_ERROR_CATALOGUE})


def test_every_error_code_has_its_own_template() -> None:
    missing = [code for code in CODES if not has_template(f"errors/{code}")]
    assert missing == []


@pytest.mark.parametrize("code", CODES)
def test_every_error_code_renders_for_the_user(code: str) -> None:
    status, hint = {**ERROR_CATALOGUE, **CLIENT_ERROR_CATALOGUE}[code]
    details, figure = DETAILS.get(code, ({}, ""))
    text = render_error({"code": code, "message": "m", "recovery_hint": hint, "details": details,
                         "request_id": "req_0123456789abcdef", "http_status": status},
                        order=FILLED if code == "ORDER_NOT_CANCELLABLE" else ORDER, order_id="abc12345")
    assert text
    assert "{{" not in text
    assert "None" not in text
    assert figure in text
    assert any("\u4e00" <= char <= "\u9fff" for char in text)  # Chinese, for a Chinese investor


def test_an_unknown_code_falls_back_on_its_recovery_hint() -> None:
    text = render_error({"code": "SOMETHING_NEW", "recovery_hint": "retry_later",
                         "details": {"retry_after": "2026-11-24T15:00:00+08:00"}})
    assert "15:00" in text


def test_the_cancel_window_question_is_answered_with_the_end_of_the_window() -> None:
    inside = "2026-11-24T14:58:00.000+08:00"
    closing = {"now": inside, "phase": "CLOSING_AUCTION", "accepts_cancels": False}
    assert render("cancel_window", now=inside, retry_after=cancels_reopen_at(closing)).count("15:00") >= 1
    opening = {"now": "2026-11-24T09:23:00.000+08:00", "phase": "OPENING_AUCTION", "accepts_cancels": False}
    assert cancels_reopen_at(opening) == "2026-11-24T09:30:00+08:00"
    outside = "2026-11-24T12:10:00.000+08:00"
    assert cancels_reopen_at({"now": outside, "phase": "LUNCH_BREAK", "accepts_cancels": True}) is None
    assert "12:10" in render("cancel_window", now=outside, retry_after=None)


@pytest.mark.parametrize(("name", "context", "figure"), [
    ("order_list", {"orders": [ORDER], "kind": "open"}, "1. 买入 贵州茅台(600519)"),
    ("order_list", {"orders": [], "kind": "filled"}, "还没有成交"),
    ("order_detail", {"orders": [FILLED], "clue": None}, "已成交 100 股"),
    ("order_detail", {"orders": [ORDER], "clue": None}, "冻结资金 180,046.80 元"),
    ("finished_match", {"finished": [FILLED], "open_orders": [ORDER]}, "已经全部成交"),
    ("nothing_pending", {"confirming": True}, "没有等待您确认的撤单"),
    ("unconfirmed", {"count": 2}, "这 2 笔委托没有撤销"),
    ("ack", {}, "随时告诉我"),
])
def test_the_offline_engines_own_sentences_render(name: str, context: dict[str, Any], figure: str) -> None:
    assert figure in render(name, **context)
