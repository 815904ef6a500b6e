"""`python3 -m scripts.trade`: the skill's command line for orders, cash, positions and confirmed cancels.

Run it from the skill folder. Data goes to stdout as compact JSON (`--table` for people), diagnostics to
stderr. Exit status: 0 ok; 2 usage (including `cancel` without `--yes`); otherwise by the error's
recovery_hint: 3 fix_input, 4 retry, 5 retry_later, 6 reauthenticate, 7 contact_support — which includes
BAD_RESPONSE, an answer not in the contract's shape (after a cancel: the order is queried and shown); 8
read-only: `cancel` under --read-only or TRADING_READ_ONLY=1, refused before any request is sent; 9 a missing
Python package (`--table` without rich), also before any request.

Every cancel preview (`--dry-run`, or without `--yes`), every `--yes` (an approval), the cancel request and its
outcome are appended to the audit file (`scripts/audit.py`; TRADING_AUDIT_LOG, `off` to turn it off);
`audit [--last N]` shows the last entries. A file that cannot be written is said once on stderr and changes
nothing else: the cancel runs, its result is printed, the exit status is the cancel's.

Every answer is read through the contract's models (an odd shape is BAD_RESPONSE, never a traceback) and
every path is built by the Client from escaped segments, so typed input never reaches another route.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._startup import import_httpx_without_its_cli

if "httpx" not in sys.modules:
    import_httpx_without_its_cli()  # before the Client imports httpx: a command never uses httpx's own tool

from ._http import READ_ONLY_ENV, ApiError, Client, read_only_from_env
from .audit import AUDIT_ENV, AuditLog, cancel_outcome, configured_path, order_facts, read_entries
from .messages import audit_event_label, audit_word, environment_label, money, render, side_label, state_label
from .models import OPEN_STATES
from .orders import (
    UNCLEAR_OUTCOMES,
    UnknownOrderIdError,
    cancel_by_ids,
    expand_order_id,
    order_summary,
    would_release,
)

if TYPE_CHECKING:
    from rich.table import Table

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_READ_ONLY = 8
EXIT_MISSING_DEPENDENCY = 9  # `--table` without rich (the `table` extra): nothing was sent
EXIT_BY_HINT = {"fix_input": 3, "retry": 4, "retry_later": 5, "reauthenticate": 6, "contact_support": 7}
SYMBOL_CODE = re.compile(r"^[0-9]{6}$")
DEFAULT_AUDIT_LAST = 20


class UsageError(Exception):
    """The command line asks for something this command does not do; exit 2."""


class UnknownSymbolError(LookupError):
    """A name where a code is expected that names no instrument, or several; exit 3 (fix_input)."""

    def __init__(self, text: str, matches: list[str]) -> None:
        self.matches = matches
        detail = "names no instrument" if not matches else f"names {len(matches)} instruments ({', '.join(matches)})"
        super().__init__(f"symbol {text!r} {detail}; give the six-digit code")


# --- commands ------------------------------------------------------------------------------------------


def symbol_code(client: Client, text: str) -> str:
    """The six-digit code for what the user typed: a code as is, else the one instrument a name finds."""
    text = text.strip()
    if SYMBOL_CODE.match(text):
        return text
    found = client.instruments(text).instruments
    exact = [info.symbol for info in found if info.name == text]
    matches = exact or [info.symbol for info in found]
    if len(matches) != 1:
        raise UnknownSymbolError(text, matches)
    return matches[0]


def cmd_orders(client: Client, args: argparse.Namespace) -> Any:
    symbol = symbol_code(client, args.symbol) if args.symbol is not None else None
    listing = client.orders(status=args.status, symbol=symbol, side=args.side, since=args.since,
                            limit=args.limit).model_dump(mode="json")
    orders = listing["orders"] if args.full else [order_summary(order) for order in listing["orders"]]
    return {"orders": orders, "next_cursor": listing.get("next_cursor")}


def cmd_order(client: Client, args: argparse.Namespace) -> Any:
    order = client.order(expand_order_id(client, args.order_id)).model_dump(mode="json")
    return order if args.full else order_summary(order)


def cmd_account(client: Client, args: argparse.Namespace) -> Any:
    return client.account().model_dump(mode="json")


def cmd_positions(client: Client, args: argparse.Namespace) -> Any:
    return client.positions().model_dump(mode="json")


def cmd_instruments(client: Client, args: argparse.Namespace) -> Any:
    return client.instruments(args.query).model_dump(mode="json")


def cmd_quote(client: Client, args: argparse.Namespace) -> Any:
    return client.quote(args.symbol).model_dump(mode="json")


def cmd_market(client: Client, args: argparse.Namespace) -> Any:
    return client.market_status().model_dump(mode="json")


def cmd_cancel(client: Client, args: argparse.Namespace) -> Any:
    """Preview (always), then cancel exactly those orders by id, only with --yes."""

    order_ids = list(dict.fromkeys(expand_order_id(client, text) for text in args.order_ids))
    orders = [client.order(order_id).model_dump(mode="json") for order_id in order_ids]
    preview = [{**order_summary(order), "would_release": would_release(order)}
               for order in orders if order["state"] in OPEN_STATES]
    finished = [order_summary(order) for order in orders if order["state"] not in OPEN_STATES]
    log = _account_log(client, args.audit)
    if args.dry_run or not args.yes:
        result = {"preview": preview, "not_cancellable": finished}
        log.record("preview_shown", order_ids=[order["order_id"] for order in preview],
                   orders=[order_facts(order) for order in preview],
                   not_cancellable=[order["order_id"] for order in finished], dry_run=bool(args.dry_run))
        if not args.dry_run:
            _emit(result, args.table)
            raise UsageError("cancel changes the account: show this preview to the user and run again with "
                             "--yes only after they explicitly confirm (or use --dry-run to preview only)")
        return result
    ids = [order["order_id"] for order in orders]
    log.record("approval", decision="approve", via="--yes", order_ids=ids, result="confirmed")
    return cancel_and_report(client, ids, log)


def _account_log(client: Client, log: AuditLog) -> AuditLog:
    """The invocation's log with the account and its kind as the API says it (one GET, only when logging)."""
    if not log.enabled:
        return log
    try:
        environment = client.account().environment
    except ApiError:
        environment = None
    return log.bound(account=client.account_id, environment=environment or "unknown")


