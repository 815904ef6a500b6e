"""`--table` output of `scripts.trade`: the same data as its JSON, as tables for people (rich)."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from scripts.messages import money, side_label, state_label

PIPED_WIDTH = 140
ORDER_COLUMNS = [("short_id", "委托号"), ("name", "名称"), ("symbol", "代码"), ("side", "方向"), ("qty", "数量"),
                 ("limit_price", "限价"), ("filled_qty", "已成"), ("remaining_qty", "未成"),
                 ("state_label", "状态"), ("created_at", "时间")]


def _order_rows(orders: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title)
    for _, header in ORDER_COLUMNS:
        table.add_column(header)
    for order in orders:
        cells = {**order, "side": side_label(order["side"]),
                 "state_label": state_label(order["state"], order["filled_qty"]),
                 "short_id": order["order_id"].rsplit("_", 1)[-1], "created_at": order["created_at"][11:19],
                 "limit_price": order["limit_price"] or "市价"}
        table.add_row(*(str(cells[key]) for key, _ in ORDER_COLUMNS))
    return table


def _positions(positions: list[dict[str, Any]]) -> Table:
    table = Table(title="持仓")
    for header in ("名称", "代码", "持仓", "可卖", "卖出冻结", "今日买入", "成本价", "现价", "市值", "浮动盈亏"):
        table.add_column(header)
    for p in positions:
        table.add_row(p["name"], p["symbol"], str(p["qty"]), str(p["qty_sellable"]), str(p["qty_locked_sell"]),
                      str(p["qty_unsettled"]), p["avg_cost"], p["last_price"], money(p["market_value"]),
                      money(p["unrealized_pnl"]))
    return table


def print_table(data: Any) -> None:
    # Piped output has no terminal width to fit: wide enough that names and times stay whole.
    console = Console(width=None if sys.stdout.isatty() else PIPED_WIDTH)
    if not isinstance(data, dict):
        console.print(data)
        return
    if "orders" in data:
        console.print(_order_rows(data["orders"], "委托"))
    elif "order_id" in data:
        console.print(_order_rows([data], "委托"))
    elif "cash" in data:
        cash = data["cash"]
        console.print(f"可用资金 {money(cash['available'])} 元  冻结资金 {money(cash['frozen'])} 元  "
                      f"资金余额 {money(cash['total'])} 元  总资产 {money(data['equity'])} 元")
        console.print(_positions(data["positions"]))
    elif "positions" in data:
        console.print(_positions(data["positions"]))
    elif "preview" in data:
        console.print(_order_rows(data["preview"], "将撤销的委托"))
        if data["not_cancellable"]:
            console.print(_order_rows(data["not_cancellable"], "无法撤销（已结束）"))
    elif "cancelled" in data:
        if data["cancelled"]:
            console.print(_order_rows(data["cancelled"], "已撤销"))
        for failure in data["failed"]:
            console.print(f"[red]{failure['order_id']}: {failure['code']} ({failure['recovery_hint']})[/red] "
                          f"{failure['message']}")
    else:
        console.print_json(data=data)
