"""The MCP server (`python -m scripts.mcp`, `a-share-orders mcp`): the account's orders, cash, positions and quotes
as MCP tools over stdio, and cancels that the user confirms, not the model.

Built on the official MCP Python SDK 2.x (`MCPServer`). Configured like the Client: TRADING_API_URL,
TRADING_API_TOKEN, TRADING_ACCOUNT_ID; `--read-only` or TRADING_READ_ONLY=1 lists no write tool at all.

**How a cancel is confirmed.** `cancel_orders(order_ids)` never cancels on the model's word. Its two hidden
parameters are filled by the SDK's resolvers (`Resolve(...)`), which serve both protocol generations:

- `read_preview` reads exactly those orders (all must be open) and renders the project's preview (preview.j2:
  names, codes, sides, open quantities, prices, what will be released, 模拟账户 / ⚠ 实盘账户 / 账户类型未知);
- `ask_user` returns `Elicit(preview, CancelConfirmation)`: a form with 确认 / 取消. On a 2025-11-25 connection
  (initialize handshake) the SDK sends it as `elicitation/create` over the back-channel, mid-call; on 2026-07-28,
  which has no back-channel, it answers the call with an `InputRequiredResult` and runs the tool when the client
  retries with the user's answer (the SDK seals the round's state and pins the answer to the exact question: if
  the preview reads differently on the retry, because an order filled meanwhile, the user is asked again).

On 确认 the body reads the orders once more and cancels only if they are exactly as previewed (else: nothing is
cancelled and the user hears what changed), by id (`scripts.orders.cancel_by_ids`), and reports what was released.
Decline, dismiss or 取消: nothing is cancelled.

A client that declares no form elicitation gets the approval page instead (`approvals.py`): a one-time link on
127.0.0.1, offered through URL-mode elicitation where the connection can send it (2025-11-25, client declares
`elicitation.url`) and always in the tool's answer. The page cancels when the user presses 确认撤销; the next
`cancel_orders` call with the same ids reports that outcome.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import anyio.to_thread
from mcp.server.mcpserver import (
    AcceptedElicitation,
    Context,
    Elicit,
    ElicitationResult,
    MCPServer,
    Resolve,
)
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from .._http import READ_ONLY_ENV, ApiError, Client, read_only_from_env
from .._version import __version__
from ..audit import AuditLog
from ..messages import MCP_CONFIRM_DESCRIPTION, MCP_CONFIRM_TITLE, MCP_SERVER_TITLE, MCP_TOOL_TITLES, render
from ..orders import cancels_reopen_at, order_detail, order_summary, preview_totals, price_change
from .approvals import DEFAULT_TTL_SECONDS, Approval, ApprovalDesk
from .previews import (
    PreviewError,
    Problem,
    Shown,
    api_problem,
    cancel_and_report,
    changed_text,
    changes_since,
    expand_ids,
)
from .previews import read_shown as read_shown_now

SERVER_NAME = "a-share-orders"
APPROVAL_TTL_ENV = "TRADING_MCP_APPROVAL_SECONDS"  # the approval page's lifetime (default 300 s)
LIST_LIMIT = 50
LIST_LIMIT_MAX = 200
WRITE_TOOLS = ("preview_cancel", "cancel_orders")  # what read-only mode leaves out of the list

INSTRUCTIONS = """\
Tools for one China A-share brokerage account (orders, cash, positions, quotes, market phase) and for cancelling
orders. Answer the user in Chinese; each tool result's text is already written for them.
To cancel: find the orders (list_orders with status [NEW, WORKING]), show preview_cancel of exactly those ids, then
call cancel_orders with the same ids. cancel_orders asks the user themselves to confirm (a confirmation form in the
client, or a one-time page on this computer); the user's "确认" in the chat does not cancel anything by itself, and
there is no way to cancel without that confirmation. "全部撤掉" means: preview the listed open ids, all of them.
Never tell the user an order was cancelled unless cancel_orders' result says so."""

log = logging.getLogger(__name__)


@dataclass
class Account:
    """What every tool call works with: the Client, the approval desk, the mode."""

    client: Client
    desk: ApprovalDesk
    read_only: bool
    audit: AuditLog  # one session per server process (face "mcp")


