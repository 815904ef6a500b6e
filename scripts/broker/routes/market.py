"""/v1/instruments, /v1/quotes, /v1/market: reference data and the market's state; /healthz."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from ...models import Health, Instrument, InstrumentList, MarketStatus, Quote
from .. import views
from ..deps import GrantedDep, TradingDep
from ..reference import search_instruments
from ..trading import instrument
from . import documented_errors, model_response

router = APIRouter(tags=["market"])


@router.get("/v1/instruments", response_model=InstrumentList, responses=documented_errors())
def find_instruments(
    trading: TradingDep,
    granted: GrantedDep,
    q: Annotated[str, Query(min_length=1, max_length=32, description="A code, a name or part of a name")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    found = [views.instrument(trading, info) for info in search_instruments(q, limit)]
    return model_response(InstrumentList(instruments=found))


@router.get("/v1/instruments/{symbol}", response_model=Instrument,
            responses=documented_errors("INSTRUMENT_NOT_FOUND"))
def get_instrument(symbol: str, trading: TradingDep, granted: GrantedDep) -> Response:
    return model_response(views.instrument(trading, instrument(symbol)))


@router.get("/v1/quotes/{symbol}", response_model=Quote, responses=documented_errors("INSTRUMENT_NOT_FOUND"))
def get_quote(symbol: str, trading: TradingDep, granted: GrantedDep) -> Response:
    trading.catch_up()
    return model_response(views.quote(trading, instrument(symbol)))


@router.get("/v1/market/status", response_model=MarketStatus, responses=documented_errors())
def get_market_status(trading: TradingDep, granted: GrantedDep) -> Response:
    trading.catch_up()
    return model_response(views.market_status(trading))


@router.get("/healthz", response_model=Health)
async def healthz() -> Response:
    # On the event loop and touching nothing: it answers at once even while the database is locked.
    return model_response(Health())
