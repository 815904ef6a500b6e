"""Pydantic models of the trading API wire contract (`docs/api.md`): one source of truth for every field.

The paper broker serializes through these models; the Client parses with them. Response models
tolerate unknown fields (a newer server must not break an older client); request models forbid them
(a misspelt field is a clear error, never silently ignored). This module imports nothing of the project's.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

# China has had no daylight saving since 1991: a fixed offset needs no tz database on the host.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
CENT = Decimal("0.01")

# ASCII digits only, nothing around them: "١٢" and "１２" are digits to `\d`, " 12" is not a price.
_DECIMAL_TEXT = re.compile(r"^-?[0-9]{1,12}(\.[0-9]{1,12})?$")


def to_money(value: Decimal) -> Decimal:
    """Round a computed amount to the contract's two places, half-up (the exchanges' rounding)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _parse_decimal(value: Any) -> Any:
    """Decimals travel as strings; accept JSON numbers too, but never through a binary float's digits."""
    if isinstance(value, bool):
        raise ValueError("expected a decimal string such as \"1800.00\"")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float):
        value = repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value):
        try:
            return Decimal(value)
        except InvalidOperation:
            pass
    raise ValueError("expected a decimal string such as \"1800.00\"")


def _format_two_places(value: Decimal) -> str:
    return f"{to_money(value):.2f}"


def _format_time(value: datetime) -> str:
    return value.astimezone(SHANGHAI).isoformat(timespec="milliseconds")


