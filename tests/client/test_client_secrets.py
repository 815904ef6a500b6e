"""The token stays in the Authorization header: never in a repr, an error, a log line or a cassette."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
import yaml

from scripts._http import ApiError, Client
from scripts.broker.settings import DEVELOPMENT_TOKEN
from tests.client.support import CASSETTE_DIR
from tests.conftest import OTHER_TOKEN, TEST_TOKEN

SECRETS = (TEST_TOKEN, OTHER_TOKEN, DEVELOPMENT_TOKEN)


def test_the_token_is_not_in_the_clients_repr() -> None:
    client = Client("http://127.0.0.1:8700", token=TEST_TOKEN)

    assert TEST_TOKEN not in repr(client)
    assert TEST_TOKEN not in str(client)


def test_the_token_is_not_in_an_authentication_error(broker_url: str) -> None:
    with Client(broker_url, token="a-wrong-token-1234") as client, pytest.raises(ApiError) as caught:
        client.account()

    assert caught.value.code == "UNAUTHENTICATED"
    assert "a-wrong-token-1234" not in str(caught.value)
    assert "a-wrong-token-1234" not in repr(caught.value)


def test_the_token_is_not_in_any_log_line(caplog: pytest.LogCaptureFixture, client: Client,
                                          load_world: Callable[..., dict[str, str]],
                                          arm_fault: Callable[..., None]) -> None:
    refs = load_world()
    arm_fault(kind="error_before_apply", path=f"/v1/orders/{refs['B']}", method="GET", status=503)
    arm_fault(kind="drop_connection", order_id=refs["A"])

    with caplog.at_level(logging.DEBUG):
        client.order(refs["B"])  # a 503, a retry, a 200
        with pytest.raises(ApiError):
            client.cancel(refs["A"])  # a dropped connection
        client.account()

    assert any(record.name.startswith("httpcore") for record in caplog.records), "DEBUG logging was on"
    assert any(record.name == "scripts._http" for record in caplog.records), "the retry was logged"
    for secret in (TEST_TOKEN, "Bearer"):
        assert secret not in caplog.text


def test_cassettes_hold_no_authorization_header_and_no_token() -> None:
    cassettes = sorted(CASSETTE_DIR.rglob("*.yaml"))
    assert cassettes, f"no cassettes under {CASSETTE_DIR}"

    for cassette in cassettes:
        text = cassette.read_text(encoding="utf-8")
        for secret in SECRETS:
            assert secret not in text, f"{cassette.name} holds a token"
        assert "Bearer " not in text, f"{cassette.name} holds a bearer credential"
        for interaction in yaml.safe_load(text)["interactions"]:
            names = {name.lower() for name in interaction["request"]["headers"]}
            assert "authorization" not in names, f"{cassette.name} holds an Authorization header"
