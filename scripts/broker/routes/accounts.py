"""/v1/accounts: cash and positions, the account's orders, and batch cancel."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from ...models import (
    ALL_STATES,
    SHANGHAI,
    Account,
    BatchCancelItem,
    BatchCancelResult,
    ErrorBody,
    OrderList,
    PositionList,
    Side,
)
from .. import order_json, views
from ..clock import format_ts, parse_ts
from ..deps import GrantedDep, TradingDep, note_for_log
from ..errors import BrokerError
from ..reference import normalize_symbol
from ..store import ORDER_RECORD_COLUMNS
from . import FastRoute, documented_errors, fast_path, model_response

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], route_class=FastRoute)
MAX_PAGE = 500
MAX_BATCH = 500
MAX_SEQ = 2**63 - 1  # SQLite's largest integer
# Any time an order can carry (and far enough from year 1 and 9999 that a time zone shift cannot overflow).
EARLIEST_SINCE_YEAR, LATEST_SINCE_YEAR = 1970, 2999



def _require(granted: frozenset[str], account_id: str) -> None:
    if account_id not in granted:
        # An account the token does not grant is answered exactly as one that does not exist.
        raise BrokerError("ACCOUNT_NOT_FOUND", f"account {account_id[:64]} not found")


@router.get("/{account_id}", response_model=Account, responses=documented_errors("ACCOUNT_NOT_FOUND"))
@fast_path()
def get_account(account_id: str, request: Request, trading: TradingDep, granted: GrantedDep) -> Response:
    note_for_log(request, account_id=account_id)
    _require(granted, account_id)
    trading.catch_up()
    return model_response(views.account(trading, account_id))


@router.get("/{account_id}/positions", response_model=PositionList,
            responses=documented_errors("ACCOUNT_NOT_FOUND"))
def get_positions(account_id: str, request: Request, trading: TradingDep, granted: GrantedDep) -> Response:
    note_for_log(request, account_id=account_id)
    _require(granted, account_id)
    trading.catch_up()
    return model_response(PositionList(positions=views.account(trading, account_id).positions))


def _states(status: str | None) -> list[str] | None:
    if status is None:
        return None
    states = [part.strip().upper() for part in status.split(",") if part.strip()]
    unknown = [state for state in states if state not in ALL_STATES]
    if unknown or not states:
        raise BrokerError("VALIDATION_ERROR", f"unknown order state in status: {', '.join(unknown) or '(empty)'}",
                          {"errors": [{"loc": ["query", "status"], "msg": f"states are {', '.join(ALL_STATES)}"}]})
    return states


def _cursor(cursor: str | None) -> tuple[str, int] | None:
    if cursor is None:
        return None
    try:
        created_at, _, seq = base64.urlsafe_b64decode(cursor.encode()).decode().rpartition("|")
        parse_ts(created_at)
        # ASCII digits in SQLite's integer range: anything else is no cursor this server gave.
        if not seq.isascii() or not seq.isdigit() or int(seq) > MAX_SEQ:
            raise ValueError(seq)
        return created_at, int(seq)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BrokerError("VALIDATION_ERROR", "cursor is not one this server gave",
                          {"errors": [{"loc": ["query", "cursor"], "msg": "invalid cursor"}]}) from None


def _since(since: datetime | None) -> str | None:
    """`since` as the stored text; a time outside the years orders can have is a VALIDATION_ERROR, not a 500."""
    if since is None:
        return None
    if not EARLIEST_SINCE_YEAR <= since.year <= LATEST_SINCE_YEAR:
        years = f"{EARLIEST_SINCE_YEAR}..{LATEST_SINCE_YEAR}"
        raise BrokerError("VALIDATION_ERROR", f"since must fall in the years {years}",
                          {"errors": [{"loc": ["query", "since"], "msg": "out of range"}]})
    return format_ts(since if since.tzinfo else since.replace(tzinfo=SHANGHAI))


# The list's query as the Client sends it, read without FastAPI's per-parameter validation (`fast_path`); each
# test is as strict as the declaration below or stricter, so whatever it takes FastAPI would take alike.
PLAIN_LIMIT = re.compile(r"[1-9][0-9]{0,2}")
SYMBOL_MAX, CURSOR_MAX = 16, 200
PLAIN_QUERY: dict[str, Callable[[str], bool]] = {
    "status": lambda value: True,  # the route reads the states itself (`_states`)
    "symbol": lambda value: len(value) <= SYMBOL_MAX,
    "side": lambda value: value in ("BUY", "SELL"),
    "limit": lambda value: PLAIN_LIMIT.fullmatch(value) is not None and int(value) <= MAX_PAGE,
    "cursor": lambda value: len(value) <= CURSOR_MAX,
}


def plain_list_query(request: Request) -> Mapping[str, Any] | None:
    """`status`, `symbol`, `side`, `limit` and `cursor`, each at most once and plainly valid; None for anything
    else (`since`, an undeclared name, a repeat, an empty or doubtful value), which FastAPI then reads."""
    query: dict[str, Any] = {}
    for name, value in request.query_params.multi_items():
        plain = PLAIN_QUERY.get(name)
        if name in query or not value or plain is None or not plain(value):
            return None
        query[name] = int(value) if name == "limit" else value
    return query


@router.get("/{account_id}/orders", response_model=OrderList, responses=documented_errors("ACCOUNT_NOT_FOUND"))
@fast_path(plain_list_query)
def list_orders(
    account_id: str,
    request: Request,
    trading: TradingDep,
    granted: GrantedDep,
    status: Annotated[str | None, Query(description="One state or a comma list, e.g. NEW,WORKING")] = None,
    symbol: Annotated[str | None, Query(max_length=SYMBOL_MAX)] = None,
    side: Side | None = None,
    since: Annotated[datetime | None, Query(description="Orders created at or after this time")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX)] = None,
) -> Response:
    note_for_log(request, account_id=account_id)
    _require(granted, account_id)
    states = _states(status)
    after = _cursor(cursor)
    since_ts = _since(since)
    trading.catch_up()
    with trading.store.reading() as db:
        records = trading.store.list_order_records(db, [account_id], states,
                                                   normalize_symbol(symbol) if symbol else None, side, since_ts,
                                                   after, limit + 1)
        page = records[:limit]
        next_cursor = None
        if len(records) > limit:
            last = dict(zip(ORDER_RECORD_COLUMNS, page[-1], strict=True))
            next_cursor = base64.urlsafe_b64encode(f"{last['created_at']}|{last['seq']}".encode()).decode()
        # The hot path: JSON straight from the rows, equal to OrderList's (tests/broker/test_order_json.py).
        body = order_json.order_list(trading.store, db, page, next_cursor)
    return Response(body, media_type="application/json")


@router.delete("/{account_id}/orders", response_model=BatchCancelResult,
               responses=documented_errors("ACCOUNT_NOT_FOUND"))
def cancel_orders(
    account_id: str,
    request: Request,
    trading: TradingDep,
    granted: GrantedDep,
    order_ids: Annotated[str | None, Query(description="Comma list of the orders to cancel (and only those)")] = None,
    symbol: Annotated[str | None, Query(max_length=SYMBOL_MAX)] = None,
    side: Side | None = None,
) -> Response:
    note_for_log(request, account_id=account_id)
    _require(granted, account_id)
    ids = None
    if order_ids is not None:
        if symbol is not None or side is not None:
            raise BrokerError("VALIDATION_ERROR", "give order_ids or a symbol/side filter, not both",
                              {"errors": [{"loc": ["query", "order_ids"], "msg": "not with symbol or side"}]})
        ids = list(dict.fromkeys(part.strip() for part in order_ids.split(",") if part.strip()))
        if not ids or len(ids) > MAX_BATCH:
            raise BrokerError("VALIDATION_ERROR", f"order_ids takes 1 to {MAX_BATCH} ids",
                              {"errors": [{"loc": ["query", "order_ids"], "msg": "1 to 500 ids"}]})
    items = trading.cancel_many(granted, account_id, ids, normalize_symbol(symbol) if symbol else None, side)
    note_for_log(request, order_ids=[item.order_id for item in items])
    request_id = request.scope.get("state", {}).get("request_id")
    results = []
    for item in items:
        if item.outcome is not None:
            snapshot = views.cancelled(trading, item.outcome.order, item.outcome.released)
            results.append(BatchCancelItem(order_id=item.order_id, ok=True, order=snapshot))
        else:
            failure = item.error or BrokerError("INTERNAL", "the cancel ended with neither an outcome nor an error")
            error: ErrorBody = failure.body(request_id)
            results.append(BatchCancelItem(order_id=item.order_id, ok=False, error=error))
    return model_response(BatchCancelResult(results=results))


