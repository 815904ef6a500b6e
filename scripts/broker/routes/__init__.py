"""The broker's HTTP routes, one module per resource, and what they share: answers and documented errors."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from ...models import ERROR_CATALOGUE
from ..deps import granted_accounts
from ..trading import Trading

# Every /v1 route can answer these, whatever it does.
COMMON_ERRORS = ("UNAUTHENTICATED", "VALIDATION_ERROR", "RATE_LIMITED", "INTERNAL", "SERVICE_UNAVAILABLE")


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    """Serialize once through the contract model (FastAPI would validate the returned model again)."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


# What a fast path reads from a request's query: the endpoint's query arguments, or None when the query is
# anything but plain (then FastAPI's own validation answers it, exactly as it always has).
QueryReader = Callable[[Request], "Mapping[str, Any] | None"]


def fast_path(read_query: QueryReader | None = None) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Mark a route of a `FastRoute` router for the fast path: its dependencies solved directly, not by FastAPI.

    The endpoint stays the one implementation and its signature what OpenAPI documents; only the way its
    arguments are gathered changes. The endpoint must take its path parameters (plain `str`), `request`,
    `trading: TradingDep` and `granted: GrantedDep`, and, when `read_query` is given, the query arguments that
    `read_query` returns. A request `read_query` cannot read plainly (None) takes FastAPI's own way.
    """
    def mark(endpoint: Callable[..., Response]) -> Callable[..., Response]:
        endpoint.read_query = read_query  # type: ignore[attr-defined]
        return endpoint

    return mark


class FastRoute(APIRoute):
    """An APIRoute whose hot endpoints skip FastAPI's per-request dependency solving.

    For a clean request FastAPI's `solve_dependencies` (inspecting every parameter, validating each through a
    pydantic field) cost as much as the route's own work. A route marked `fast_path` instead resolves its two
    dependencies by calling them (`get_trading`'s one attribute read, and `granted_accounts` itself, so the
    401 is the same and comes first, as in FastAPI), reads its query by hand, and runs the endpoint on the
    threadpool just as FastAPI runs a plain `def` route. Anything unusual falls back to FastAPI's handler, and so
    does every request while the app has `dependency_overrides`.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        full = super().get_route_handler()
        if not hasattr(self.endpoint, "read_query"):
            return full
        endpoint: Callable[..., Response] = self.endpoint
        read_query: QueryReader | None = endpoint.read_query  # type: ignore[attr-defined]

        async def handler(request: Request) -> Response:
            if request.app.dependency_overrides:
                return await full(request)  # overridden dependencies are FastAPI's to solve
            query: Mapping[str, Any] | None = {}
            if read_query is not None:
                query = read_query(request)  # reads only: the token is checked first either way
            elif request.scope.get("query_string"):
                query = None  # a query the route does not declare: FastAPI ignores it, and so does its handler
            if query is None:
                return await full(request)
            trading: Trading = request.app.state.trading
            granted = await granted_accounts(request, trading)
            return await run_in_threadpool(endpoint, **request.path_params, request=request, trading=trading,
                                           granted=granted, **query)

        return handler


# The error body as an OpenAPI response refers to it. Not `"model": ErrorBody`: FastAPI builds a pydantic field
# for every response model of every route (twice: the router's and the app's copy), ~0.5 ms each and some sixty
# of them, all on the broker's start-up; the app's document adds the one schema they share (app._openapi).
ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


def documented_errors(*codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error codes a route can answer, grouped by HTTP status."""
    by_status: dict[int, list[str]] = {}
    for code in (*COMMON_ERRORS, *codes):
        by_status.setdefault(ERROR_CATALOGUE[code][0], []).append(code)
    return {
        status: {"description": "Error: " + ", ".join(sorted(set(names))), "content": ERROR_CONTENT}
        for status, names in sorted(by_status.items())
    }
