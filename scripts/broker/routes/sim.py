"""/v1/sim: simulation control for tests and the evaluation harness (only with --sim; not in OpenAPI)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response

from ...models import (
    SHANGHAI,
    LoggedRequest,
    RequestLog,
    SimClockRequest,
    SimFault,
    SimPriceMove,
    SimPriceResult,
    SimResetResult,
    SimWorld,
)
from .. import views, world
from ..deps import TradingDep
from ..trading import instrument
from . import model_response

router = APIRouter(prefix="/v1/sim", include_in_schema=False)


@router.post("/reset")
def reset(body: SimWorld, request: Request, trading: TradingDep) -> Response:
    refs = world.reset(trading, body, request.app.state.settings.token)
    return model_response(SimResetResult(orders=refs))


@router.post("/clock")
def move_clock(body: SimClockRequest, trading: TradingDep) -> Response:
    if body.now is not None:
        moment = body.now if body.now.tzinfo else body.now.replace(tzinfo=SHANGHAI)
    else:
        moment = trading.now() + timedelta(seconds=body.advance_seconds or 0)
    trading.move_clock(moment)
    return model_response(views.market_status(trading))


@router.post("/prices")
def move_price(body: SimPriceMove, trading: TradingDep) -> Response:
    filled = trading.move_price(body.symbol, body.price, body.volume)
    return model_response(SimPriceResult(quote=views.quote(trading, instrument(body.symbol)), filled=filled))


@router.post("/faults", status_code=201)
def arm_fault(body: SimFault, trading: TradingDep) -> Response:
    trading.store.add_fault(body.model_dump())
    return Response(body.model_dump_json(), status_code=201, media_type="application/json")


@router.get("/requests")
def request_log(trading: TradingDep) -> Response:
    entries = [LoggedRequest(**entry) for entry in trading.store.request_log()]
    return model_response(RequestLog(requests=entries))
