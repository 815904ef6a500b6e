"""The trading API client: the only code in the skill that speaks HTTP to a broker (`docs/api.md`).

    client = Client()                      # TRADING_API_URL, TRADING_API_TOKEN, TRADING_ACCOUNT_ID
    client.get / post / delete (path)      # -> the decoded JSON body (a dict), as the references show it
    client.orders / order / cancel / ...   # -> the wire models of `scripts.models`

Every failure reaches the caller as one exception, translated at one boundary (`Client._interpret`):

    ApiError(code, http_status, recovery_hint, message, details, request_id)
      |   str(error) reads "CODE (http_status, recovery_hint): message"
      |
      +-- a server's contract error: its JSON body names code and hint (ORDER_NOT_FOUND 404 fix_input, ...)
      +-- the Client's own codes (`CLIENT_ERROR_CATALOGUE`); http_status 0 when no answer came at all:
            NETWORK_ERROR    retry            nothing changed: the broker could not be reached (refused, DNS,
                                              a bad URL), or a GET got no answer on any try
            OUTCOME_UNKNOWN  retry            a DELETE or POST got no answer (timeout, dropped connection, a
                                              gateway's 502/504) after it may have been applied: query the
                                              order before anything else, never resend it blind
            BAD_RESPONSE     contact_support  an answer that is not the contract's JSON (malformed, HTML, the
                                              wrong shape); http_status is the answer's

Retries (`max_retries`, capped exponential backoff with full jitter, `Retry-After` honoured): a GET, and a
`POST /v1/orders` (which always carries a `client_order_id`, so the server answers a repeat with the order it
already placed), on connect errors, timeouts, dropped connections, 429, 502, 503 and 504. Beyond
`max_retries`, a GET whose connection is refused keeps trying until `RESTART_BUDGET_SECONDS` (3.5 s) have
passed since its first try: that rides out a broker restart of up to about 3 s. A DELETE is never retried:
a cancel whose answer was lost is checked by querying the order, not by cancelling again.

The token goes only into the Authorization header: never into a repr, a log line or an error message. A
token with a control or non-ASCII character (a trailing newline from a file, say) is refused before
anything is sent, as UNAUTHENTICATED with http_status 0 and a message that never quotes it; every
message and every `details` value is redacted of the token in its raw and its escaped forms.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import ssl
import time
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from ._version import __version__
from .models import (
    CLIENT_ERROR_CATALOGUE,
    ERROR_CATALOGUE,
    Account,
    BatchCancelResult,
    CancelledOrder,
    ErrorBody,
    InstrumentList,
    MarketStatus,
    Order,
    OrderList,
    PositionList,
    Quote,
)

__all__ = ["ApiError", "Client"]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://127.0.0.1:8700"
# The paper broker's development token (scripts/broker/settings.py DEVELOPMENT_TOKEN), copied because the
# Client never imports the broker. It is documented in the README, so it is no secret: a local paper broker
# started without TRADING_API_TOKEN works out of the box.
DEVELOPMENT_TOKEN = "paper-dev-token"
DEFAULT_ACCOUNT_ID = "acc_default"
USER_AGENT = f"a-share-orders-skill/{__version__} ({__name__}; python-httpx)"  # the package's one version

# Connect fails fast (a broker is local or on the LAN: it accepts in milliseconds or not at all); an answer
# may take longer, but a cancel whose answer takes more than 10 s must be reported to the user as unknown
# while they are still waiting, not after.
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
# Three tries in all: enough to ride out a broker restart or a dropped keep-alive connection, few enough that
# a chat turn never hangs on a broker that is really down.
DEFAULT_MAX_RETRIES = 2
# The first retry comes within 0.2 s (a blip on a local broker is over by then), the wait doubles on each
# try, and full jitter spreads clients that failed together so they do not return together.
BACKOFF_BASE_SECONDS = 0.2
# A GET refused a connection keeps trying this long in all: a broker restarted on the same port is back in
# well under 3 s (the chat's own broker starts in ~0.5 s), and a chat turn can afford that wait once.
RESTART_BUDGET_SECONDS = 3.5
RESTART_BACKOFF_CAP_SECONDS = 0.5
# No backoff wait grows past this: beyond it the user is better served by the error than by more waiting.
BACKOFF_CAP_SECONDS = 5.0
# A Retry-After longer than this is not slept through: the 429/503 goes to the caller as it is, because a
# frozen chat turn is worse than "try again in a minute".
MAX_RETRY_AFTER_SECONDS = 30.0
# Answers that say "not now, nothing was done": 429 and 503 from the broker, 502 and 504 from a gateway.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# A gateway's 502/504 to a DELETE or POST does not say whether the broker applied it.
GATEWAY_STATUSES = frozenset({502, 504})
# Transport failures worth another try for a request that is safe to repeat.
RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
# Failures that happen before a request is sent: nothing can have changed on the server.
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol,
                   httpx.ProxyError, httpx.InvalidURL)
# Everything httpx raises: the one boundary catches exactly these.
HTTPX_ERRORS = (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError)
PLACE_ORDER_PATH = "/v1/orders"
BODY_SNIPPET_CHARS = 120  # enough of an odd answer to recognise it in an error message

ModelT = TypeVar("ModelT", bound=BaseModel)


class ApiError(Exception):
    """A trading API failure: a contract error from the server, or one of the Client's own codes."""

    def __init__(self, code: str, message: str, *, http_status: int, recovery_hint: str,
                 details: dict[str, Any] | None = None, request_id: str | None = None) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.recovery_hint = recovery_hint
        self.details: dict[str, Any] = details or {}
        self.request_id = request_id

    def __str__(self) -> str:
        return f"{self.code} ({self.http_status}, {self.recovery_hint}): {self.message}"

    def __repr__(self) -> str:
        return f"ApiError({self.code!r}, http_status={self.http_status}, recovery_hint={self.recovery_hint!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_api_error, (self.as_dict(),))

    def as_dict(self) -> dict[str, Any]:
        """The error as the contract's error body plus `http_status`: the one JSON form of an ApiError (tool results,
        the command line's output)."""
        return {"code": self.code, "http_status": self.http_status, "recovery_hint": self.recovery_hint,
                "message": self.message, "details": self.details, "request_id": self.request_id}


