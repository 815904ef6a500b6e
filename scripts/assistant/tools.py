"""The assistant's tools: what both engines can do to the account, each marked READ or WRITE.

Every WRITE tool passes the confirmation gate before it touches the broker, so a new write tool cannot
forget it. Results are compact JSON-able dicts; a failure is a `ToolResult` with `is_error` carrying the
error's `code`, `recovery_hint` and the user's sentence from the message templates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._http import ApiError, Client
from ..audit import AuditLog, cancel_outcome
from ..messages import render, render_error
from ..models import OPEN_STATES
from ..orders import (
    UnknownOrderIdError,
    cancel_with_messages,
    expand_order_id,
    order_detail,
    order_summary,
    preview_totals,
    would_release,
)
from .gate import ConfirmationGate, DropReason, GateRefusalError

LIST_LIMIT = 50
LIST_LIMIT_MAX = 200  # a day's orders; the Claude engine sends a page this long in shortened form
OPEN_LISTING_LIMIT = 500  # the API's largest page: every open order of a retail account
MAX_ECHO = 120  # the longest piece of a model's input a tool error repeats back
MAX_ERROR_TEXT = 1_000  # the longest string of any error result (a backstop for the cap above)
ID_MAX_LENGTH = 64  # longer than any full id; a longer "id" is refused without being read
WRITE_FLOW_TOOLS = frozenset({"preview_cancel", "cancel_orders"})  # what a read-only tool box leaves out
# An order read from the broker this recently, in this turn and before any cancel of it, is how it stands now
# for a preview or a choice: the offline engine lists and previews within milliseconds, and a second read
# would only repeat the first. (A Claude turn usually waits longer than that on the model between the two.)
FRESH_READ_SECONDS = 1.0

OrderId = Annotated[str, Field(min_length=1, max_length=ID_MAX_LENGTH)]


class Access(Enum):
    READ = "read"
    WRITE = "write"


# --- inputs: the JSON Schema each tool shows the model comes from these ------------------------------


class ToolInput(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListOrdersInput(ToolInput):
    status: list[Literal["NEW", "WORKING", "FILLED", "CANCELLED", "REJECTED", "EXPIRED"]] | None = Field(
        None, description="States to include; null: all")
    symbol: str | None = Field(None, description="Six-digit code such as 600519, or null")
    side: Literal["BUY", "SELL"] | None = Field(None, description="BUY or SELL, or null for both")
    limit: int | None = Field(None, ge=1, le=LIST_LIMIT_MAX,
                              description=f"At most this many, newest first (default {LIST_LIMIT})")
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the previous page, same filters")


class GetOrderInput(ToolInput):
    order_id: OrderId = Field(description="A full id (ord_accdefault_abc12345) or the short id people quote "
                              "(abc12345)")


class NoInput(ToolInput):
    pass


class OrderIdsInput(ToolInput):
    order_ids: list[OrderId] = Field(min_length=1, max_length=50,
                                 description="Full or short ids of exactly the orders meant, as listed to the user")


class QuoteInput(ToolInput):
    symbol: str = Field(pattern=r"^\d{6}$", description="Six-digit code such as 600519")


class FindInstrumentsInput(ToolInput):
    query: str = Field(min_length=1, max_length=32, description="A code (600519, sh600519) or a name (茅台)")


# --- results -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolResult:
    content: dict[str, Any]
    is_error: bool = False


class ToolFailureError(Exception):
    """A tool's failure as the model and the user should hear it."""

    def __init__(self, code: str, recovery_hint: str, user_message: str, details: dict[str, Any] | None = None):
        super().__init__(user_message)
        self.content = {"error": {"code": code, "recovery_hint": recovery_hint, "user_message": user_message,
                                  **({"details": details} if details else {})}}


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input_model: type[ToolInput]
    access: Access
    run: Callable[[ToolInput], dict[str, Any]]

    def definition(self) -> dict[str, Any]:
        """The Messages API tool definition, strict: the schema as the SDK shapes it for strict tool use."""
        return {"name": self.name, "description": self.description, "input_schema": strict_schema(self.input_model),
                "strict": True}


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The input model's JSON Schema in the subset strict tool use accepts (the SDK's own transform: no extra
    fields; bounds the API cannot enforce move into the description). The tool still validates every input
    against the full model, so a bound the model ignores becomes a tool error, never a wrong call."""
    from anthropic import transform_schema  # only the Claude engine needs it; the offline engine starts lighter

    source = model.model_json_schema()
    source.pop("title", None)
    for prop in source.get("properties", {}).values():
        prop.pop("title", None)
        prop.pop("default", None)  # optional fields are nullable; a default says nothing more to the model
    return transform_schema(source)


@dataclass
class TurnRecord:
    """What the tools did during one user turn: the engine's structured state for the Reply."""

    candidates: list[dict[str, Any]] = field(default_factory=list)
    cancel_results: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any], bool]] = field(default_factory=list)


