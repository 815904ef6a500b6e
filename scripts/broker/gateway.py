"""The ASGI app the server runs: the FastAPI app behind request ids, limits, a rate limit and simulated faults.

Before FastAPI sees a request the gateway does the cheap checks that bound its cost (`intake`): the body's
size, media type, encoding and depth, and for `/v1` the bearer token, so an unauthenticated caller gets its
401 without a byte of its body read or parsed. HEAD on a GET route is answered as that GET without a body.

Faults act here because some must act outside FastAPI: `drop_connection` closes the socket with no
answer at all, `error_before_apply` answers before any route runs, `delay_after_apply` holds back an
answer whose change is already committed. In simulation mode every answered request is logged for the
graders (`GET /v1/sim/requests`); `/v1/sim/*` itself is not.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, unquote

from . import intake
from .clock import format_ts
from .errors import BrokerError
from .settings import BrokerSettings
from .trading import Trading

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PRE_APPLY_FAULTS = ("error_before_apply", "drop_connection", "delay_after_apply")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
# Rate-limit buckets kept at most: one per account plus the shared unauthenticated one, so this bounds
# memory even when tokens are many; the least recently used bucket is dropped first.
MAX_BUCKETS = 10_000
UNAUTHENTICATED_BUCKET = "(unauthenticated)"
FAULT_ERROR_CODES = {429: "RATE_LIMITED", 500: "INTERNAL", 503: "SERVICE_UNAVAILABLE"}


def new_request_id() -> str:
    return "req_" + secrets.token_hex(8)


def order_ids_of(method: str, path: str, query: str) -> list[str]:
    """The orders a request names: `/v1/orders/{id}`, or a batch cancel's `order_ids`."""
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[:2] == ["v1", "orders"]:
        return [parts[2]]
    if method == "DELETE" and len(parts) == 4 and parts[:2] == ["v1", "accounts"] and parts[3] == "orders":
        raw = parse_qs(query).get("order_ids", [""])[0]
        return [part.strip() for part in raw.split(",") if part.strip()]
    return []


class RateLimiter:
    """A token bucket per authenticated account set, and one shared by every unauthenticated request.

    Keyed by what the token grants, not by the header's spelling, so case or spacing variants of one token
    share a bucket; at most MAX_BUCKETS are kept.
    """

    def __init__(self, per_second: float, burst: int) -> None:
        self.per_second = per_second
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def retry_after(self, key: str) -> int | None:
        """None when the request may go now; else the whole seconds to wait."""
        now = time.monotonic()
        tokens, stamp = self._buckets.pop(key, (float(self.burst), now))
        if len(self._buckets) >= MAX_BUCKETS:
            del self._buckets[next(iter(self._buckets))]  # dicts keep insertion order: the stalest goes
        tokens = min(float(self.burst), tokens + (now - stamp) * self.per_second)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return None
        self._buckets[key] = (tokens, now)
        return max(1, int((1 - tokens) / self.per_second + 0.999))