def _rebuild_api_error(fields: dict[str, Any]) -> ApiError:
    return ApiError(fields["code"], fields["message"], http_status=fields["http_status"],
                    recovery_hint=fields["recovery_hint"], details=fields["details"],
                    request_id=fields["request_id"])


def _client_error(code: str, message: str, http_status: int | None = None,
                  request_id: str | None = None) -> ApiError:
    # A server code raised by the Client (UNAUTHENTICATED for an unusable token) keeps its hint, status 0.
    default_status, hint = CLIENT_ERROR_CATALOGUE.get(code) or (0, ERROR_CATALOGUE[code][1])
    return ApiError(code, message, http_status=default_status if http_status is None else http_status,
                    recovery_hint=hint, request_id=request_id)


class Client:
    """A trading API session for one account: plain JSON through get/post/delete, models through the rest.

    Defaults come from the environment: TRADING_API_URL (else http://127.0.0.1:8700), TRADING_API_TOKEN
    (else the paper broker's development token), TRADING_ACCOUNT_ID (else acc_default). `http_client` lets a
    host bring its own `httpx.Client` (proxies, certificates); the Client then leaves closing it to the host.
    """

    def __init__(self, base_url: str | None = None, token: str | None = None, account_id: str | None = None,
                 timeout: float | httpx.Timeout = DEFAULT_TIMEOUT, max_retries: int = DEFAULT_MAX_RETRIES,
                 http_client: httpx.Client | None = None) -> None:
        self.base_url = (base_url or os.environ.get("TRADING_API_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.account_id = account_id or os.environ.get("TRADING_ACCOUNT_ID") or DEFAULT_ACCOUNT_ID
        self.max_retries = max_retries
        self._token = token or os.environ.get("TRADING_API_TOKEN") or DEVELOPMENT_TOKEN
        self._token_problem = _token_problem(self._token)
        self._secrets = _secret_forms(self._token)
        self._headers = {"Authorization": f"Bearer {self._token}", "User-Agent": USER_AGENT,
                         "Accept": "application/json"}
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client(
            timeout=self._timeout, verify=_tls_for(self.base_url))

    def __repr__(self) -> str:
        return f"Client(base_url={self.base_url!r}, account_id={self.account_id!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    @staticmethod
    def path(*segments: str) -> str:
        """`/v1/<segments>` with each segment escaped: `../accounts/x` stays one segment, never another route."""
        return "/v1/" + "/".join(_segment(segment) for segment in segments)

    # --- plain JSON --------------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a path (it may carry its own query string); returns the decoded JSON body."""
        return self._request("GET", path, params=params)

    def post(self, path: str, json: dict[str, Any]) -> Any:
        """POST a JSON body; a `POST /v1/orders` gets a fresh `client_order_id` when it has none."""
        if _path_only(path) == PLACE_ORDER_PATH and not json.get("client_order_id"):
            json = {**json, "client_order_id": _new_client_order_id()}
        return self._request("POST", path, json=json)

    def delete(self, path: str) -> Any:
        """DELETE a path; never retried (see the module docstring). Returns the decoded JSON body."""
        return self._request("DELETE", path)

    # --- typed helpers: list endpoints return the wire's envelope (OrderList keeps next_cursor) -----------

    def orders(self, status: str | Iterable[str] | None = None, symbol: str | None = None,
               side: Literal["BUY", "SELL"] | None = None, since: datetime | str | None = None,
               limit: int | None = None, cursor: str | None = None) -> OrderList:
        """The account's orders, newest first: one page; `next_cursor` asks for the next one."""
        params = {"status": status if status is None or isinstance(status, str) else ",".join(status),
                  "symbol": symbol, "side": side,
                  "since": since.isoformat() if isinstance(since, datetime) else since,
                  "limit": limit, "cursor": cursor}
        return self._request("GET", self.path("accounts", self.account_id, "orders"),
                             params={name: value for name, value in params.items() if value is not None},
                             model=OrderList)

    def order(self, order_id: str) -> Order:
        return self._request("GET", self.path("orders", order_id), model=Order)

    def cancel(self, order_id: str) -> CancelledOrder:
        """Cancel one order; on OUTCOME_UNKNOWN query `order(order_id)` before anything else."""
        return self._request("DELETE", self.path("orders", order_id), model=CancelledOrder)

    def cancel_many(self, order_ids: Iterable[str]) -> BatchCancelResult:
        """Cancel exactly the named orders (one failure does not stop the others)."""
        ids = list(order_ids)
        if not ids:
            # Without order_ids the endpoint cancels every order matching a filter: never send that by accident.
            raise ValueError("cancel_many needs at least one order id")
        return self._request("DELETE", self.path("accounts", self.account_id, "orders"),
                             params={"order_ids": ",".join(ids)}, model=BatchCancelResult)

    def account(self) -> Account:
        return self._request("GET", self.path("accounts", self.account_id), model=Account)

    def positions(self) -> PositionList:
        return self._request("GET", self.path("accounts", self.account_id, "positions"), model=PositionList)

    def place(self, symbol: str, side: Literal["BUY", "SELL"], qty: int,
              limit_price: Decimal | str | int | None = None, type: Literal["LIMIT", "MARKET"] = "LIMIT",
              client_order_id: str | None = None) -> Order:
        """Place an order (the server checks lots, band and cash); safe to retry by its client_order_id."""
        body: dict[str, Any] = {"account_id": self.account_id, "symbol": symbol, "side": side, "qty": qty,
                                "type": type, "client_order_id": client_order_id or _new_client_order_id()}
        if limit_price is not None:
            # A Decimal in plain notation ("1E+3" is no price the contract reads); str or int as given.
            body["limit_price"] = format(limit_price, "f") if isinstance(limit_price, Decimal) else str(limit_price)
        return self._request("POST", PLACE_ORDER_PATH, json=body, model=Order)

    def instruments(self, q: str) -> InstrumentList:
        return self._request("GET", "/v1/instruments", params={"q": q}, model=InstrumentList)

    def quote(self, symbol: str) -> Quote:
        return self._request("GET", self.path("quotes", symbol), model=Quote)

    def market_status(self) -> MarketStatus:
        return self._request("GET", "/v1/market/status", model=MarketStatus)

    # --- the one way out to the network -------------------------------------------------------------------

    def _request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                 json: dict[str, Any] | None = None, model: type[ModelT] | None = None) -> Any:
        if self._token_problem is not None:
            raise _client_error("UNAUTHENTICATED", f"TRADING_API_TOKEN is not a usable bearer token: "
                                f"{self._token_problem}; set it to the token alone (nothing was sent)")
        if not path.startswith("/"):
            path = "/" + path
        url = self.base_url + path
        retryable = method == "GET" or (method == "POST" and _path_only(path) == PLACE_ORDER_PATH)
        attempt = 0
        started = time.monotonic()
        while True:
            outcome: httpx.Response | Exception
            try:
                outcome = self._http.request(method, url, params=params, json=json, headers=self._headers,
                                             timeout=self._timeout)
            except HTTPX_ERRORS as error:
                outcome = error
            wait = self._retry_wait(outcome, attempt) if retryable and attempt < self.max_retries else None
            if wait is None and method == "GET" and self.max_retries and isinstance(outcome, httpx.ConnectError):
                wait = _restart_wait(started, attempt)
            if wait is None:
                return self._interpret(method, path, json, outcome, attempt + 1, model)
            attempt += 1
            log.info("%s %s: %s; retry %d in %.2f s", method, _path_only(path), _describe(outcome), attempt, wait)
            time.sleep(wait)

    @staticmethod
    def _retry_wait(outcome: httpx.Response | Exception, attempt: int) -> float | None:
        """Seconds to wait before another try, or None when this outcome is final."""
        if isinstance(outcome, httpx.Response):
            if outcome.status_code not in RETRY_STATUSES:
                return None
            retry_after = _retry_after_seconds(outcome.headers.get("retry-after"))
            if retry_after is not None:
                return retry_after if retry_after <= MAX_RETRY_AFTER_SECONDS else None
        elif not isinstance(outcome, RETRYABLE_ERRORS):
            return None
        return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))

    def _interpret(self, method: str, path: str, body: dict[str, Any] | None, outcome: httpx.Response | Exception,
                   tries: int, model: type[ModelT] | None) -> Any:
        """The one boundary: a final outcome becomes the decoded body (or model), or an ApiError."""
        where = f"{method} {self.base_url}{_path_only(path)}"
        changes = method != "GET"
        if isinstance(outcome, Exception):
            reason = self._redact(str(outcome) or type(outcome).__name__)
            if isinstance(outcome, NOT_SENT_ERRORS):
                raise _client_error("NETWORK_ERROR", f"could not reach the trading API for {where} ({reason}"
                                    f"{_tries(tries)}); nothing was sent. Is the broker running at "
                                    f"{self.base_url}?") from outcome
            if isinstance(outcome, httpx.DecodingError):
                raise _client_error("BAD_RESPONSE", f"{where}: the answer could not be decoded ({reason})"
                                    + _maybe_applied(method, body)) from outcome
            if changes:
                raise _client_error("OUTCOME_UNKNOWN", f"{where}: no answer ({type(outcome).__name__}: {reason}); "
                                    f"the request may have been applied"
                                    + _maybe_applied(method, body)) from outcome
            raise _client_error("NETWORK_ERROR", f"{where}: no answer ({type(outcome).__name__}: {reason}"
                                f"{_tries(tries)}); a GET changes nothing") from outcome
        response = outcome
        status = response.status_code
        if 200 <= status < 300:
            if model is not None:
                try:
                    return model.model_validate_json(response.content)
                except ValidationError as error:
                    raise self._bad_response(where, response, method, body,
                                             f"{error.error_count()} field error(s)") from None
            try:
                data = response.json()
            except ValueError:
                raise self._bad_response(where, response, method, body, "malformed JSON") from None
            if not isinstance(data, dict):
                raise self._bad_response(where, response, method, body, "not a JSON object")
            return data
        try:
            error_body = ErrorBody.model_validate_json(response.content)
        except ValidationError:
            if changes and status in GATEWAY_STATUSES:
                raise _client_error("OUTCOME_UNKNOWN", f"{where}: HTTP {status} from a gateway, not the broker; "
                                    f"the request may have been applied" + _maybe_applied(method, body),
                                    http_status=status, request_id=response.headers.get("x-request-id")) from None
            raise self._bad_response(where, response, method, body, "not the error body of the contract") from None
        raise ApiError(error_body.code, self._redact(error_body.message), http_status=status,
                       recovery_hint=error_body.recovery_hint, details=self._redact_value(error_body.details),
                       request_id=error_body.request_id or response.headers.get("x-request-id"))

    def _bad_response(self, where: str, response: httpx.Response, method: str, body: dict[str, Any] | None,
                      what: str) -> ApiError:
        content_type = response.headers.get("content-type", "no content type")
        # Redact before cutting, so a token straddling the cut cannot leave half of itself behind.
        longest = max(map(len, self._secrets), default=0)
        head = response.content[:BODY_SNIPPET_CHARS + longest].decode("utf-8", "replace")
        snippet = self._redact(head)[:BODY_SNIPPET_CHARS]
        return _client_error("BAD_RESPONSE", f"{where}: HTTP {response.status_code} answer is not the trading "
                             f"API's JSON ({what}; {content_type}): {snippet!r}" + _maybe_applied(method, body),
                             http_status=response.status_code, request_id=response.headers.get("x-request-id"))

    def _redact(self, text: str) -> str:
        for form in self._secrets:
            text = text.replace(form, "***")
        return text

    def _redact_value(self, value: Any) -> Any:
        """`details` as the server sent them, with the token taken out of every string, key and value."""
        if isinstance(value, str):
            return self._redact(value)
        if isinstance(value, dict):
            return {self._redact(str(key)): self._redact_value(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._redact_value(item) for item in value]
        return value


def _tls_for(base_url: str) -> ssl.SSLContext | bool:
    """TLS for this API: httpx's default (verified against the CA bundle) for https; for a plain http:// API,
    such as the local paper broker, a context that trusts no certificate at all. Every request goes to
    `base_url + path`, so such a Client never speaks TLS, and loading the CA bundle (50-130 ms a Client) would be
    wasted; should an https URL ever reach it, verification fails closed."""
    if base_url.lower().startswith("https://"):
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # check_hostname and CERT_REQUIRED, no trust anchors


def _token_problem(token: str) -> str | None:
    """Why `token` cannot go into an Authorization header, without quoting it; None when it can."""
    for position, char in enumerate(token, start=1):
        if not "!" <= char <= "~":
            kind = "a control character" if ord(char) < 32 or ord(char) == 127 else (
                "a space" if char == " " else "a non-ASCII character")
            return f"it contains {kind} at position {position} of {len(token)}"
    return None


def _secret_forms(token: str) -> tuple[str, ...]:
    """Every way the token may be spelt in a message: as is, as repr() or a bytes repr escapes it, url-quoted."""
    import json

    forms = {token, repr(token)[1:-1], json.dumps(token)[1:-1], repr(token.encode("utf-8", "backslashreplace"))[2:-1],
             token.encode("unicode_escape").decode("ascii"), quote(token, safe="")}
    # The token trimmed of what was wrong around it (a trailing newline): a server may echo just that.
    forms.add(token.strip())
    return tuple(sorted((form for form in forms if len(form) >= 4), key=len, reverse=True))


def _restart_wait(started: float, attempt: int) -> float | None:
    """The wait before another try at a refused GET, while the restart budget lasts; None once it is spent."""
    wait = min(RESTART_BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    if time.monotonic() - started + wait > RESTART_BUDGET_SECONDS:
        return None
    return wait


def _new_client_order_id() -> str:
    import uuid  # here, not at the top: it costs a cold start ~3 ms (it imports `platform`)

    return str(uuid.uuid4())


def _maybe_applied(method: str, body: dict[str, Any] | None) -> str:
    """The advice a caller needs when a request that changes state got no usable answer."""
    if method == "DELETE":
        return ". Query the order before anything else; do not cancel again blind."
    if method == "POST" and body is not None and body.get("client_order_id"):
        return (f". Query the orders (client_order_id {body['client_order_id']}) before anything else; "
                f"placing again with the same client_order_id cannot make a second order.")
    if method == "POST":
        return ". Query the state before anything else."
    return ""


def _tries(tries: int) -> str:
    return f", {tries} tries" if tries > 1 else ""


def _describe(outcome: httpx.Response | Exception) -> str:
    if isinstance(outcome, httpx.Response):
        return f"HTTP {outcome.status_code}"
    return type(outcome).__name__


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 10.2.3); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _path_only(path: str) -> str:
    return path.split("?", 1)[0].rstrip("/") or "/"


def _segment(value: str) -> str:
    """One path segment: an id with a slash or a dot-dot cannot reach another route.

    Dots are escaped too: httpx removes a bare `.` or `..` segment (RFC 3986 dot-segment removal) before sending.
    """
    return quote(value, safe="").replace(".", "%2E")


READ_ONLY_ENV = "TRADING_READ_ONLY"


def read_only_from_env() -> bool:
    """Whether TRADING_READ_ONLY asks every face for read-only mode (1, true, yes, on; anything else: no)."""
    return os.environ.get(READ_ONLY_ENV, "").strip().lower() in {"1", "true", "yes", "on"}