def cancel_and_report(client: Client, order_ids: list[str], log: AuditLog | None = None) -> dict[str, Any]:
    """Cancel by id; report what was cancelled and released, and each failure with the order's real state.
    With a `log`, the request is recorded before it is sent and the outcome after."""
    cancelled: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    if log is not None:
        log.record("cancel_request", order_ids=order_ids)
    results = cancel_by_ids(client, order_ids)
    if log is not None:
        log.record("cancel_outcome", **cancel_outcome(results))
    for result in results:
        if result["ok"]:
            cancelled.append({**order_summary(result["order"]), "released": result["order"]["released"]})
            continue
        error = {key: value for key, value in result["error"].items() if key != "request_id"}
        failure = {"order_id": result["order_id"], **error}
        if error["code"] in UNCLEAR_OUTCOMES:
            # Never cancel again blind: say what the order really is now.
            failure["order_now"] = order_summary(result["order_now"]) if result["order_now"] else None
        failed.append(failure)
    return {"cancelled": cancelled, "failed": failed}


# --- `--table` output: the same data as the JSON, for people --------------------------------------

PIPED_WIDTH = 140
ORDER_COLUMNS = [("short_id", "委托号"), ("name", "名称"), ("symbol", "代码"), ("side", "方向"), ("qty", "数量"),
                 ("limit_price", "限价"), ("filled_qty", "已成"), ("remaining_qty", "未成"),
                 ("state_label", "状态"), ("created_at", "时间")]


def _order_rows(orders: list[dict[str, Any]], title: str) -> Table:
    from rich.table import Table

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
    from rich.table import Table

    table = Table(title="持仓")
    for header in ("名称", "代码", "持仓", "可卖", "卖出冻结", "今日买入", "成本价", "现价", "市值", "浮动盈亏"):
        table.add_column(header)
    for p in positions:
        table.add_row(p["name"], p["symbol"], str(p["qty"]), str(p["qty_sellable"]), str(p["qty_locked_sell"]),
                      str(p["qty_unsettled"]), p["avg_cost"], p["last_price"], money(p["market_value"]),
                      money(p["unrealized_pnl"]))
    return table


AUDIT_COLUMNS = ("时间（北京）", "事件", "来源 · 会话", "账户", "委托", "内容")
BEIJING_OFFSET = "+08:00"


def _audit_rows(entries: list[dict[str, Any]], title: str) -> Table:
    from rich.table import Table

    table = Table(title=title)
    for header in AUDIT_COLUMNS:
        table.add_column(header, overflow="fold")
    for entry in entries:
        source = entry.get("face", "") + (f"/{entry['engine']}" if entry.get("engine") else "")
        source += f" · {str(entry.get('session', ''))[-4:]}"  # which entries belong to one chat or command
        account = entry.get("account") or ""
        if entry.get("environment"):
            account += f"（{environment_label(None if entry['environment'] == 'unknown' else entry['environment'])}）"
        ids = entry.get("order_ids") or []
        table.add_row(_beijing(entry.get("ts", "")), audit_event_label(entry.get("event", "")), source, account,
                      " ".join(order_id.rsplit("_", 1)[-1] for order_id in ids), _audit_detail(entry))
    return table


