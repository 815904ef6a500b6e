"""A tiny real HTTP server (stdlib, in a thread) whose answers a test sets per method and path.

It stands in for a broken back end or a proxy: answers the paper broker never gives.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class OddServer:
    url: str
    # (method, path without query) -> (status, body); "{auth}" in a body becomes the Authorization header sent.
    answers: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    seen: list[tuple[str, str]] = field(default_factory=list)

    def answer(self, method: str, path: str, status: int, body: Any) -> None:
        self.answers[(method, path)] = (status, body if isinstance(body, str) else json.dumps(body))


@contextlib.contextmanager
def odd_server() -> Iterator[OddServer]:
    state = OddServer("")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            path = self.path.split("?", 1)[0]
            state.seen.append((self.command, self.path))
            status, body = state.answers.get((self.command, path), (404, '{"detail": "Not Found"}'))
            payload = body.replace("{auth}", self.headers.get("Authorization", "")).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_DELETE = do_POST = _answer  # noqa: N815 (http.server's naming)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