class BrokerGateway:
    def __init__(self, app: ASGIApp, trading: Trading, settings: BrokerSettings) -> None:
        self.app = app
        self.trading = trading
        self.settings = settings
        self.limiter = (RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
                        if settings.rate_limit_per_second else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        method: str = scope["method"]
        head = method == "HEAD"
        # The app sees a GET (its routes declare GET only); the server, holding the original scope, sends
        # the headers of that GET and no body.
        scope = {**scope, "method": "GET"} if head else scope
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        path: str = unquote(scope["path"])
        query = scope.get("query_string", b"").decode("latin-1")
        logged = self.settings.sim and not path.startswith("/v1/sim")
        fault = None
        if logged and self.trading.store.has_faults():
            fault = self.trading.store.take_fault(method, path, order_ids_of(method, path, query), PRE_APPLY_FAULTS)
        status_seen: list[int] = []

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
                status_seen.append(message["status"])
                if logged:
                    # Logged once the answer is decided, before a simulated delay: the change is applied.
                    self._log(scope, method, path, query, message["status"], None)
                if fault is not None and fault["kind"] == "delay_after_apply":
                    await asyncio.sleep(fault["seconds"])
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        if fault is not None and fault["kind"] == "drop_connection":
            if logged:
                self._log(scope, method, path, query, 0, None)
            await _drop(send)
            return
        early = self._early_error(scope, path, fault)
        if early is None and scope["method"] in intake.BODY_METHODS:
            body = await intake.read_body(receive)
            early = body if isinstance(body, BrokerError) else intake.json_problem(body)
            receive = intake.replay(body, receive) if isinstance(body, bytes) else receive
        if early is not None:
            state["log_code"] = early.code
            await self._answer_error(early, request_id, send_with_id)
        else:
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                # Starlette re-raises after its handler has answered 500 INTERNAL; swallowing it here keeps
                # the connection alive for the client's next request (the handler already logged it).
                if not status_seen:
                    state["log_code"] = "INTERNAL"
                    await self._answer_error(BrokerError("INTERNAL", "unexpected server error"), request_id,
                                             send_with_id)

    def _early_error(self, scope: Scope, path: str, fault: Any) -> BrokerError | None:
        """The answer a request gets before its body is read, or None when it may go on."""
        if fault is not None and fault["kind"] == "error_before_apply":
            code = FAULT_ERROR_CODES.get(fault["status"], "INTERNAL")
            headers = {"retry-after": str(fault["retry_after"])} if code == "RATE_LIMITED" else {}
            return BrokerError(code, "simulated fault: nothing was applied", {}, headers)
        if path.startswith("/v1/sim/") or path == "/v1/sim":
            if not _on_loopback(scope):
                # Simulation control resets worlds and sets tokens: only ever for a caller on this machine.
                return BrokerError("NOT_FOUND", f"no route {path[:200]}")
            return intake.declared_problem(scope)
        if not path.startswith("/v1/"):
            return intake.declared_problem(scope)
        granted = self.trading.store.accounts_for_token(_bearer_token(scope))
        scope["state"]["granted"] = granted
        if self.limiter is not None:
            key = ",".join(sorted(granted)) if granted else UNAUTHENTICATED_BUCKET
            wait = self.limiter.retry_after(key)
            if wait is not None:
                return BrokerError("RATE_LIMITED", f"too many requests; retry after {wait} s",
                                   {"retry_after_seconds": wait}, {"retry-after": str(wait)})
        if not granted and intake.has_body(scope):
            # A body is never read for a caller without a valid token. (Without a body the routes answer
            # 401 themselves, after 404 and 405 for paths and methods that do not exist.)
            return BrokerError("UNAUTHENTICATED", "missing or unknown bearer token")
        return intake.declared_problem(scope)

    @staticmethod
    async def _answer_error(error: BrokerError, request_id: str, send: Send) -> None:
        body = error.body(request_id).model_dump_json().encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        headers += [(name.encode(), value.encode()) for name, value in error.headers.items()]
        await send({"type": "http.response.start", "status": error.http_status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _log(self, scope: Scope, method: str, path: str, query: str, status: int, code: str | None) -> None:
        state = scope.get("state", {})
        self.trading.store.log_request({
            "ts": format_ts(self.trading.now()), "method": method, "path": path, "query": unquote(query),
            "status": status, "code": code or state.get("log_code"),
            "account_id": state.get("log_account_id"),
            "order_ids": state.get("log_order_ids", order_ids_of(method, path, query)),
        })


def _bearer_token(scope: Scope) -> str:
    """The token of an `Authorization: Bearer <token>` header ("" without one)."""
    scheme, _, token = (intake.header(scope, b"authorization") or b"").decode("latin-1").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _on_loopback(scope: Scope) -> bool:
    """Whether the connection came in on a loopback address of this machine."""
    server = scope.get("server") or ("", 0)
    return str(server[0]) in LOOPBACK_HOSTS or str(server[0]).startswith("127.")


async def _drop(send: Send) -> None:
    """Close the connection without a byte of answer (uvicorn's cycle holds the transport)."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionAbortedError("simulated dropped connection")
    transport.close()
    # Let the server see the connection lost before the app returns, so it sends nothing either.
    for _ in range(3):
        await asyncio.sleep(0)

