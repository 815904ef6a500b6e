"""The paper broker's one settings object."""

from __future__ import annotations

from dataclasses import dataclass, field

from .rules import FeeSchedule

DEFAULT_ACCOUNT = "acc_default"
DEFAULT_CASH = "1000000.00"
# Used only when TRADING_API_TOKEN is unset, so a local paper broker works out of the box; documented in
# the README, so it is no secret: set TRADING_API_TOKEN for anything reachable by others.
DEVELOPMENT_TOKEN = "paper-dev-token"


@dataclass(frozen=True)
class BrokerSettings:
    db: str = ":memory:"
    token: str = DEVELOPMENT_TOKEN
    sim: bool = False  # serve /v1/sim/* (tests, the evaluation harness)
    demo: bool = False  # seed a believable account, always-open clock, prices on a random walk
    demo_seed: int = 20261126
    demo_tick_seconds: float = 2.0
    rate_limit_per_second: float | None = None  # off by default; per token
    rate_limit_burst: int = 20
    fees: FeeSchedule = field(default_factory=FeeSchedule)
