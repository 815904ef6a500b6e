"""A table of hostile requests against every endpoint: each is refused in the contract's error shape.

Malformed, oversized and deep bodies, wrong types and media types, bad numbers, control characters,
traversal and injection strings, unknown fields, methods a path does not serve, and bad tokens. None may
be a 5xx, none may echo unbounded input, and each error body carries the request id of its header.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from scripts.models import ERROR_CATALOGUE
from tests.conftest import BASE_WORLD, TEST_TOKEN

AUTH = {"Authorization": f"Bearer {TEST_TOKEN}"}
JSON = {"content-type": "application/json"}
ORDER = {"account_id": "acc_default", "symbol": "600519", "side": "BUY", "qty": 100, "limit_price": "1650.00"}
MAX_ERROR_BYTES = 4096  # capped details: an error never grows with its input


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    expect: frozenset[int]
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    auth: bool = True

    def __str__(self) -> str:
        return self.name


def body(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def order_with(**fields: Any) -> bytes:
    return body({**ORDER, **fields})


HOSTILE_SEGMENTS = {
    "traversal": "..%2Faccounts%2Facc_default", "double-dot": "%2E%2E", "encoded-slash": "a%2Fb",
    "nul": "%00", "newline": "ord_accdefault_abc12345%0A", "crlf-header": "x%0D%0ASet-Cookie:%20a=b",
    "sql": "%27%20OR%201=1%20--", "script": "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "long": "a" * 3000,
    "chinese": "%E8%8C%85%E5%8F%B0", "fullwidth-digits": "%EF%BC%96%EF%BC%90%EF%BC%90%EF%BC%95%EF%BC%91%EF%BC%99",
    "arabic-digits": "%D9%A6%D9%A0%D9%A0%D9%A5%D9%A1%D9%A9", "emoji": "%F0%9F%92%A3", "spaces": "%20600519%20",
    "percent": "%25", "format": "%25s%25n", "uppercase-id": "ORD_ACCDEFAULT_ABC12345", "short-id": "abc12345",
}
SEGMENT_ROUTES = [("GET", "/v1/orders/{}"), ("DELETE", "/v1/orders/{}"), ("GET", "/v1/accounts/{}"),
                  ("GET", "/v1/accounts/{}/positions"), ("GET", "/v1/accounts/{}/orders"),
                  ("DELETE", "/v1/accounts/{}/orders"), ("GET", "/v1/instruments/{}"), ("GET", "/v1/quotes/{}")]

BAD_QUERIES = {
    "status-unknown": "status=PAUSED", "status-empty": "status=", "status-commas": "status=,,,",
    "status-injection": "status=NEW%27%20OR%201=1", "side-lower": "side=buy", "side-unknown": "side=HOLD",
    "symbol-long": "symbol=" + "6" * 100, "since-year-1": "since=0001-01-01T00:00:00%2B14:00",
    "since-year-9999": "since=9999-12-31T23:59:59-14:00", "since-garbage": "since=yesterday",
    "since-fullwidth": "since=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96-01-01", "limit-zero": "limit=0",
    "limit-negative": "limit=-1", "limit-huge": "limit=99999999999999999999999", "limit-float": "limit=1.5",
    "limit-fullwidth": "limit=%EF%BC%91%EF%BC%90", "limit-arabic": "limit=%D9%A1%D9%A0",
"cursor-garbage": "cursor=!!!", "cursor-long": "cursor=" + "A" * 500,
    "cursor-huge-int": "cursor=" + base64.urlsafe_b64encode(b"2026-11-24T10:00:00.000+08:00|" + b"9" * 40).decode(),
    "cursor-negative": "cursor=" + base64.urlsafe_b64encode(b"2026-11-24T10:00:00.000+08:00|-1").decode(),
    "cursor-bad-time": "cursor=" + base64.urlsafe_b64encode(b"not-a-time|5").decode(),
    "cursor-not-utf8": "cursor=" + base64.urlsafe_b64encode(b"\xff\xfe|1").decode(),
}
BAD_BATCH_QUERIES = {
    "ids-and-symbol": "order_ids=ord_accdefault_abc12345&symbol=600519", "ids-empty": "order_ids=",
    "ids-commas": "order_ids=,,,",
    "ids-too-many": "order_ids=" + ",".join(f"ord_accdefault_{n:08d}" for n in range(501)),
    "side-unknown": "side=HOLD", "symbol-long": "symbol=" + "6" * 100,
}
BAD_INSTRUMENT_QUERIES = {"q-missing": "", "q-empty": "q=", "q-long": "q=" + "茅" * 100, "limit-zero": "q=1&limit=0",
                          "limit-huge": "q=1&limit=1000", "limit-fullwidth": "q=1&limit=%EF%BC%91"}

BAD_PRICES = ["١٨٠٠.٠٠", "１８００.００", " 1650.00", "1650.00 ", "1650.00\n", "+1650.00", "1e3", "1E3", "NaN",
              "Infinity", "-1650.00", "0", "0.00", "1650.", ".5", "1,650.00", "1650.00.00", "0x10", "", " ",
              "1650\u00a0", "1_650.00", "9" * 40, "1650.0000000000001", True, None, [], {}, -1, 0, 1e400]
BAD_QUANTITIES = ["100", "１００", "١٠٠", 100.0, 100.5, True, None, -100, 0, 10**30, [], {}, "1e2", 1e2]
BAD_FIELDS: dict[str, Any] = {
    "account_id": [None, 1, "", "a" * 65, "acc_other", "../acc_default", "acc_default\x00", "' OR 1=1 --"],
    "symbol": [None, 600519, "", "6" * 17, "茅台", "600519\n", "6005\x0019", "<script>", "../../etc/passwd"],
    "side": [None, "buy", "HOLD", 1, "", "BUY "],
    "type": [None, "limit", "STOP", 1, ""],
    "client_order_id": ["", "c" * 65, 1, [], {}],
}
BAD_BODIES: dict[str, bytes] = {
    "malformed": b'{"account_id": "acc_default",', "empty-object": b"{}", "array": b"[]", "null": b"null",
    "string": b'"order"', "number": b"42", "trailing-garbage": order_with() + b"garbage",
    "deep-1000-arrays": b"[" * 1000 + b"]" * 1000, "deep-1000-objects": b'{"a":' * 1000 + b"1" + b"}" * 1000,
    "deep-33": b'{"a":' * 33 + b"1" + b"}" * 33,
    "not-utf8": b'{"account_id": "\xff\xfe\xfd"}', "latin1": '{"symbol": "caf\xe9"}'.encode("latin-1"),
    "utf16": order_with().decode().encode("utf-16"), "utf16-le": order_with().decode().encode("utf-16-le"),
    "utf32": order_with().decode().encode("utf-32"), "bom": b"\xef\xbb\xbf" + order_with(),
    "nul-inside": order_with()[:-1] + b', "x\x00": 1}',
    "unknown-field": order_with(extra=1), "unknown-long-field": order_with(**{"x" * 10_000: 1}),
    "many-unknown-fields": body({**ORDER, **{f"f{n}": n for n in range(5000)}}),
    "market-with-price": order_with(type="MARKET"), "limit-without-price": body({k: v for k, v in ORDER.items()
                                                                                  if k != "limit_price"}),
    "duplicate-keys": b'{"qty": 100, "qty": "x", "account_id": "acc_default"}',
    "control-chars-in-string": order_with(symbol="600\u0007519"),
}
CONTENT_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                 "application/json; charset=utf-16", "application/json; charset=latin-1", "application/xml",
                 "text/json", "", "application/octet-stream"]
BAD_AUTH = {"none": None, "empty": "", "scheme-only": "Bearer", "basic": "Basic dGVzdA==",
            "wrong-token": "Bearer not-the-token", "token-no-scheme": TEST_TOKEN, "long": "Bearer " + "x" * 8000,
            "other-scheme": f"Token {TEST_TOKEN}", "token-suffix": f"Bearer {TEST_TOKEN}x",
            "token-prefix": f"Bearer x{TEST_TOKEN}", "token-upper": f"Bearer {TEST_TOKEN.upper()}",
            "injection": "Bearer ' OR 1=1 --", "unicode-escape": "Bearer \\u0000"}
GET_ROUTES = ["/v1/orders/ord_accdefault_k3v9x2m1", "/v1/accounts/acc_default", "/v1/accounts/acc_default/positions",
              "/v1/accounts/acc_default/orders", "/v1/instruments?q=600519", "/v1/instruments/600519",
              "/v1/quotes/600519", "/v1/market/status"]
ROUTE_METHODS = {"/v1/orders": "POST", "/v1/orders/ord_accdefault_abc12345": "GET, DELETE",
                 "/v1/accounts/acc_default": "GET", "/v1/accounts/acc_default/positions": "GET",
                 "/v1/accounts/acc_default/orders": "GET, DELETE", "/v1/instruments": "GET",
                 "/v1/instruments/600519": "GET", "/v1/quotes/600519": "GET", "/v1/market/status": "GET"}

NOT_FOUND_OR_INVALID = frozenset({404, 422})
NORMALIZED_SEGMENTS = ("fullwidth-digits", "spaces")
INVALID = frozenset({422})


def cases() -> list[Case]:
    rows: list[Case] = []
    for kind, segment in HOSTILE_SEGMENTS.items():
        for method, template in SEGMENT_ROUTES:
            # A code typed in full-width digits or with spaces around it names the same instrument (NFKC).
            same_code = kind in NORMALIZED_SEGMENTS and template.startswith(("/v1/instruments", "/v1/quotes"))
            rows.append(Case(f"segment-{kind}-{method}-{template}", method, template.format(segment),
                             NOT_FOUND_OR_INVALID | {405} | ({200} if same_code else set())))
    for kind, query in BAD_QUERIES.items():
        rows.append(Case(f"list-query-{kind}", "GET", f"/v1/accounts/acc_default/orders?{query}", INVALID))
    for kind, query in BAD_BATCH_QUERIES.items():
        rows.append(Case(f"batch-query-{kind}", "DELETE", f"/v1/accounts/acc_default/orders?{query}", INVALID))
    for kind, query in BAD_INSTRUMENT_QUERIES.items():
        rows.append(Case(f"instruments-query-{kind}", "GET", f"/v1/instruments?{query}", INVALID))
    for price in BAD_PRICES:
        rows.append(Case(f"price-{price!r}", "POST", "/v1/orders", INVALID, order_with(limit_price=price), JSON))
    for qty in BAD_QUANTITIES:
        rows.append(Case(f"qty-{qty!r}"[:60], "POST", "/v1/orders", INVALID, order_with(qty=qty), JSON))
    for name, values in BAD_FIELDS.items():
        for value in values:
            expect = NOT_FOUND_OR_INVALID  # an unknown account or symbol is a 404 like any unknown name
            rows.append(Case(f"field-{name}-{value!r}"[:60], "POST", "/v1/orders", expect,
                             order_with(**{name: value}), JSON))
    for kind, raw in BAD_BODIES.items():
        rows.append(Case(f"body-{kind}", "POST", "/v1/orders", INVALID, raw, JSON))
    rows.append(Case("body-oversized", "POST", "/v1/orders", frozenset({413}), b'{"x": "' + b"a" * 600_000 + b'"}',
                     JSON))
    rows.append(Case("body-oversized-no-token", "POST", "/v1/orders", frozenset({401}), b"x" * 10_000_000, JSON,
                     auth=False))
    rows.append(Case("body-malformed-no-token", "POST", "/v1/orders", frozenset({401}), b"{", JSON, auth=False))
    for content_type in CONTENT_TYPES:
        headers = {"content-type": content_type} if content_type else {}
        rows.append(Case(f"content-type-{content_type or 'missing'}", "POST", "/v1/orders", frozenset({415}),
                         order_with(), headers))
        rows.append(Case(f"content-type-{content_type or 'missing'}-sim", "POST", "/v1/sim/clock", frozenset({415}),
                         body({"advance_seconds": 0}), headers, auth=False))
    for path, allowed in ROUTE_METHODS.items():
        for method in ("PUT", "PATCH", "POST", "DELETE", "GET", "OPTIONS"):
            if method not in allowed.split(", "):
                rows.append(Case(f"method-{method}-{path}", method, path, frozenset({405})))
    for kind, value in BAD_AUTH.items():
        for path in GET_ROUTES:
            headers = {} if value is None else {"authorization": value}
            rows.append(Case(f"auth-{kind}-{path}", "GET", path, frozenset({401}), headers=headers, auth=False))
        headers = {**JSON, **({} if value is None else {"authorization": value})}
        rows.append(Case(f"auth-{kind}-POST", "POST", "/v1/orders", frozenset({401}), order_with(), headers,
                         auth=False))
    for path in ("/v1", "/v1/", "/v1/orders/", "/v1/nothing", "/V1/orders", "/v1/orders/a/b", "/v1/sim/nothing",
                 "/" + "a" * 5000, "/v1/%00", "/v1/accounts/acc_default/orders/extra"):
        rows.append(Case(f"route-{path[:40]}", "GET", path, frozenset({404})))
    return rows


CASES = cases()


def test_the_table_has_hundreds_of_rows() -> None:
    assert len(CASES) >= 406, len(CASES)


@pytest.fixture(scope="module")
def raw(broker_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=broker_url, timeout=30) as client:
        assert client.post("/v1/sim/reset", json=BASE_WORLD).status_code == 200
        yield client


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_hostile_request_is_refused_in_the_contracts_error_shape(raw: httpx.Client, case: Case) -> None:
    headers = {**(AUTH if case.auth else {}), **case.headers}
    response = raw.request(case.method, case.path, content=case.content, headers=headers)

    assert response.status_code in case.expect, (case.name, response.status_code, response.text[:300])
    if response.status_code == 200:
        assert response.json()["symbol"] == "600519"
        return
    error = response.json()
    assert set(error) == {"code", "message", "recovery_hint", "details", "request_id"}, error
    assert ERROR_CATALOGUE[error["code"]] == (response.status_code, error["recovery_hint"])
    assert error["request_id"] == response.headers["x-request-id"]
    assert len(response.content) <= MAX_ERROR_BYTES, len(response.content)
    if response.status_code == 405:
        assert response.headers["allow"]


def test_nothing_hostile_changed_the_account(raw: httpx.Client) -> None:
    orders = raw.get("/v1/accounts/acc_default/orders", headers=AUTH).json()["orders"]
    assert len(orders) == len(BASE_WORLD["orders"])


@pytest.mark.parametrize("path", GET_ROUTES)
def test_head_on_a_get_route_answers_like_the_get_without_a_body(raw: httpx.Client, path: str) -> None:
    get = raw.get(path, headers=AUTH)
    head = raw.head(path, headers=AUTH)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"] or path.endswith("status")
    assert head.headers["x-request-id"].startswith("req_")


def test_head_without_a_token_is_401_without_a_body(raw: httpx.Client) -> None:
    head = raw.head("/v1/accounts/acc_default")
    assert head.status_code == 401
    assert head.content == b""


def test_spelling_variants_of_one_token_share_its_account(raw: httpx.Client) -> None:
    for header in (f"bearer {TEST_TOKEN}", f"BEARER {TEST_TOKEN}", f"Bearer   {TEST_TOKEN}"):
        assert raw.get("/v1/accounts/acc_default", headers={"authorization": header}).status_code == 200, header
