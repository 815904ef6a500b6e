"""Every word and sentence a user sees, in Simplified Chinese for a retail investor (委托, 撤单, 冻结资金, 可卖).

Sentences are jinja2 templates beside this file: one per error code (`errors/CODE.j2`), a fallback per
recovery_hint (`hints/HINT.j2`), and one per reply the assistant gives (`preview.j2`, `cancelled.j2`, …).
A leaf: it imports nothing of the project's.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parent

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
# What "已经…" says of a finished order: "已经全部成交", "已经撤销", …
STATE_PHRASES = {
    "NEW": "提交但未报",
    "WORKING": "报到交易所",
    "FILLED": "全部成交",
    "CANCELLED": "撤销",
    "REJECTED": "被拒绝（废单）",
    "EXPIRED": "过期失效",
}
# The account's kind, from the `environment` field of GET /v1/accounts/{id}: never assumed. None: the server
# did not say, and the user is told so.
ENVIRONMENT_LABELS = {"paper": "模拟账户", "live": "实盘账户"}
UNKNOWN_ENVIRONMENT = "账户类型未知"


# What an MCP client shows its user of the MCP server (scripts/mcp/server.py): its name, its tools' titles, and the
# confirmation form's one question.
MCP_SERVER_TITLE = "A股委托助手"
MCP_TOOL_TITLES = {
    "list_orders": "委托列表",
    "get_order": "查询委托",
    "get_account": "资金与持仓",
    "get_positions": "持仓",
    "find_instruments": "查找股票",
    "get_quote": "行情",
    "market_status": "交易时段",
    "preview_cancel": "撤单预览",
    "cancel_orders": "撤单（需本人确认）",
}
MCP_CONFIRM_TITLE = "是否撤销以上委托"
MCP_CONFIRM_DESCRIPTION = "选择“确认”撤销以上委托；选择“取消”则不撤单"


# The audit file's events (scripts/audit.py) as `trade audit --table` names them.
AUDIT_EVENT_LABELS = {
    "preview_shown": "显示撤单预览",
    "answer": "用户回复",
    "approval": "批准/拒绝",
    "cancel_request": "发送撤单",
    "cancel_outcome": "撤单结果",
    "cancel_refused": "撤单被拦下",
    "cancel_reported": "告知结果",
    "audit_gap": "记录缺失",
}


# The values inside an audit entry (how an answer was read, what became of the preview, why a cancel was
# refused) as `trade audit --table` shows them; the JSON keeps the codes.
AUDIT_WORDS = {
    "yes": "明确确认", "no": "否定", "question": "提问", "weak": "含糊", "mismatch": "与预览不符", "other": "其他话题",
    "confirmed": "已确认", "asked_again": "再问一次", "dropped": "预览作废", "nothing_pending": "没有待确认的撤单",
    "approve": "批准", "reject": "拒绝",
    "declined": "用户拒绝", "unconfirmed": "两次未明确确认", "new_request": "新的请求", "expired": "超时",
    "not_open": "委托已结束", "turn_failed": "回复失败", "replaced": "被新预览取代",
    "no_preview": "没有预览", "stale_preview": "预览尚未给用户看", "not_confirmed": "用户未确认",
    "other_ids": "与预览的委托不同", "second_preview": "同一轮第二个预览", "read_only": "只读模式",
}


def audit_event_label(event: str) -> str:
    return AUDIT_EVENT_LABELS.get(event, event)


def audit_word(value: str) -> str:
    return AUDIT_WORDS.get(value, value)


def environment_label(environment: str | None) -> str:
    """模拟账户 / 实盘账户 / 账户类型未知."""
    return ENVIRONMENT_LABELS.get(environment or "", UNKNOWN_ENVIRONMENT)


def state_label(state: str, filled_qty: int = 0) -> str:
    """未报/已报/部成/已成/已撤/部撤/废单/已过期."""
    if filled_qty > 0 and state in PARTIAL_STATE_LABELS:
        return PARTIAL_STATE_LABELS[state]
    return STATE_LABELS.get(state, state)


def state_phrase(state: str, filled_qty: int = 0) -> str:
    """`已经{{ phrase }}`: 全部成交, 撤销, 撤销（已部分成交）, 被拒绝（废单）, 过期失效."""
    phrase = STATE_PHRASES.get(state, state)
    return f"{phrase}（已部分成交）" if filled_qty and state in ("CANCELLED", "EXPIRED") else phrase


def side_label(side: str) -> str:
    return SIDE_LABELS.get(side, side)


def money(amount: Decimal | str | int) -> str:
    """`180046.8` → `180,046.80` (the 元 is the sentence's)."""
    return f"{Decimal(str(amount)):,.2f}"


def _order_state(order: Any) -> str:
    return state_label(_field(order, "state"), _field(order, "filled_qty") or 0)


def _field(item: Any, name: str) -> Any:
    return item[name] if isinstance(item, dict) else getattr(item, name)


def _clock(timestamp: str) -> str:
    """`2026-11-24T09:30:00.000+08:00` → `09:30` (Beijing time, as the broker gives it)."""
    return str(timestamp)[11:16]


def _short_id(order_id: str) -> str:
    return order_id.rsplit("_", 1)[-1]


@cache
def environment() -> jinja2.Environment:
    """One environment for the package: a missing variable is an error, never an empty string to a user."""
    import jinja2  # lazily: the skill's command line uses the labels above and starts cold every time

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text for a chat, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(money=money, side=side_label, state=_order_state, state_word=state_label,
                       state_phrase=state_phrase, clock=_clock, short_id=_short_id,
                       environment=environment_label)
    return env


# What most first replies render (counted over the first messages of every suite in evals/): compiled by
# `prepare` while a chat waits for its broker, so the first answer does not wait for Jinja.
FIRST_REPLY_TEMPLATES = ("_macros", "preview", "no_candidates", "candidates", "order_list", "order_detail",
                         "count_mismatch", "unsupported", "account", "positions", "quote")


def prepare() -> None:
    """Import Jinja and compile the templates most first replies use (the rest compile on first use)."""
    env = environment()
    for name in FIRST_REPLY_TEMPLATES:
        env.get_template(f"{name}.j2")


def render(name: str, **context: Any) -> str:
    """Render `name.j2` (e.g. `preview`, `errors/ORDER_NOT_FOUND`) with its context, stripped."""
    return environment().get_template(f"{name}.j2").render(**context).strip()


def has_template(name: str) -> bool:
    return (TEMPLATE_DIR / f"{name}.j2").is_file()


def render_error(error: dict[str, Any], **context: Any) -> str:
    """The user's sentence for an error: its code's template, else its recovery_hint's."""
    code = error.get("code", "")
    name = f"errors/{code}" if has_template(f"errors/{code}") else f"hints/{error.get('recovery_hint', 'retry')}"
    full = {"code": code, "message": "", "recovery_hint": "retry", "details": {}, "request_id": None, **error}
    context.setdefault("order", None)
    context.setdefault("order_id", None)
    return render(name, error=full, **context)
