"""Answers the broker never gives but a proxy or a broken back end might: each becomes one ApiError.

A tiny real HTTP server (stdlib `http.server`, in a thread) serves them, so the Client meets them on a socket.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from scripts._http import ApiError, Client
from tests.conftest import TEST_TOKEN

# path -> (status, content type, body); "{auth}" is replaced by the Authorization header the server got.
ANSWERS: dict[str, tuple[int, str, str]] = {
    "/malformed": (200, "application/json", '{"order_id": "ord_accdefault_abc'),
    "/array": (200, "application/json", "[1, 2]"),
    "/html-gateway": (502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"),
    "/html-timeout": (504, "text/html", "<html><body><h1>504 Gateway Time-out</h1></body></html>"),
    "/framework-404": (404, "application/json", '{"detail": "Not Found"}'),
    "/echo-auth": (500, "text/plain", "proxy error; you sent {auth}"),
    "/v1/orders/ord_accdefault_abc12345": (200, "application/json", '{"order_id": 12345, "state": "SOLD"}'),
}


HITS: Counter[tuple[str, str]] = Counter()  # (method, path) -> requests the server answered


class Oddities(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        HITS[(self.command, self.path)] += 1
        status, content_type, body = ANSWERS.get(self.path, (404, "text/plain", "nothing here"))
        payload = body.replace("{auth}", self.headers.get("Authorization", "")).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_DELETE = do_POST = _answer  # noqa: N815 (http.server's naming)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep pytest's output clean


@pytest.fixture(scope="module")
def odd_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Oddities)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def odd_client(odd_server: str) -> Iterator[Client]:
    HITS.clear()
    with Client(odd_server, token=TEST_TOKEN) as client:
        yield client


def _raised(call: object) -> ApiError:
    assert callable(call)
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def test_malformed_json_is_a_bad_response(odd_client: Client) -> None:
    error = _raised(lambda: odd_client.get("/malformed"))

    assert (error.code, error.http_status, error.recovery_hint) == ("BAD_RESPONSE", 200, "contact_support")
    assert "malformed JSON" in error.message
    assert str(error).startswith("BAD_RESPONSE (200, contact_support): GET ")


def test_json_that_is_not_an_object_is_a_bad_response(odd_client: Client) -> None:
    assert _raised(lambda: odd_client.get("/array")).code == "BAD_RESPONSE"


def test_a_body_of_the_wrong_shape_is_a_bad_response(odd_client: Client) -> None:
    error = _raised(lambda: odd_client.order("ord_accdefault_abc12345"))

    assert (error.code, error.http_status) == ("BAD_RESPONSE", 200)
    assert "field error" in error.message


def test_an_error_body_outside_the_contract_is_a_bad_response(odd_client: Client) -> None:
    error = _raised(lambda: odd_client.get("/framework-404"))

    assert (error.code, error.http_status) == ("BAD_RESPONSE", 404)
    assert "Not Found" in error.message


def test_a_gateway_html_page_on_a_get_is_retried_then_a_bad_response(odd_client: Client) -> None:
    error = _raised(lambda: odd_client.get("/html-gateway"))

    assert (error.code, error.http_status) == ("BAD_RESPONSE", 502)
    assert "text/html" in error.message
    assert HITS[("GET", "/html-gateway")] == odd_client.max_retries + 1


def test_a_gateway_timeout_on_a_delete_is_outcome_unknown_and_not_retried(odd_client: Client) -> None:
    error = _raised(lambda: odd_client.delete("/html-timeout"))

    assert (error.code, error.http_status, error.recovery_hint) == ("OUTCOME_UNKNOWN", 504, "retry")
    assert "Query the order before anything else" in error.message
    assert HITS[("DELETE", "/html-timeout")] == 1


def test_a_delete_answered_with_garbage_says_it_may_have_been_applied(odd_client: Client) -> None:
    error = _raised(lambda: odd_client.delete("/malformed"))

    assert error.code == "BAD_RESPONSE"
    assert "Query the order before anything else" in error.message


def test_an_echoed_token_is_redacted_from_the_error(odd_client: Client) -> None:
    error = _raised(lambda: odd_client.get("/echo-auth"))

    assert error.code == "BAD_RESPONSE"
    assert "Bearer ***" in error.message
    assert TEST_TOKEN not in str(error)
    assert TEST_TOKEN not in repr(error)


def test_a_url_without_a_scheme_is_a_network_error() -> None:
    with Client("127.0.0.1:8700", token=TEST_TOKEN) as client:
        error = _raised(lambda: client.get("/v1/market/status"))

    assert (error.code, error.http_status) == ("NETWORK_ERROR", 0)


def test_a_host_http_client_is_used_and_left_open(odd_server: str) -> None:
    with httpx.Client() as host_client:
        client = Client(odd_server, token=TEST_TOKEN, http_client=host_client)
        error = _raised(lambda: client.get("/framework-404"))
        client.close()

        assert error.http_status == 404
        assert not host_client.is_closed
