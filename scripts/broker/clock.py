"""The broker's clock: real time, pinned (simulation), or real time with the market always open (demo)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from ..models import SHANGHAI, Phase
from . import rules

ClockMode = Literal["real", "pinned", "always_open"]


def format_ts(moment: datetime) -> str:
    """The one stored and wire form of a time: RFC 3339, Beijing offset, milliseconds (sorts as text)."""
    return moment.astimezone(SHANGHAI).isoformat(timespec="milliseconds")


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass
class MarketClock:
    """What time it is for the broker, and what the market does at that time.

    `always_open` keeps a demo trading at any hour: one endless continuous session, no expiry.
    """

    mode: ClockMode = "real"
    pinned: datetime | None = None

    def now(self) -> datetime:
        if self.mode == "pinned" and self.pinned is not None:
            return self.pinned
        return datetime.now(SHANGHAI)

    def pin(self, moment: datetime) -> None:
        self.mode = "pinned"
        self.pinned = moment.astimezone(SHANGHAI)

    def advance(self, seconds: float) -> datetime:
        self.pin(self.now() + timedelta(seconds=seconds))
        return self.now()

    def phase(self, moment: datetime) -> Phase:
        return "CONTINUOUS" if self.mode == "always_open" else rules.phase_at(moment)

    def exchange_takes_orders(self, moment: datetime) -> bool:
        return self.mode == "always_open" or rules.exchange_takes_orders(moment)

    def cancel_reopens_at(self, moment: datetime) -> datetime | None:
        return None if self.mode == "always_open" else rules.cancel_reopens_at(moment)

    def events(self, after: datetime, until: datetime) -> list[rules.SessionEvent]:
        return [] if self.mode == "always_open" else rules.session_events(after, until)
