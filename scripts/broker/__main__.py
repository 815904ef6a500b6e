"""`python -m scripts.broker`: serve the paper broker (see --help)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys

from scripts.broker.server import serve
from scripts.broker.settings import DEFAULT_ACCOUNT, DEVELOPMENT_TOKEN, BrokerSettings


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
                        help="requests per second per token (default: no limit)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    token = os.environ.get("TRADING_API_TOKEN") or DEVELOPMENT_TOKEN
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
    with contextlib.suppress(KeyboardInterrupt):
        serve(settings, args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
