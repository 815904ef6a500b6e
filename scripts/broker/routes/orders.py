"""/v1/orders: place, read and cancel one order."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ...models import CancelledOrder, Order, PlaceOrderRequest
from .. import views
from ..deps import GrantedDep, TradingDep, note_for_log
from . import FastRoute, documented_errors, fast_path, model_response

router = APIRouter(prefix="/v1/orders", tags=["orders"], route_class=FastRoute)


@router.post("", response_model=Order, status_code=201, responses={
    200: {"model": Order, "description": "The order already placed with this client_order_id"},
    **documented_errors("ACCOUNT_NOT_FOUND", "INSTRUMENT_NOT_FOUND", "INVALID_QUANTITY", "PRICE_OUT_OF_LIMIT",
                        "INSUFFICIENT_CASH", "INSUFFICIENT_POSITION", "IDEMPOTENCY_CONFLICT"),
})
def place_order(body: PlaceOrderRequest, request: Request, trading: TradingDep,
                      granted: GrantedDep) -> Response:
    note_for_log(request, account_id=body.account_id)
    row, created = trading.place(granted, body)
    note_for_log(request, order_ids=[row.order_id])
    return model_response(views.order(trading, row), 201 if created else 200)


@router.get("/{order_id}", response_model=Order, responses=documented_errors("ORDER_NOT_FOUND"))
@fast_path()
def get_order(order_id: str, request: Request, trading: TradingDep, granted: GrantedDep) -> Response:
    note_for_log(request, order_ids=[order_id])
    row = trading.get_order(granted, order_id)
    note_for_log(request, account_id=row.account_id)
    return model_response(views.order(trading, row))


@router.delete("/{order_id}", response_model=CancelledOrder, responses=documented_errors(
    "ORDER_NOT_FOUND", "ORDER_NOT_CANCELLABLE", "CANCEL_FAILED", "CANCEL_NOT_ALLOWED_NOW"))
@fast_path()
def cancel_order(order_id: str, request: Request, trading: TradingDep, granted: GrantedDep) -> Response:
    note_for_log(request, order_ids=[order_id])
    outcome = trading.cancel(granted, order_id)
    note_for_log(request, account_id=outcome.order.account_id)
    return model_response(views.cancelled(trading, outcome.order, outcome.released))
