"""The reference data the broker ships: listed A-share instruments and the SSE/SZSE trading calendar."""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from ..models import Board, Exchange

DATA_DIR = Path(__file__).with_name("data")
COLUMNS = ("stock_code", "short_name", "exchange", "list_date")  # instruments.csv, in this order


@dataclass(frozen=True, slots=True)
class InstrumentInfo:
    symbol: str
    name: str
    exchange: Exchange
    board: Board

    @property
    def is_risk_warning(self) -> bool:
        """ST and *ST names mark risk-warning stocks, which have a narrower band on the main boards."""
        return normalize_text(self.name).lstrip("*").startswith("ST")


def board_of(symbol: str) -> Board:
    """The board follows from the code's prefix (SSE, SZSE and BSE numbering rules)."""
    if symbol.startswith(("688", "689")):
        return "STAR"
    if symbol.startswith(("300", "301", "302")):
        return "CHINEXT"
    if symbol.startswith(("8", "4", "920")):
        return "BSE"
    return "MAIN"


def normalize_text(text: str) -> str:
    """NFKC folds full-width letters and digits (`万科Ａ` → `万科A`); case is folded for Latin letters."""
    return unicodedata.normalize("NFKC", text).strip().upper()


def normalize_symbol(text: str) -> str:
    """Accept `600519`, `sh600519`, `SH600519`, `600519.SH`; return the six-digit code (or the input)."""
    folded = normalize_text(text).replace(" ", "")
    for prefix in ("SH", "SZ", "BJ"):
        if folded.startswith(prefix) and folded[2:].isdigit():
            return folded[2:]
        if folded.endswith("." + prefix) and folded[:-3].isdigit():
            return folded[:-3]
    return folded


class InstrumentTable(Mapping[str, InstrumentInfo]):
    """Listed instruments by symbol, each row parsed on first use: an answer naming five holdings reads five
    of the file's 5,500 rows, not all of them (a search, which needs every name, reads them all once)."""

    def __init__(self, text: str) -> None:
        lines = text.splitlines()
        if lines[:1] != [",".join(COLUMNS)]:
            raise ValueError(f"instruments.csv: expected the columns {COLUMNS}, found {lines[:1]}")
        # The code is a row's first six characters; a row whose last field (the listing date) is empty is
        # delisted or never traded: left out.
        self._rows = {line[:6]: line for line in lines[1:] if line and not line.endswith(",")}
        self._parsed: dict[str, InstrumentInfo] = {}

    def __getitem__(self, symbol: str) -> InstrumentInfo:
        info = self._parsed.get(symbol)
        if info is None:
            row = next(csv.reader([self._rows[symbol]]))  # KeyError for an unknown symbol, as a dict would
            info = self._parsed[symbol] = InstrumentInfo(symbol, row[1], row[2], board_of(symbol))  # type: ignore[arg-type]
        return info

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


@cache
def instruments() -> InstrumentTable:
    """Listed instruments by symbol; codes with no listing date (delisted or never traded) are left out."""
    return InstrumentTable((DATA_DIR / "instruments.csv").read_text(encoding="utf-8"))


@cache
def _search_index() -> list[tuple[str, str, InstrumentInfo]]:
    return [(info.symbol, normalize_text(info.name), info) for info in instruments().values()]


def search_instruments(query: str, limit: int) -> list[InstrumentInfo]:
    """Instruments whose code or name contains the query; exact code, then prefix, then name matches."""
    needle = normalize_text(query)
    code = normalize_symbol(query)
    if not needle:
        return []
    exact, prefix, by_name = [], [], []
    for symbol, name, info in _search_index():
        if symbol == code:
            exact.append(info)
        elif code.isdigit() and symbol.startswith(code):
            prefix.append(info)
        elif needle in name:
            by_name.append(info)
    return (exact + prefix + by_name)[:limit]


@cache
def trading_calendar() -> dict[date, bool]:
    with (DATA_DIR / "trading_calendar.csv").open(encoding="utf-8") as handle:
        return {date.fromisoformat(row["trade_date"]): row["trade_status"] == "1" for row in csv.DictReader(handle)}


def is_trading_day(day: date) -> bool:
    """From the shipped calendar; outside its years, Monday to Friday."""
    known = trading_calendar().get(day)
    return known if known is not None else day.weekday() < 5