class CancelConfirmation(BaseModel):
    """The form the user answers: one choice, no default (a yes is never pre-filled)."""

    choice: Literal["确认", "取消"] = Field(title=MCP_CONFIRM_TITLE, description=MCP_CONFIRM_DESCRIPTION)


@dataclass(frozen=True)
class NotAsked:
    """`ask_user` did not ask: the preview failed, or the client has no form to ask with."""

    reason: Literal["problem", "no_form_elicitation"]


OrderIds = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(
    min_length=1, max_length=50, description="Full or short ids (abc12345) of exactly the orders meant, as listed")]


# --- results --------------------------------------------------------------------------------------------


def result(text: str, structured: dict[str, Any], is_error: bool = False) -> CallToolResult:
    """Chinese text for the user, and the same facts as structured content."""
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured,
                          is_error=is_error)


def problem_result(problem: Problem) -> CallToolResult:
    return result(problem.user_message, {"status": "error", "error": problem.as_dict()}, is_error=True)


def account_of(ctx: Context) -> Account:
    return ctx.request_context.lifespan_context


async def run_read(ctx: Context, read: Any) -> CallToolResult:
    """A read on a worker thread; an ApiError is an error result with the user's sentence, never an exception."""
    client = account_of(ctx).client
    try:
        return await anyio.to_thread.run_sync(lambda: read(client))
    except ApiError as error:
        return problem_result(api_problem(error))
    except PreviewError as error:
        return problem_result(error.problem)


# --- read tools -------------------------------------------------------------------------------------------


async def list_orders(
    ctx: Context,
    status: Annotated[list[Literal["NEW", "WORKING", "FILLED", "CANCELLED", "REJECTED", "EXPIRED"]] | None,
                      Field(description="States to include (NEW, WORKING are the cancellable ones); null: all")] = None,
    symbol: Annotated[str | None, Field(pattern=r"^\d{6}$", description="Six-digit code, e.g. 600519")] = None,
    side: Literal["BUY", "SELL"] | None = None,
    limit: Annotated[int | None, Field(ge=1, le=LIST_LIMIT_MAX, description="At most this many (default 50)")] = None,
    cursor: Annotated[str | None, Field(max_length=200, description="next_cursor of the previous page")] = None,
) -> CallToolResult:
    """The account's orders, newest first. truncated: true means more match: call again with cursor = next_cursor
    before saying anything about all of them."""

    def read(client: Client) -> CallToolResult:
        listing = client.orders(status=status or None, symbol=symbol, side=side, limit=limit or LIST_LIMIT,
                                cursor=cursor)
        orders = [order_summary(order.model_dump(mode="json")) for order in listing.orders]
        text = render("mcp_orders", orders=orders, truncated=listing.next_cursor is not None)
        return result(text, {"orders": orders, "truncated": listing.next_cursor is not None,
                             "next_cursor": listing.next_cursor})

    return await run_read(ctx, read)


async def get_order(ctx: Context, order_id: Annotated[str, Field(min_length=1, max_length=64, description=(
        "A full id (ord_accdefault_abc12345) or the short id people quote (abc12345)"))]) -> CallToolResult:
    """One order by full or short id: its state, fills and state history."""
    def read(client: Client) -> CallToolResult:
        order = client.order(expand_ids(client, [order_id])[0]).model_dump(mode="json")
        return result(render("order_detail", orders=[order], clue=None), order_detail(order))

    return await run_read(ctx, read)


async def get_account(ctx: Context) -> CallToolResult:
    """The account's kind (environment: paper / live), cash (available, frozen, total) and positions."""

    def read(client: Client) -> CallToolResult:
        account = client.account().model_dump(mode="json")
        text = render("mcp_account", **account) + "\n" + render("positions", positions=account["positions"])
        return result(text, account)

    return await run_read(ctx, read)


async def get_positions(ctx: Context) -> CallToolResult:
    """Positions: qty, sellable, locked by sell orders, bought today (T+1)."""

    def read(client: Client) -> CallToolResult:
        positions = client.positions().model_dump(mode="json")
        return result(render("positions", positions=positions["positions"]), positions)

    return await run_read(ctx, read)


