"""Build the broker: the store, the clock, the FastAPI app with the contract's error bodies, the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ..models import ErrorBody
from . import demo
from .clock import MarketClock, parse_ts
from .errors import BrokerError
from .gateway import BrokerGateway
from .routes import accounts, market, orders, sim
from .settings import DEFAULT_ACCOUNT, DEFAULT_CASH, BrokerSettings
from .store import Store
from .trading import Trading

log = logging.getLogger(__package__)
MAX_PROBLEMS = 10  # validation problems reported; `more_errors` counts the rest
MAX_DETAIL_CHARS = 100
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def build_trading(settings: BrokerSettings) -> Trading:
    """Open the store and the clock, and make sure `acc_default` answers to the startup token."""
    store = Store(settings.db)
    if store.note:
        log.warning("database %s: %s (every order, fill, cash figure and position kept)", settings.db, store.note)
    pinned = store.get_meta("clock_pinned")
    clock = MarketClock(mode="always_open" if settings.demo else "real")
    if settings.sim and pinned:
        clock.pin(parse_ts(pinned))  # a restarted simulation keeps its simulated time
    trading = Trading(store, clock, settings.fees)
    if settings.demo and not store.has_accounts():
        demo.seed(trading, settings.token)
    if not (settings.sim and store.has_accounts()):
        # A restarted simulation keeps its world's accounts as they were: none added.
        store.ensure_account(DEFAULT_ACCOUNT, Decimal(DEFAULT_CASH), settings.token)
    if store.has_account(DEFAULT_ACCOUNT):
        # The startup token is the authority for acc_default, in simulation too: a restart with a new token
        # revokes the old one.
        store.grant_only(DEFAULT_ACCOUNT, settings.token)
    return trading


def create_app(settings: BrokerSettings, trading: Trading | None = None) -> BrokerGateway:
    trading = trading or build_trading(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        walker = asyncio.create_task(demo.random_walk(trading, settings)) if settings.demo else None
        try:
            yield
        finally:
            if walker is not None:
                walker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await walker
            trading.store.close()  # and with it the file's one-broker lock

    app = FastAPI(
        title="A-share paper broker",
        version="1.0.0",
        description="The trading API (v1) of the a-share-orders skill, served by its paper broker.",
        lifespan=lifespan,
        # A 307 to the path without its trailing slash would be a non-2xx with no contract error body.
        redirect_slashes=False,
    )
    app.state.trading = trading
    app.state.settings = settings
    app.include_router(orders.router)
    app.include_router(accounts.router)
    app.include_router(market.router)
    if settings.sim:
        app.include_router(sim.router)
    _install_error_handlers(app, trading)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return BrokerGateway(app, trading, settings)


def _error_response(request: Request, error: BrokerError) -> Response:
    request.state.log_code = error.code
    request_id = request.scope.get("state", {}).get("request_id")
    return Response(error.body(request_id).model_dump_json(), status_code=error.http_status,
                    media_type="application/json", headers=error.headers)


def _install_error_handlers(app: FastAPI, trading: Trading) -> None:
    @app.exception_handler(BrokerError)
    async def broker_error(request: Request, error: BrokerError) -> Response:
        return _error_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        # The token was checked before the body was read (gateway); the caller's input is never echoed:
        # a few problems, each location part and message cut short, never the offending value.
        found = error.errors()
        problems = [{"loc": [str(part)[:MAX_DETAIL_CHARS] for part in item.get("loc", ())][:8],
                     "msg": str(item.get("msg", ""))[:MAX_DETAIL_CHARS], "type": str(item.get("type", ""))[:64]}
                    for item in found[:MAX_PROBLEMS]]
        first = problems[0] if problems else {"loc": [], "msg": "invalid request"}
        message = f"{'.'.join(first['loc'])}: {first['msg']}" if first["loc"] else first["msg"]
        details: dict[str, Any] = {"errors": problems}
        if len(found) > MAX_PROBLEMS:
            details["more_errors"] = len(found) - MAX_PROBLEMS
        return _error_response(request, BrokerError("VALIDATION_ERROR", message, details))

    @app.exception_handler(sqlite3.OperationalError)
    async def database_busy(request: Request, error: sqlite3.OperationalError) -> Response:
        if "locked" in str(error) or "busy" in str(error):
            # Another connection held the write lock past the busy timeout: nothing was applied.
            return _error_response(request, BrokerError("SERVICE_UNAVAILABLE", "the database is busy; try again",
                                                        headers={"retry-after": "1"}))
        log.exception("database error on %s %s", request.method, request.url.path)
        return _error_response(request, BrokerError("INTERNAL", "unexpected server error"))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 405:
            return _error_response(request, BrokerError("METHOD_NOT_ALLOWED",
                                                        f"{request.method} is not allowed on {request.url.path[:200]}",
                                                        headers={"allow": _allowed_methods(app, request)}))
        return _error_response(request, BrokerError("NOT_FOUND", f"no route {request.url.path[:200]}"))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error_response(request, BrokerError("INTERNAL", "unexpected server error"))


def _allowed_methods(app: FastAPI, request: Request) -> str:
    """RFC 9110's `Allow` for a 405: the methods some route serves at this path (Starlette names one route's)."""
    def served(method: str) -> bool:
        probe = {**request.scope, "method": method}
        return any(route.matches(probe)[0] is Match.FULL for route in app.router.routes)

    return ", ".join(method for method in HTTP_METHODS if served(method))


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {})
    # The one schema every documented error refers to (routes.ERROR_CONTENT), as FastAPI itself renders a
    # response model: from a document of one route that declares it.
    components["schemas"] = dict(sorted({**components.get("schemas", {}), "ErrorBody": _error_body_schema()}.items()))
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "TRADING_API_TOKEN"}}
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            if path.startswith("/v1/"):
                operation["security"] = [{"bearer": []}]
            for response in operation.get("responses", {}).values():
                response.setdefault("headers", {})["X-Request-Id"] = {"required": True, "schema": {"type": "string"}}
    app.openapi_schema = schema
    return schema


def _error_body_schema() -> dict[str, Any]:
    route = APIRoute("/error", lambda: None, responses={400: {"model": ErrorBody}})
    return get_openapi(title="", version="", routes=[route])["components"]["schemas"]["ErrorBody"]
