"""Route dependencies, declared once: the trading desk and the accounts the bearer token grants."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .errors import BrokerError
from .trading import Trading


# Both are `async def` and touch no database: FastAPI runs a plain `def` dependency in a worker thread, a
# thread hop that would cost more than they do. The routes that use them are plain `def` (blocking SQLite
# work off the event loop); each lets the market's sessions act (`Trading.catch_up`) before it reads.
async def get_trading(request: Request) -> Trading:
    trading: Trading = request.app.state.trading
    return trading


def accounts_of(request: Request, trading: Trading) -> frozenset[str]:
    """The accounts the request's bearer token grants (none for a missing or unknown token).

    The gateway has already looked them up, before reading the body; the lookup here serves an app
    mounted without it.
    """
    granted = request.scope.get("state", {}).get("granted")
    if granted is not None:
        return frozenset(granted)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return trading.store.accounts_for_token(token.strip()) if scheme.lower() == "bearer" and token else frozenset()


async def granted_accounts(request: Request, trading: Annotated[Trading, Depends(get_trading)]) -> frozenset[str]:
    granted = accounts_of(request, trading)
    if not granted:
        raise BrokerError("UNAUTHENTICATED", "missing or unknown bearer token")
    if len(granted) == 1:
        note_for_log(request, account_id=next(iter(granted)))
    return granted


def note_for_log(request: Request, account_id: str | None = None, order_ids: list[str] | None = None) -> None:
    """What the simulation request log records about this request besides method, path and status."""
    if account_id is not None:
        request.state.log_account_id = account_id
    if order_ids is not None:
        request.state.log_order_ids = order_ids


TradingDep = Annotated[Trading, Depends(get_trading)]
GrantedDep = Annotated[frozenset[str], Depends(granted_accounts)]