async def find_instruments(ctx: Context, query: Annotated[str, Field(min_length=1, max_length=32, description=(
        "A code (600519) or (part of) a name (茅台)"))]) -> CallToolResult:
    """Find A-share stocks by code or name."""

    def read(client: Client) -> CallToolResult:
        found = client.instruments(query).model_dump(mode="json")
        return result(render("mcp_instruments", instruments=found["instruments"], query=query), found)

    return await run_read(ctx, read)


async def get_quote(ctx: Context, symbol: Annotated[str, Field(pattern=r"^\d{6}$", description=(
        "Six-digit code, e.g. 600519"))]) -> CallToolResult:
    """A stock's price now: last, previous close, today's limit up and down."""

    def read(client: Client) -> CallToolResult:
        quote = client.quote(symbol).model_dump(mode="json")
        names = [info.name for info in client.instruments(symbol).instruments if info.symbol == symbol]
        stock = names[0] if names else symbol
        return result(render("quote", quote=quote, stock=stock, change=price_change(quote)), quote)

    return await run_read(ctx, read)


async def market_status(ctx: Context) -> CallToolResult:
    """The market phase now (Beijing time) and whether cancels are accepted (not 9:20-9:30 nor 14:57-15:00)."""

    def read(client: Client) -> CallToolResult:
        market = client.market_status().model_dump(mode="json")
        return result(render("mcp_market", market=market, now=market["now"], retry_after=cancels_reopen_at(market)),
                      market)

    return await run_read(ctx, read)


# --- the write flow -----------------------------------------------------------------------------------------


async def preview_cancel(ctx: Context, order_ids: OrderIds) -> CallToolResult:
    """Show the user exactly these orders and what cancelling them would release. Changes nothing. cancel_orders
    with the same ids then asks the user themselves to confirm."""

    def read(client: Client) -> CallToolResult:
        shown = read_shown_now(client, order_ids, face="mcp")
        shown.record(account_of(ctx).audit, via="preview_cancel")
        return result(shown.text, {"status": "preview", **shown.structured(),
                                   "next": "Show the text to the user. To cancel, call cancel_orders with these "
                                           "order_ids: the user confirms there, not in the chat."})

    return await run_read(ctx, read)


def read_preview(order_ids: list[str], ctx: Context) -> Shown | Problem:
    """Resolver: the preview of exactly these orders as they stand now (re-run on every round)."""
    try:
        return read_shown_now(account_of(ctx).client, order_ids, face="elicitation")
    except PreviewError as error:
        return error.problem


def ask_user(shown: Annotated[Shown | Problem, Resolve(read_preview)],
             ctx: Context) -> Elicit[CancelConfirmation] | NotAsked:
    """Resolver: the user's own answer to that preview, through the client's confirmation form."""
    if isinstance(shown, Problem):
        return NotAsked("problem")
    if not can_elicit_form(ctx):
        return NotAsked("no_form_elicitation")
    return Elicit(shown.text, CancelConfirmation)


async def cancel_orders(
    ctx: Context,
    order_ids: OrderIds,
    shown: Annotated[Shown | Problem, Resolve(read_preview)],
    answer: Annotated[ElicitationResult[CancelConfirmation], Resolve(ask_user)],
) -> CallToolResult:
    """Cancel exactly these orders, after the user themselves confirms the preview of them in the client's
    confirmation form (or, where the client has none, on a one-time approval page on this computer: the result
    then says what the user must do; call again with the same ids afterwards to hear the outcome)."""
    account = account_of(ctx)
    if isinstance(answer, AcceptedElicitation) and isinstance(answer.data, NotAsked) and not can_elicit_form(ctx):
        return await approval_flow(ctx, account, order_ids, shown)
    if isinstance(shown, Problem):
        return problem_result(shown)
    # The form was shown (an answer exists): the audit trail gets the preview and the user's decision.
    shown.record(account.audit, via="elicitation")
    audit = account.audit.bound(environment=shown.environment or "unknown")
    ids = list(shown.order_ids)
    if not isinstance(answer, AcceptedElicitation) or answer.data.choice != "确认":
        action = getattr(answer, "action", "accept")
        audit.record("approval", decision="reject", via="elicitation", order_ids=ids, result="dropped",
                     reason="declined" if action != "cancel" else "dismissed", action=action)
        report_audit_problem(account.audit)
        text = render("mcp_declined", count=len(shown.order_ids), via="form")
        return result(text, {"status": "declined", "order_ids": ids, "action": action})
    audit.record("approval", decision="approve", via="elicitation", order_ids=ids, result="confirmed")
    answered = await anyio.to_thread.run_sync(lambda: cancel_if_unchanged(account.client, shown, audit))
    report_audit_problem(account.audit)
    return answered