class ToolBox:
    """The tools over one Client and one gate.

    `on_call`, when a host sets it, hears each tool's name just before the tool runs (the chat's status line).

    `read_only`: the box carries no write tool at all (no `cancel_orders`, and no `preview_cancel`, whose only
    purpose is to ask for a cancel's yes): nothing can change the account, whatever an engine asks for.

    `audit` (the Assistant sets it; off by default) hears every cancel the box sends, here rather than after the
    turn: the request is written before it goes out, so a crash mid-cancel still leaves its trace; and every
    cancel the gate refused.
    """

    def __init__(self, client: Client, gate: ConfirmationGate, read_only: bool = False) -> None:
        self.client = client
        self.gate = gate
        self.read_only = read_only
        self.turn = TurnRecord()
        self.on_call: Callable[[str], None] | None = None
        self.tools: dict[str, Tool] = {tool.name: tool for tool in self._define()
                                       if not (read_only and tool.name in WRITE_FLOW_TOOLS)}
        self._seen: dict[str, dict[str, Any]] = {}  # every order a tool has shown, by id: what words may name
        self._environment: tuple[str | None] | None = None  # the account's kind, read once per box
        self._read_now: dict[str, tuple[float, dict[str, Any]]] = {}  # this turn's reads: (when, the order)
        self.audit = AuditLog.off(face="chat")

    def audit_record(self, event: str, **fields: Any) -> None:
        """An audit entry with the account and its kind as the broker has said it ("unknown" before any read of
        the account, or when the broker did not say). Sends nothing: every preview reads the kind, and an entry
        must not add a request (or, with the broker down, a retry budget) to the turn it records."""
        if not self.audit.enabled:
            return
        environment = self._environment[0] if self._environment is not None else None
        self.audit.bound(account=self.client.account_id,
                         environment=environment or "unknown").record(event, **fields)

    def environment(self) -> str | None:
        """The account's kind as the broker says it ("paper", "live"), None when it does not say; read once
        (GET /v1/accounts/{id}) and kept, since an account does not change kind. A failed read is not kept."""
        if self._environment is None:
            self._environment = (self.client.account().environment,)
        return self._environment[0]

    def _remember_environment(self, account: dict[str, Any]) -> None:
        if self._environment is None:
            self._environment = (account.get("environment"),)

    def seen_orders(self) -> list[dict[str, Any]]:
        return list(self._seen.values())

    def _saw(self, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for order in orders:
            self._seen[order["order_id"]] = order
        return orders

    def _define(self) -> list[Tool]:
        return [
            Tool("list_orders", "The account's orders, newest first; status [NEW, WORKING] are the cancellable "
                 "ones. truncated: true means more match: call again with cursor = next_cursor before saying "
                 "anything about all of them.",
                 ListOrdersInput, Access.READ, self._list_orders),
            Tool("get_order", "Get one order by full or short id: its current state, updated_at, fills and "
                 "state_history (when it was placed, reported, filled, cancelled).", GetOrderInput,
                 Access.READ, self._get_order),
            Tool("market_status", "The market phase now (Beijing time) and whether cancels are accepted "
                 "(accepts_cancels is false 9:20-9:30 and 14:57-15:00).", NoInput, Access.READ,
                 self._market_status),
            Tool("get_account", "Cash (available, frozen, total) and positions (qty, sellable, locked by sell "
                 "orders, bought today under T+1).", NoInput, Access.READ, self._get_account),
            Tool("find_instruments", "Find A-share stocks by code or (part of a) name.",
                 FindInstrumentsInput, Access.READ, self._find_instruments),
            Tool("get_quote", "A stock's price now (last, prev_close, limit_up, limit_down).", QuoteInput,
                 Access.READ, self._get_quote),
            Tool("present_candidates", "Show several open orders as a numbered list and ask which one the user "
                 "means, whenever more than one fits.", OrderIdsInput, Access.READ,
                 self._present_candidates),
            Tool("preview_cancel", "Show the user exactly the orders to cancel and what would be released, and "
                 "ask to confirm. Required before cancel_orders, which needs the user's explicit yes next.",
                 OrderIdsInput, Access.READ, self._preview_cancel),
            Tool("cancel_orders", "Cancel exactly the orders of the preview the user just explicitly confirmed "
                 "(same ids). Refused otherwise.", OrderIdsInput, Access.WRITE, self._cancel_orders),
        ]

    def definitions(self) -> list[dict[str, Any]]:
        return [tool.definition() for tool in self.tools.values()]

    def start_turn(self) -> None:
        self.turn = TurnRecord()
        self._read_now.clear()

    def _read(self, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Note whole orders just read from the broker (`FRESH_READ_SECONDS`)."""
        now = time.monotonic()
        for order in orders:
            self._read_now[order["order_id"]] = (now, order)
        return orders

    def _fresh(self, order_id: str) -> dict[str, Any] | None:
        """The order as read in this turn, if that was less than FRESH_READ_SECONDS ago; else None."""
        read = self._read_now.get(order_id)
        if read is None or time.monotonic() - read[0] > FRESH_READ_SECONDS:
            return None
        return read[1]

    def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Run a tool by name; every failure comes back as an error result, never as an exception."""
        tool = self.tools.get(name)
        if tool is None:
            return self._record(name, arguments, ToolResult(
                {"error": {"code": "UNKNOWN_TOOL", "recovery_hint": "fix_input",
                           "user_message": f"no tool named {bounded(name)}"}}, is_error=True))
        if self.on_call is not None:
            self.on_call(name)
        try:
            parsed = tool.input_model.model_validate(arguments)
            if tool.access is Access.WRITE:
                # Short ids are expanded once, here: the tool then runs on exactly the ids the gate authorized.
                ids = [self._expand(order_id) for order_id in getattr(parsed, "order_ids", [])]
                self.gate.authorize(ids)
                parsed = parsed.model_copy(update={"order_ids": ids})
            result = ToolResult(tool.run(parsed))
        except ValidationError as error:
            result = ToolResult({"error": {"code": "VALIDATION_ERROR", "recovery_hint": "fix_input",
                                           "user_message": validation_summary(error)}}, True)
        except GateRefusalError as refusal:
            self.audit_record("cancel_refused", tool=name, reason=refusal.reason,
                              order_ids=list(refusal.requested), previewed=list(refusal.previewed))
            message = render("gate_refused", reason=refusal.reason, requested=list(refusal.requested),
                             previewed=list(refusal.previewed))
            result = ToolResult({"error": {"code": "CONFIRMATION_REQUIRED", "recovery_hint": "fix_input",
                                           "reason": refusal.reason, "user_message": message}}, True)
        except ToolFailureError as failure:
            result = ToolResult(failure.content, True)
        except ApiError as error:
            result = ToolResult(api_error_content(error), True)
        return self._record(name, arguments, result)

    def _record(self, name: str, arguments: dict[str, Any], result: ToolResult) -> ToolResult:
        self.turn.calls.append((name, arguments, not result.is_error))
        if result.is_error:  # whatever an error repeats of the input, it repeats a bounded piece of it
            result = ToolResult(capped(result.content), True)
        return result

    # --- READ --------------------------------------------------------------------------------------

    def _list_orders(self, args: ListOrdersInput) -> dict[str, Any]:
        listing = self.client.orders(status=args.status or None, symbol=args.symbol or None, side=args.side or None,
                                     limit=args.limit or LIST_LIMIT, cursor=args.cursor or None)
        orders = [order_summary(order) for order in self._read([order.model_dump(mode="json")
                                                                 for order in listing.orders])]
        result: dict[str, Any] = {"orders": self._saw(orders)}
        cursor = listing.next_cursor
        # A cut list must say so: "全部撤掉" over the first page alone would preview a subset as if it were all.
        result["truncated"] = cursor is not None
        if cursor is not None:
            result["next_cursor"] = cursor
            result["more"] = "More orders match: call list_orders again with the same filters and this cursor."
        return result

    def _get_order(self, args: GetOrderInput) -> dict[str, Any]:
        [order] = self._read([self.client.order(self._expand(args.order_id)).model_dump(mode="json")])
        self._saw([order_summary(order)])
        return order_detail(order)

    def _market_status(self, _: NoInput) -> dict[str, Any]:
        return self.client.market_status().model_dump(mode="json")

    def _get_account(self, _: NoInput) -> dict[str, Any]:
        account = self.client.account().model_dump(mode="json")
        self._remember_environment(account)
        return account

    def _find_instruments(self, args: FindInstrumentsInput) -> dict[str, Any]:
        return self.client.instruments(args.query).model_dump(mode="json")

    def _get_quote(self, args: QuoteInput) -> dict[str, Any]:
        return self.client.quote(args.symbol).model_dump(mode="json")

    def _open_orders(self, order_ids: list[str]) -> list[dict[str, Any]]:
        """The orders as they stand now; all of them must still be open."""
        ids = list(dict.fromkeys(self._expand(order_id) for order_id in order_ids))
        now = {order_id: self._fresh(order_id) for order_id in ids}
        unread = [order_id for order_id in ids if now[order_id] is None]
        if len(unread) == 1:
            now[unread[0]] = self.client.order(unread[0]).model_dump(mode="json")
        elif unread:
            # One listing of the open orders instead of a GET each ("全部撤掉" previews them all at once).
            listing = self.client.orders(status=sorted(OPEN_STATES), limit=OPEN_LISTING_LIMIT)
            open_now = {order.order_id: order.model_dump(mode="json") for order in listing.orders}
            for order_id in unread:
                now[order_id] = open_now.get(order_id) or self.client.order(order_id).model_dump(mode="json")
        self._read([now[order_id] for order_id in unread])  # a reused read keeps the time it was made
        orders = [now[order_id] for order_id in ids]
        finished = [order for order in orders if order["state"] not in OPEN_STATES]
        if finished:
            first = finished[0]
            raise ToolFailureError("ORDER_NOT_CANCELLABLE", "fix_input", render_error(
                {"code": "ORDER_NOT_CANCELLABLE", "recovery_hint": "fix_input", "details": {"state": first["state"]}},
                order=first), {"order_id": first["order_id"], "state": first["state"]})
        return orders

    def _present_candidates(self, args: OrderIdsInput) -> dict[str, Any]:
        orders = self._saw([order_summary(order) for order in self._open_orders(args.order_ids)])
        self.turn.candidates = orders
        self.gate.choices_shown = len(orders)
        if self.gate.pending is not None:
            self.gate.drop(DropReason.REPLACED)  # a reply asking "which one?" leaves no preview pending
        return {"candidates": orders, "text": render("candidates", orders=orders, clue=None)}

    def _preview_cancel(self, args: OrderIdsInput) -> dict[str, Any]:
        try:
            found = self._open_orders(args.order_ids)
        except ToolFailureError:
            pending = self.gate.pending
            if pending is not None and set(pending.order_ids) & {self._expand(i) for i in args.order_ids}:
                self.gate.drop(DropReason.NOT_OPEN)  # asked again, but an order of it has finished meanwhile
            raise
        orders = self._saw([order_summary(order) for order in found])
        text = render("preview", orders=orders, environment=self.environment(), **preview_totals(orders))
        pending = self.gate.propose([order["order_id"] for order in orders], orders, text)
        return {"preview": [{**order, "would_release": would_release(order)} for order in orders],
                "order_ids": list(pending.order_ids), "text": text,
                "next": "Show the text to the user and wait for their explicit confirmation."}

    # --- WRITE -------------------------------------------------------------------------------------

    def _cancel_orders(self, args: OrderIdsInput) -> dict[str, Any]:
        self._read_now.clear()  # whatever was read before a cancel no longer says how things stand
        ids = list(args.order_ids)  # expanded and authorized by `call`
        self.audit_record("cancel_request", order_ids=ids)
        results = cancel_with_messages(self.client, ids)
        self.audit_record("cancel_outcome", **cancel_outcome(results))
        self._saw([result["order"] for result in results if result["ok"]])
        self.turn.cancel_results = results
        return {"results": results}

    def _expand(self, order_id: str) -> str:
        try:
            return expand_order_id(self.client, order_id)
        except UnknownOrderIdError as error:
            raise ToolFailureError("ORDER_NOT_FOUND", "fix_input",
                                   render_error({"code": "ORDER_NOT_FOUND", "recovery_hint": "fix_input"},
                                                order_id=bounded(error.text))) from None


def api_error_content(error: ApiError, order: dict[str, Any] | None = None) -> dict[str, Any]:
    body = error.as_dict()
    return {"error": {**body, "user_message": render_error(body, order=order)}}


def bounded(value: str, limit: int = MAX_ECHO) -> str:
    """A model-supplied string as an error may repeat it: never longer than `limit`."""
    return value if len(value) <= limit else value[:limit] + "…"


def validation_summary(error: ValidationError) -> str:
    """What was wrong with the input, by field, without repeating the input itself."""
    problems = [f"{'.'.join(str(part) for part in item['loc']) or 'input'}: {item['msg']}"
                for item in error.errors(include_url=False, include_input=False, include_context=False)[:3]]
    return bounded("; ".join(problems), MAX_ERROR_TEXT)


def capped(content: Any) -> Any:
    """Every string in an error result cut to MAX_ERROR_TEXT."""
    if isinstance(content, str):
        return bounded(content, MAX_ERROR_TEXT)
    if isinstance(content, dict):
        return {key: capped(value) for key, value in content.items()}
    if isinstance(content, list):
        return [capped(value) for value in content]
    return content
