"""Run the broker: in the foreground on a port, or in-process on a free port for tests and the harness."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

from .app import create_app
from .settings import BrokerSettings

STARTUP_TIMEOUT_SECONDS = 10.0


def _config(settings: BrokerSettings, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(create_app(settings), host=host, port=port, log_level=log_level, access_log=False,
                          proxy_headers=False, server_header=False, lifespan="on")


def serve(settings: BrokerSettings, host: str = "127.0.0.1", port: int = 8700, fd: int | None = None) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM end it cleanly); on the listening socket `fd` when given (one
    its parent bound, so the parent knows the address before this process has started)."""
    server = uvicorn.Server(_config(settings, host, port, "warning"))
    server.run(sockets=None if fd is None else [socket.socket(fileno=fd)])


@contextlib.contextmanager
def running_broker(settings: BrokerSettings | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """Start a broker in a background thread on a free port; yields its base URL, stops it on exit."""
    settings = settings or BrokerSettings(sim=True)
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and without it
    # every answer (headers, then body) waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(_config(settings, host, port, "error"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"broker-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the paper broker did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_SECONDS)
        sock.close()