def report_audit_problem(audit: AuditLog) -> None:
    """An audit file that cannot be written is said once, on stderr (stdout is the protocol's): the cancel and
    its result go on regardless."""
    problem = audit.take_problem()
    if problem is not None:
        log.warning(render("audit_unwritable", path=problem.path, reason=problem.reason))


def cancel_if_unchanged(client: Client, shown: Shown, audit: AuditLog) -> CallToolResult:
    """The user said 确认 to `shown`: cancel only if the orders are still exactly as shown."""
    ids = list(shown.order_ids)
    try:
        changes = changes_since(shown, client)
    except PreviewError as error:
        audit.record("cancel_refused", reason="changed", order_ids=ids, code=error.problem.code)
        return problem_result(error.problem)
    if changes:
        audit.record("cancel_refused", reason="changed", order_ids=ids, changes=changes)
        return result(changed_text(changes), {"status": "state_changed", "order_ids": ids,
                                              "changes": changes, "cancelled": []}, is_error=True)
    report = cancel_and_report(client, ids, audit)
    text = report.pop("text")
    return result(text, report, is_error=report["status"] == "failed")


async def approval_flow(ctx: Context, account: Account, order_ids: list[str],
                        shown: Shown | Problem) -> CallToolResult:
    """No confirmation form: report a decided approval page, or point at the open one, or file a new one."""
    desk = account.desk
    try:
        ids = await anyio.to_thread.run_sync(lambda: expand_ids(account.client, order_ids))
    except PreviewError as error:
        return problem_result(error.problem)
    earlier = desk.latest_for(ids)
    if earlier is not None and earlier.state in ("done", "declined", "changed"):
        desk.mark_reported(earlier)
        return settled_result(earlier)
    if isinstance(shown, Problem):
        return problem_result(shown)
    if earlier is not None and earlier.state in ("open", "deciding") and earlier.shown.binding() == shown.binding():
        return result(render("mcp_approval_waiting", url=desk.url(earlier), minutes_left=earlier.minutes_left()),
                      {"status": "approval_pending", "approval_url": desk.url(earlier), **shown.structured()})
    preface = ""
    if earlier is not None and earlier.state == "expired":
        desk.mark_reported(earlier)
        preface = render("mcp_approval_expired", minutes=earlier.minutes()) + "\n"
    approval = desk.file(page_preview(shown))
    report_audit_problem(account.audit)
    url = desk.url(approval)
    opened = await offer_url(ctx, url)
    text = preface + approval.shown.text.rsplit("\n", 1)[0] + "\n\n" + render(
        "mcp_approval", url=url, minutes=approval.minutes(), opened=opened)
    return result(text, {"status": "approval_required", "approval_url": url,
                         "expires_in_seconds": int(desk.ttl_seconds), **shown.structured(),
                         "next": "Tell the user to open approval_url and press 确认撤销 or 取消 there; nothing is "
                                 "cancelled before that. Then call cancel_orders again with the same order_ids to "
                                 "report the outcome."})