# Money and prices: Decimal inside, a two-place string on the wire ("180045.00").
Money = Annotated[
    Decimal,
    BeforeValidator(_parse_decimal),
    PlainSerializer(_format_two_places, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["180046.80"]}),
]
Price = Money
# A limit price as a caller sends it: any decimal (the tick is a market rule, checked by the broker).
PriceInput = Annotated[
    Decimal,
    BeforeValidator(_parse_decimal),
    PlainSerializer(lambda d: format(d, "f"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,12}(\.\d{1,12})?$", "examples": ["1800.00"]}),
]
Timestamp = Annotated[
    datetime,
    PlainSerializer(_format_time, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2026-11-24T10:31:05.123+08:00"]}),
]
Quantity = Annotated[int, Field(ge=0)]

Side = Literal["BUY", "SELL"]
OrderType = Literal["LIMIT", "MARKET"]
OrderState = Literal["NEW", "WORKING", "FILLED", "CANCELLED", "REJECTED", "EXPIRED"]
OPEN_STATES: frozenset[str] = frozenset({"NEW", "WORKING"})
ALL_STATES: tuple[str, ...] = ("NEW", "WORKING", "FILLED", "CANCELLED", "REJECTED", "EXPIRED")
Exchange = Literal["SH", "SZ", "BJ"]
Board = Literal["MAIN", "STAR", "CHINEXT", "BSE"]
Phase = Literal["PRE_OPEN", "OPENING_AUCTION", "CONTINUOUS", "LUNCH_BREAK", "CLOSING_AUCTION", "CLOSED"]
RecoveryHint = Literal["fix_input", "retry", "retry_later", "reauthenticate", "contact_support"]

# Every error code of the contract: HTTP status and recovery_hint. The last three never come from a
# server: the Client raises them for what did not reach a server answer.
ERROR_CATALOGUE: dict[str, tuple[int, RecoveryHint]] = {
    "UNAUTHENTICATED": (401, "reauthenticate"),
    "ACCOUNT_NOT_FOUND": (404, "fix_input"),
    "ORDER_NOT_FOUND": (404, "fix_input"),
    "ORDER_NOT_CANCELLABLE": (409, "fix_input"),
    "CANCEL_FAILED": (409, "retry"),
    "CANCEL_NOT_ALLOWED_NOW": (409, "retry_later"),
    "INSTRUMENT_NOT_FOUND": (404, "fix_input"),
    "INVALID_QUANTITY": (422, "fix_input"),
    "PRICE_OUT_OF_LIMIT": (422, "fix_input"),
    "INSUFFICIENT_CASH": (409, "fix_input"),
    "INSUFFICIENT_POSITION": (409, "fix_input"),
    "IDEMPOTENCY_CONFLICT": (409, "fix_input"),
    "VALIDATION_ERROR": (422, "fix_input"),
    "NOT_FOUND": (404, "fix_input"),
    "METHOD_NOT_ALLOWED": (405, "fix_input"),
    "PAYLOAD_TOO_LARGE": (413, "fix_input"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "fix_input"),
    "RATE_LIMITED": (429, "retry"),
    "INTERNAL": (500, "contact_support"),
    "SERVICE_UNAVAILABLE": (503, "retry"),
}
CLIENT_ERROR_CATALOGUE: dict[str, tuple[int, RecoveryHint]] = {
    # http_status 0: no HTTP answer was received at all.
    "NETWORK_ERROR": (0, "retry"),
    "OUTCOME_UNKNOWN": (0, "retry"),
    "BAD_RESPONSE": (0, "contact_support"),
}


class WireModel(BaseModel):
    """A response model: unknown fields from a newer server are kept, never an error."""

    model_config = ConfigDict(extra="allow")


class RequestModel(BaseModel):
    """A request body: unknown fields are a VALIDATION_ERROR, so a misspelt field never goes unnoticed."""

    model_config = ConfigDict(extra="forbid")


# --- errors ----------------------------------------------------------------------------------------


class ErrorBody(WireModel):
    code: str
    message: str
    recovery_hint: RecoveryHint
    details: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = None


# --- orders ----------------------------------------------------------------------------------------


class Fill(WireModel):
    fill_id: str
    qty: int
    price: Price
    fee: Money
    ts: Timestamp


class StateChange(WireModel):
    state: OrderState
    ts: Timestamp
    reason: str | None = None


class Order(WireModel):
    order_id: str
    client_order_id: str | None = None
    account_id: str
    symbol: str
    name: str
    exchange: Exchange
    side: Side
    type: OrderType
    qty: int
    limit_price: Price | None = None
    filled_qty: Quantity
    cancelled_qty: Quantity
    remaining_qty: Quantity
    avg_fill_price: Price | None = None
    frozen_cash: Money
    state: OrderState
    reject_reason: str | None = None
    created_at: Timestamp
    updated_at: Timestamp
    fills: list[Fill] = Field(default_factory=list)
    state_history: list[StateChange] = Field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class Released(WireModel):
    """What a cancel gave back: cash for a BUY, shares for a SELL."""

    cash: Money
    qty: Quantity


class CancelledOrder(Order):
    """The answer to `DELETE /v1/orders/{order_id}`: the final snapshot plus what was released."""

    released: Released


class OrderList(WireModel):
    orders: list[Order]
    next_cursor: str | None = None


class BatchCancelItem(WireModel):
    order_id: str
    ok: bool
    order: CancelledOrder | None = None
    error: ErrorBody | None = None


class BatchCancelResult(WireModel):
    results: list[BatchCancelItem]


class PlaceOrderRequest(RequestModel):
    account_id: str = Field(min_length=1, max_length=64)
    # No control characters: "600519\n" is a typo to refuse, not a code to trim.
    symbol: str = Field(min_length=1, max_length=16, pattern=r"^[^\x00-\x1f\x7f]+$")
    side: Side
    qty: Annotated[int, Field(strict=True, gt=0, le=100_000_000)]
    type: OrderType = "LIMIT"
    limit_price: Annotated[PriceInput, Field(gt=0, lt=10_000_000)] | None = None
    client_order_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _price_matches_type(self) -> PlaceOrderRequest:
        if self.type == "LIMIT" and self.limit_price is None:
            raise ValueError("a LIMIT order needs limit_price")
        if self.type == "MARKET" and self.limit_price is not None:
            raise ValueError("a MARKET order takes no limit_price")
        return self


# --- accounts --------------------------------------------------------------------------------------


class Cash(WireModel):
    available: Money
    frozen: Money
    total: Money


class Position(WireModel):
    symbol: str
    name: str
    qty: Quantity
    qty_sellable: Quantity
    qty_locked_sell: Quantity
    qty_unsettled: Quantity
    avg_cost: Price
    last_price: Price
    market_value: Money
    unrealized_pnl: Money


class Account(WireModel):
    account_id: str
    currency: Literal["CNY"] = "CNY"
    # "paper" or "live"; None when a server leaves it out: the account's kind is then unknown, never paper.
    environment: Literal["paper", "live"] | None = None
    cash: Cash
    positions: list[Position]
    market_value: Money
    equity: Money
    as_of: Timestamp


class PositionList(WireModel):
    positions: list[Position]


# --- instruments and market ------------------------------------------------------------------------


class Lot(WireModel):
    min: int
    step: int


class Instrument(WireModel):
    symbol: str
    name: str
    exchange: Exchange
    board: Board
    lot: Lot
    price_limit_pct: int


class InstrumentList(WireModel):
    instruments: list[Instrument]


class Quote(WireModel):
    symbol: str
    last: Price
    prev_close: Price
    limit_up: Price
    limit_down: Price
    bid: Price
    ask: Price
    ts: Timestamp


class MarketStatus(WireModel):
    now: Timestamp
    trading_day: str = Field(description="The trading day in force (YYYY-MM-DD): today, or the next one.")
    phase: Phase
    accepts_orders: bool = Field(description="Orders placed now go to the exchange at once (else they wait as NEW).")
    accepts_cancels: bool = Field(description="False in the no-cancel windows 9:20-9:30 and 14:57-15:00.")


class Health(WireModel):
    status: Literal["ok"] = "ok"


# --- simulation control (paper broker only; kept out of the OpenAPI document) ----------------------


class SimPosition(RequestModel):
    symbol: str
    qty: Annotated[int, Field(ge=0)]
    avg_cost: PriceInput
    unsettled: Annotated[int, Field(ge=0)] = 0


class SimAccount(RequestModel):
    account_id: str = "acc_default"
    token: str | None = None
    cash: PriceInput = Decimal("0")
    positions: list[SimPosition] = Field(default_factory=list)


class SimPrice(RequestModel):
    last: PriceInput | None = None
    prev_close: PriceInput | None = None


class SimOrder(RequestModel):
    ref: str
    id: str | None = None
    account_id: str = "acc_default"
    symbol: str
    side: Side
    qty: Annotated[int, Field(gt=0)]
    type: OrderType = "LIMIT"
    limit_price: PriceInput | None = None
    at: str
    filled: Annotated[int, Field(ge=0)] = 0
    state: Literal["FILLED", "CANCELLED", "REJECTED", "EXPIRED"] | None = None
    client_order_id: str | None = None
    reject_reason: str | None = None


class SimWorld(RequestModel):
    """The world part of a scenario (`docs/scenarios.md`): the body of `POST /v1/sim/reset`."""

    now: datetime
    account: SimAccount | None = None
    accounts: list[SimAccount] | None = None
    prices: dict[str, SimPrice] = Field(default_factory=dict)
    orders: list[SimOrder] = Field(default_factory=list)


class SimResetResult(WireModel):
    orders: dict[str, str]


class SimClockRequest(RequestModel):
    now: datetime | None = None
    advance_seconds: Annotated[float, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> SimClockRequest:
        if (self.now is None) == (self.advance_seconds is None):
            raise ValueError("give exactly one of now, advance_seconds")
        return self


class SimPriceMove(RequestModel):
    symbol: str
    price: Annotated[PriceInput, Field(gt=0)]
    volume: Annotated[int, Field(gt=0)] | None = None


class SimPriceResult(WireModel):
    quote: Quote
    filled: list[str]  # the orders this move filled (wholly or in part)


FaultKind = Literal["cancel_races_fill", "delay_after_apply", "error_before_apply", "drop_connection"]


class SimFault(RequestModel):
    kind: FaultKind
    order_id: str | None = None
    path: str | None = None
    method: str | None = None
    seconds: Annotated[float, Field(ge=0, le=600)] = 0
    status: Literal[429, 500, 503] = 500
    retry_after: Annotated[int, Field(ge=0, le=3600)] = 1

    @model_validator(mode="after")
    def _one_target(self) -> SimFault:
        if (self.order_id is None) == (self.path is None):
            raise ValueError("give exactly one of order_id, path")
        if self.kind == "cancel_races_fill" and self.order_id is None:
            raise ValueError("cancel_races_fill targets an order_id")
        return self


class LoggedRequest(WireModel):
    seq: int
    ts: Timestamp
    method: str
    path: str
    query: str
    status: int
    code: str | None = None
    account_id: str | None = None
    order_ids: list[str] = Field(default_factory=list)


class RequestLog(WireModel):
    requests: list[LoggedRequest]