def _beijing(ts: str) -> str:
    """`2026-11-24T02:31:07.123456Z` → `2026-11-24 10:31:07` (the market's clock)."""
    from datetime import datetime, timedelta, timezone

    try:
        moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return ts
    return moment.astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S")


def _audit_detail(entry: dict[str, Any]) -> str:
    """The entry's own facts in one cell: the words and how they were read, the outcome per order, …"""
    event = entry.get("event")
    result = audit_word(entry.get("result", ""))
    if entry.get("reason"):
        result += f"（{audit_word(entry['reason'])}）"
    if event == "answer":
        return f"“{entry.get('words', '')}” → {audit_word(entry.get('kind', ''))}，{result}"
    if event == "approval":
        return f"{audit_word(entry.get('decision', ''))}（{entry.get('via', '')}），{result}"
    if event == "preview_shown":
        lines = [f"{side_label(o.get('side', ''))} {o.get('name') or ''}({o.get('symbol', '')}) "
                 f"{o.get('remaining_qty', o.get('qty', ''))}股" for o in entry.get("orders") or []]
        if entry.get("dry_run"):
            lines.append("--dry-run")
        return "；".join(lines)
    if event == "cancel_outcome":
        parts = []
        for row in entry.get("results") or []:
            short = row["order_id"].rsplit("_", 1)[-1]
            if row.get("ok"):
                released = row.get("released") or {}
                parts.append(f"{short} {state_label(row.get('state') or '')} 释放 {money(released.get('cash', 0))} 元"
                             + (f" {released['qty']} 股" if released.get("qty") else ""))
            else:
                now = f" → 现为{state_label(row['state_now'])}" if row.get("state_now") else ""
                parts.append(f"{short} {row.get('code')}{now}")
        return "；".join(parts) or str(entry.get("error", ""))
    if event == "cancel_refused":
        return audit_word(str(entry.get("reason", "")))
    if event == "audit_gap":
        return f"缺失 {entry.get('lost')} 条（{entry.get('reason', '')}）"
    if event == "cancel_reported":
        return str(entry.get("text", ""))
    return ""


def print_table(data: Any) -> None:
    """`--table`: the same data as the JSON, as tables for people (rich, imported only when asked for)."""
    from rich.console import Console

    # Piped output has no terminal width to fit: wide enough that names and times stay whole.
    console = Console(width=None if sys.stdout.isatty() else PIPED_WIDTH)
    if not isinstance(data, dict):
        console.print(data)
        return
    if "skipped_lines" in data:
        console.print(_audit_rows(data["entries"], f"审计记录 {data['path'] or '（已关闭）'}"))
    elif "orders" in data:
        console.print(_order_rows(data["orders"], "委托"))
    elif "order_id" in data:
        console.print(_order_rows([data], "委托"))
    elif "cash" in data:
        cash = data["cash"]
        console.print(f"账户 {data['account_id']}（{environment_label(data.get('environment'))}）")
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


# --- the command line ----------------------------------------------------------------------------------


COMMANDS: dict[str, Callable[[Client, argparse.Namespace], Any]] = {
    "orders": cmd_orders, "order": cmd_order, "account": cmd_account, "positions": cmd_positions,
    "cancel": cmd_cancel, "instruments": cmd_instruments, "quote": cmd_quote, "market": cmd_market,
}