def settled_result(approval: Approval) -> CallToolResult:
    outcome = approval.outcome or {}
    ids = list(approval.shown.order_ids)
    if approval.state == "declined":
        return result(render("mcp_declined", count=len(ids), via="page"),
                      {"status": "declined", "order_ids": ids, "via": "approval_page"})
    if approval.state == "changed":
        return result(outcome["text"], {"status": "state_changed", "order_ids": ids, "changes": outcome["changes"],
                                        "cancelled": [], "via": "approval_page"}, is_error=True)
    report = {key: value for key, value in outcome.items() if key != "text"}
    return result(render("mcp_page_done", outcome=outcome["text"]), {**report, "via": "approval_page"},
                  is_error=report.get("status") == "failed")


def page_preview(shown: Shown) -> Shown:
    return Shown(shown.order_ids, shown.orders, shown.environment, render(
        "preview", orders=list(shown.orders), environment=shown.environment, face="page",
        **preview_totals(list(shown.orders))))


async def offer_url(ctx: Context, url: str) -> bool:
    """URL-mode elicitation where this connection can send it: the client shows the link to the user itself.
    True when the user accepted to open it; False (the link is in the answer anyway) otherwise."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    if elicitation is None or elicitation.url is None or not ctx.session.can_send_request:
        return False
    try:
        answer = await ctx.elicit_url(render("mcp_open_link"), url, secrets.token_hex(8))
    except Exception:  # the link is in the tool's answer: a client that cannot show it loses nothing
        log.warning("URL-mode elicitation failed; the approval link is in the tool result")
        return False
    return answer.action == "accept"


def can_elicit_form(ctx: Context) -> bool:
    """The SDK's own rule: form support is `elicitation.form`, or a bare `elicitation: {}` (before modes existed)."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


# --- the server ---------------------------------------------------------------------------------------------------

READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True)
TOOLS: list[tuple[Any, ToolAnnotations]] = [
    (list_orders, READ),
    (get_order, READ),
    (get_account, READ),
    (get_positions, READ),
    (find_instruments, READ),
    (get_quote, READ),
    (market_status, READ),
    (preview_cancel, READ),
    (cancel_orders,
     ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True)),
]


def build_server(read_only: bool = False, client: Client | None = None,
                 approval_ttl_seconds: float | None = None, audit_log: AuditLog | None = None) -> MCPServer:
    """The MCP server over one account; read-only lists no write tool at all (not a tool that refuses)."""

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[Account]:
        own = client or Client()
        ttl = approval_ttl_seconds if approval_ttl_seconds is not None else approval_ttl_from_env()
        audit = (audit_log or AuditLog.from_env(face="mcp")).bound(account=own.account_id)
        desk = ApprovalDesk(own, audit, ttl)
        try:
            yield Account(own, desk, read_only, audit)
        finally:
            desk.close()
            if client is None:
                own.close()

    instructions = INSTRUCTIONS
    if read_only:
        # No cancel tool is listed at all; what the model tells a user who asks for a cancel is the project's sentence.
        instructions += ("\nThis server runs READ-ONLY: it has no cancel tools and cannot change the account. If the "
                         "user asks to cancel, tell them:\n" + render("read_only", face="mcp"))
    server = MCPServer(SERVER_NAME, title=MCP_SERVER_TITLE, instructions=instructions, version=__version__,
                       lifespan=lifespan, log_level="WARNING")
    for fn, hints in TOOLS:
        if read_only and fn.__name__ in WRITE_TOOLS:
            continue
        server.add_tool(fn, title=MCP_TOOL_TITLES[fn.__name__], annotations=hints, structured_output=False)
    return server


def approval_ttl_from_env() -> float:
    try:
        value = float(os.environ.get(APPROVAL_TTL_ENV, ""))
    except ValueError:
        return DEFAULT_TTL_SECONDS
    return value if value > 0 else DEFAULT_TTL_SECONDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.mcp",
        description="MCP server (stdio) for an A-share account: orders, cash, positions, quotes, and cancels the "
                    "user confirms (TRADING_API_URL, TRADING_API_TOKEN, TRADING_ACCOUNT_ID).")
    parser.add_argument("--read-only", action="store_true",
                        help=f"list no write tool (no preview_cancel, no cancel_orders); also {READ_ONLY_ENV}=1")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    build_server(read_only=args.read_only or read_only_from_env()).run("stdio")
    return 0


__all__ = ["build_server", "main"]
