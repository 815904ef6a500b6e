"""What a request must be before any work is done for it: its size, its media type, its encoding, its depth.

The gateway applies these before FastAPI reads or parses anything, so an oversized or hostile body costs
the broker one bounded read, never a parse, a validation or a 60 MB answer.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .errors import BrokerError

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]

# The largest body the API needs is a sim reset of a big world (~100 orders, ~20 KB); an order is ~200 bytes.
MAX_BODY_BYTES = 256 * 1024
# Contract bodies nest four levels at most (a reset: world → accounts → account → positions → position).
MAX_JSON_DEPTH = 32
JSON_MEDIA_TYPES = ("application/json",)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
BRACKETS = re.compile(r"[\[\]{}]")


def header(scope: MutableMapping[str, Any], name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


def has_body(scope: MutableMapping[str, Any]) -> bool:
    length = header(scope, b"content-length")
    return header(scope, b"transfer-encoding") is not None or (length is not None and length not in (b"0", b""))


def declared_problem(scope: MutableMapping[str, Any]) -> BrokerError | None:
    """What the headers alone show is wrong with the body: too large, or not UTF-8 JSON."""
    length = header(scope, b"content-length")
    if length is not None:
        if not length.isdigit():
            return BrokerError("VALIDATION_ERROR", "Content-Length is not a number",
                               {"errors": [{"loc": ["header", "content-length"], "msg": "not a number"}]})
        if int(length) > MAX_BODY_BYTES:
            return too_large()
    if scope["method"] not in BODY_METHODS or not has_body(scope):
        return None
    content_type = (header(scope, b"content-type") or b"").decode("latin-1")
    media_type, _, parameters = content_type.partition(";")
    charset = ""
    for parameter in parameters.split(";"):
        key, _, value = parameter.strip().partition("=")
        if key.lower() == "charset":
            charset = value.strip().strip('"').lower()
    if media_type.strip().lower() not in JSON_MEDIA_TYPES or charset not in ("", "utf-8", "utf8"):
        return BrokerError("UNSUPPORTED_MEDIA_TYPE", "the body must be JSON in UTF-8 (Content-Type: application/json)",
                           {"content_type": content_type[:100]})
    return None


def too_large() -> BrokerError:
    return BrokerError("PAYLOAD_TOO_LARGE", f"the body is larger than {MAX_BODY_BYTES} bytes",
                       {"max_bytes": MAX_BODY_BYTES})


async def read_body(receive: Receive) -> bytes | BrokerError:
    """The whole body, read no further than the cap (a body without Content-Length is counted as it comes)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def json_problem(body: bytes) -> BrokerError | None:
    """A body that is not UTF-8 or nests too deep, told before any JSON parser sees it."""
    if not body:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return invalid_body(f"the body is not UTF-8 (byte {error.start})")
    if text.startswith("\ufeff"):
        return invalid_body("the body starts with a byte order mark; send UTF-8 JSON without one")
    if "\x00" in text:
        return invalid_body("the body holds a NUL character (UTF-16 or UTF-32 is not accepted)")
    if _depth(text) > MAX_JSON_DEPTH:
        return invalid_body(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels")
    return None


def invalid_body(message: str) -> BrokerError:
    return BrokerError("VALIDATION_ERROR", message, {"errors": [{"loc": ["body"], "msg": message}]})


def _depth(text: str) -> int:
    """The deepest nesting of arrays and objects; brackets inside strings do not count."""
    depth = deepest = 0
    for bracket in BRACKETS.findall(STRINGS.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then listens to the connection as before."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