WRITE_COMMANDS = frozenset({"cancel"})  # what read-only mode refuses (the account changes)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m scripts.trade",
        description="Orders, cash, positions and confirmed cancels on an A-share account (the trading API at "
                    "TRADING_API_URL, token TRADING_API_TOKEN, account TRADING_ACCOUNT_ID).",
        epilog="Exit status: 0 ok, 2 usage (and cancel without --yes), 3 fix_input, 4 retry, 5 retry_later, "
               "6 reauthenticate, 7 contact_support, 8 read-only (cancel under --read-only or TRADING_READ_ONLY=1), "
               "9 a missing Python package (--table needs rich).",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--table", action="store_true", help="a table for people instead of JSON")
    common.add_argument("--read-only", action="store_true",
                        help=f"refuse every write: cancel exits {EXIT_READ_ONLY} (also {READ_ONLY_ENV}=1)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    orders = sub.add_parser("orders", parents=[common], help="the account's orders, newest first")
    orders.add_argument("--status", help="one state or a comma list, e.g. NEW,WORKING (the cancellable ones)")
    orders.add_argument("--symbol", help="six-digit code, e.g. 600519 (a name that finds one instrument works too)")
    orders.add_argument("--side", choices=["BUY", "SELL"])
    orders.add_argument("--since", help="created at or after this RFC 3339 time")
    orders.add_argument("--limit", type=int, help="at most this many (default 50, max 500)")
    orders.add_argument("--full", action="store_true", help="the full order objects (fills, state history)")

    order = sub.add_parser("order", parents=[common], help="one order, by full or short id")
    order.add_argument("order_id", help="ord_accdefault_abc12345, ord_abc12345 or abc12345")
    order.add_argument("--full", action="store_true", help="the full order object (fills, state history)")

    sub.add_parser("account", parents=[common], help="cash (available, frozen, total) and positions")
    sub.add_parser("positions", parents=[common], help="positions (qty, sellable, locked, unsettled)")

    cancel = sub.add_parser("cancel", parents=[common], help="cancel orders by id, after explicit confirmation")
    cancel.add_argument("order_ids", nargs="+", metavar="ORDER_ID", help="full or short ids")
    cancel.add_argument("--yes", action="store_true", help="the user explicitly confirmed this exact cancel")
    cancel.add_argument("--dry-run", action="store_true", help="only show what would be cancelled and released")

    instruments = sub.add_parser("instruments", parents=[common], help="find instruments by code or name")
    instruments.add_argument("query", help="e.g. 茅台, 600519, 万科A")
    quote = sub.add_parser("quote", parents=[common], help="last price and today's band")
    quote.add_argument("symbol")
    sub.add_parser("market", parents=[common], help="market phase: can orders be placed or cancelled now?")
    audit = sub.add_parser("audit", parents=[common],
                           help=f"the last entries of the audit file (previews, answers, cancels; {AUDIT_ENV})")
    audit.add_argument("--last", type=int, default=DEFAULT_AUDIT_LAST, metavar="N",
                       help=f"this many entries, oldest first (default {DEFAULT_AUDIT_LAST})")
    return parser


def cmd_audit(args: argparse.Namespace) -> dict[str, Any]:
    """The audit file's last entries; its unreadable lines (a crash's torn last line) are skipped and said."""
    path = configured_path()
    if path is None:
        print(render("audit_off"), file=sys.stderr)
        return {"path": None, "entries": [], "skipped_lines": []}
    read = read_entries(path, last=max(args.last, 0))
    if read.skipped:
        print(render("audit_skipped", path=str(path), lines=read.skipped), file=sys.stderr)
    return {"path": str(path), "entries": read.entries, "skipped_lines": read.skipped}


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # a finder that refuses it
        return False


def _emit(data: Any, table: bool) -> None:
    if table:
        print_table(data)
    else:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.table and not _importable("rich"):
        # Checked before any request: a cancel must not go out and then fail to print.
        install = "pip install 'a-share-orders[table]'"
        _emit({"error": {"code": "DEPENDENCY_MISSING", "recovery_hint": "contact_support",
                         "message": render("table_needs_rich", install=install),
                         "details": {"missing": ["rich"], "install": install}}}, False)
        print(f"--table needs rich: {install} (or leave out --table for JSON)", file=sys.stderr)
        return EXIT_MISSING_DEPENDENCY
    if args.command == "audit":  # the local file only: no Client, no token needed
        _emit(cmd_audit(args), args.table)
        return EXIT_OK
    args.audit = AuditLog.from_env(face="cli")  # one session per invocation; only `cancel` records
    try:
        return _run(args)
    finally:
        problem = args.audit.take_problem()
        if problem is not None:
            print(render("audit_unwritable", path=problem.path, reason=problem.reason), file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    if args.command in WRITE_COMMANDS and (args.read_only or read_only_from_env()):
        # Refused before a Client exists: nothing is sent, so nothing can be cancelled.
        args.audit.record("cancel_refused", reason="read_only", order_ids=list(args.order_ids))
        sentence = render("read_only", face="cli")
        _emit({"error": {"code": "READ_ONLY", "message": sentence}}, False)
        print(sentence, file=sys.stderr)
        return EXIT_READ_ONLY
    try:
        with Client() as client:
            result = COMMANDS[args.command](client, args)
    except UsageError as error:
        print(f"refused: {error}", file=sys.stderr)
        return EXIT_USAGE
    except UnknownSymbolError as error:
        _emit({"error": {"code": "INSTRUMENT_NOT_FOUND", "recovery_hint": "fix_input", "message": str(error),
                         "details": {"matches": error.matches}}}, False)
        print(str(error), file=sys.stderr)
        return EXIT_BY_HINT["fix_input"]
    except UnknownOrderIdError as error:
        _emit({"error": {"code": "ORDER_NOT_FOUND", "recovery_hint": "fix_input", "message": str(error),
                         "details": {"matches": error.matches}}}, False)
        print(str(error), file=sys.stderr)
        return EXIT_BY_HINT["fix_input"]
    except ApiError as error:
        _emit({"error": error.as_dict()}, False)
        print(str(error), file=sys.stderr)
        return EXIT_BY_HINT.get(error.recovery_hint, 1)
    _emit(result, args.table)
    failed = result.get("failed") if isinstance(result, dict) else None
    if failed:
        return EXIT_BY_HINT.get(failed[0]["recovery_hint"], 1)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

