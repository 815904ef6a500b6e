"""`python -m scripts.broker`: serve the paper broker (see --help)."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import logging
import os
import signal
import sys
import threading

from .server import serve
from .settings import DEFAULT_ACCOUNT, DEVELOPMENT_TOKEN, BrokerSettings
from .store import StorageError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.broker",
        description="Serve the A-share paper broker: the trading API (v1) over HTTP, state in SQLite. "
                    "TRADING_API_TOKEN sets the bearer token of acc_default.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8700, help="port (default: 8700)")
    parser.add_argument("--db", default=".broker/broker.db",
                        help="SQLite file, or :memory: for a throwaway broker (default: .broker/broker.db)")
    parser.add_argument("--sim", action="store_true", help="enable simulation control under /v1/sim/*")
    parser.add_argument("--demo", action="store_true",
                        help="seed a believable account on a fresh database, keep the market always open and "
                             "move prices on a seeded random walk")
    parser.add_argument("--rate-limit", type=float, default=None, metavar="PER_SECOND",
                        help="requests per second per account, and for all unauthenticated requests together "
                             "(default: no limit)")
    parser.add_argument("--allow-remote", action="store_true",
                        help="serve a non-loopback --host although the development token or --sim is in use "
                             "(/v1/sim/* still answers only on loopback)")
    parser.add_argument("--fd", type=int, default=None, help=argparse.SUPPRESS)  # a listening socket inherited
    parser.add_argument("--exit-with-parent", action="store_true", help=argparse.SUPPRESS)  # ends at EOF on stdin
    return parser.parse_args(argv)


def exit_at_end_of_stdin() -> None:
    """Stop the broker when stdin closes: a parent that holds the pipe's other end (the chat) cannot leave
    this process behind, even when it is killed."""

    def watch() -> None:
        with contextlib.suppress(OSError):
            while sys.stdin.buffer.read(4096):
                pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def exposure_problem(host: str, development_token: bool, sim: bool) -> str | None:
    """Why serving on `host` would expose the account to others, or None when it is loopback or safe."""
    if _is_loopback(host) or not (development_token or sim):
        return None
    reasons = [reason for reason, on in (("the public development token (TRADING_API_TOKEN is unset)",
                                          development_token), ("--sim", sim)) if on]
    return (f"refusing to serve {host} with {' and '.join(reasons)}: anyone who can reach it could trade "
            f"the account. Set TRADING_API_TOKEN and drop --sim, or pass --allow-remote if you mean it.")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    token = os.environ.get("TRADING_API_TOKEN") or DEVELOPMENT_TOKEN
    problem = exposure_problem(args.host, token == DEVELOPMENT_TOKEN, args.sim)
    if problem and not args.allow_remote:
        print(f"broker: {problem}", file=sys.stderr)
        return 2
    settings = BrokerSettings(db=args.db, token=token, sim=args.sim, demo=args.demo,
                              rate_limit_per_second=args.rate_limit)
    modes = [name for name, on in (("demo", args.demo), ("simulation", args.sim)) if on]
    print(f"Paper broker serving {DEFAULT_ACCOUNT} at http://{args.host}:{args.port} "
          f"(database {args.db}{', ' + ' and '.join(modes) + ' mode' if modes else ''})", file=sys.stderr)
    if token == DEVELOPMENT_TOKEN:
        print("TRADING_API_TOKEN is not set: acc_default accepts the development token (see README).",
              file=sys.stderr)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal to the handler found at start:
    # with this one, a SIGTERM ends the process with status 0 like Ctrl-C, not as "killed by a signal".
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.exit_with_parent:
        exit_at_end_of_stdin()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            serve(settings, args.host, args.port, fd=args.fd)
    except StorageError as error:
        print(f"broker: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
