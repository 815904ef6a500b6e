"""Every clue in a message that picks orders out: ids, codes, names, side, price, quantity, time, recency,
ordinals, 全部. Pure text work over the account's own order names and id tails (no I/O).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import phrases as p
from .lexicon import fold as fold_text
from .numerals import NumberMention, chinese_number, number_mentions
from .stock_names import ENGLISH_NAMES, NICKNAMES

CONSUMED = "\x00"
NUMERAL_CHARS = re.compile(r"[0-9零〇一二两三四五六七八九十百千万点.,]")
MIN_LATIN_NAME = 3  # "tcl" is a name; "st" inside "last" is not


@dataclass(frozen=True)
class NameMention:
    text: str  # as the user wrote it
    names: tuple[str, ...]  # folded short names (or parts of them) it stands for
    symbols: tuple[str, ...] = ()  # codes an instrument look-up found for it


@dataclass(frozen=True)
class Clues:
    order_ids: tuple[str, ...] = ()  # full ids or 8-character tails
    symbols: tuple[str, ...] = ()
    names: tuple[NameMention, ...] = ()
    side: str | None = None
    numbers: tuple[NumberMention, ...] = ()
    times: tuple[int, ...] = ()  # minutes after midnight
    period: tuple[int, int] | None = None  # placed between these minutes after midnight (上午, 下午)
    partial: bool = False  # "部分成交的那笔"
    recent: int = 0  # the n newest ("刚才那单": 1)
    earliest: bool = False
    ordinals: tuple[int, ...] = ()  # 1-based positions in the list the user saw
    last_of_list: bool = False
    everything: bool = False
    plural: bool = False  # "都", "这两笔": every order that fits, not one of them
    single: bool = False  # "撤一个": one of them
    additive: bool = False  # "也": these as well as the orders just talked about
    other: bool = False  # "另外那笔": not the orders just talked about
    back: bool = False  # "就刚才问的那笔", "就这笔": the orders just talked about
    unknown_words: tuple[str, ...] = ()  # words left unexplained: maybe a stock the account has no order in
    extended_names: tuple[tuple[str, str], ...] = ()  # (name part, the longer word around it) to look up
    said: tuple[str, ...] = ()  # the user's own words for the clues, to echo back

    def narrows(self) -> bool:
        """Filters on the orders' own fields (stock, side, price, quantity, time, fills)."""
        return bool(self.symbols or self.names or self.side or self.numbers or self.times or self.partial
                    or self.period)

    def points(self) -> bool:
        """Anything that picks orders out."""
        return bool(self.order_ids or self.narrows() or self.recent or self.earliest or self.ordinals
                    or self.last_of_list or self.other or self.back)


def fold(text: str) -> str:
    """The lexicon's folding (NFKC, traditional → simplified, lower case), Chinese stops as commas."""
    return fold_text(text).replace("。", ",").replace("、", ",").replace("：", ":").strip()


class _Work:
    """The text being read: every part that has been understood is blanked out, so it is read once."""

    def __init__(self, text: str) -> None:
        self.original = text
        self.text = text

    def take(self, start: int, end: int) -> None:
        self.text = self.text[:start] + CONSUMED * (end - start) + self.text[end:]

    def take_all(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        found = list(pattern.finditer(self.text))
        for match in found:
            self.take(match.start(), match.end())
        return found


def extract_clues(text: str, names: tuple[str, ...] = (), tails: frozenset[str] = frozenset()) -> Clues:
    """Every clue in (folded) `text`: ids, codes, names, side, prices and quantities, recency, ordinals, 全部."""
    work = _Work(text)
    said: list[str] = []
    back = bool(work.take_all(p.BACK_REFERENCE))
    ids = [match[0] for match in work.take_all(p.FULL_ID)]
    ids += [match[1] for match in work.take_all(p.PREFIXED_SHORT_ID)]
    for match in list(p.TOKEN8.finditer(work.text)):
        token = match[1]
        id_like = bool(re.search(r"\d", token) and re.search(r"[a-z]", token)) and not p.PREFIXED_CODE.match(token)
        if token in tails or id_like:
            ids.append(token)
            work.take(match.start(), match.end())
    said += ids
    codes = work.take_all(p.CODE)
    said += [match[0].strip() for match in codes]
    times = [_minutes(match[1], match[2]) for match in work.take_all(p.CLOCK_TIME)]
    times += [_minutes(match[1], "30" if match[2] == "半" else match[3]) for match in work.take_all(p.SPOKEN_TIME)]
    mentions, spans = _names(work, names)
    said += [mention.text for mention in mentions]
    ordinals, last_of_list = _ordinals(work)
    recent_count = work.take_all(p.RECENT_COUNT)
    numbers = number_mentions(work.text)
    said += [number.text for number in numbers]
    rest = work.text
    buy, sell = bool(p.BUY.search(rest)), bool(p.SELL.search(rest))
    side_word = re.search(r"买单|卖单|买入|卖出|买的|卖的|\bbuy\b|\bsell\b", rest)
    if side_word and buy != sell:
        said.append(side_word[0])
    recent = _number(recent_count[0][1]) if recent_count else int(bool(p.RECENT.search(rest)))
    unknown, extended = _residue(work, spans)
    return Clues(
        order_ids=tuple(dict.fromkeys(ids)), symbols=tuple(dict.fromkeys(match[1] for match in codes)),
        names=tuple(mentions), side=("BUY" if buy else "SELL") if buy != sell else None, numbers=tuple(numbers),
        times=tuple(time for time in times if time is not None), period=_period(rest),
        partial=bool(p.PARTIAL.search(rest)),
        recent=recent, earliest=bool(p.EARLIEST.search(rest)), ordinals=tuple(ordinals), last_of_list=last_of_list,
        everything=bool(p.EVERYTHING.search(rest)),
        plural=bool(p.PLURAL.search(rest)) or len(ids) > 1 or len(ordinals) > 1 or recent > 1,
        single=bool(p.SINGLE.search(rest)), additive=bool(p.ADDITIVE.search(rest)),
        other=bool(p.OTHER.search(rest)), back=back, unknown_words=tuple(unknown), extended_names=tuple(extended),
        said=tuple(dict.fromkeys(said)),
    )


NOON = 12 * 60
DAY = 24 * 60


def _period(text: str) -> tuple[int, int] | None:
    morning, afternoon = bool(p.MORNING.search(text)), bool(p.AFTERNOON.search(text))
    if morning == afternoon:
        return None
    return (0, NOON) if morning else (NOON, DAY)


def _number(token: str) -> int:
    if token.isdigit():
        return int(token)
    value = chinese_number(token)
    return int(value) if value is not None else 0


def _minutes(hour: str, minute: str | None) -> int | None:
    hours, minutes = _number(hour), _number(minute or "0")
    return hours * 60 + minutes if 0 <= hours < 24 and 0 <= minutes < 60 else None


def _is_name_char(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or (char.isascii() and char.isalnum())


def _names(work: _Work, names: tuple[str, ...]) -> tuple[list[NameMention], list[tuple[int, int]]]:
    """Stock names: the longest pieces of the text that are part of an order's name, and known nicknames."""
    text = work.text
    found: list[tuple[int, int, tuple[str, ...]]] = []
    # `key in text` first: a plain substring test, so only the few names the text holds reach a regex.
    for key, canonical in NICKNAMES.items():
        if key in text:
            found += [(m.start(), m.end(), (canonical, key) if key in canonical else (canonical,))
                      for m in re.finditer(re.escape(key), text)]
    for key, canonical in ENGLISH_NAMES.items():
        if key in text:
            found += [(m.start(), m.end(), (canonical,)) for m in re.finditer(rf"\b{re.escape(key)}\b", text)]
    for start in range(len(text)):
        end = start
        while end < len(text) and _is_name_char(text[end]) and any(text[start:end + 1] in name for name in names):
            end += 1
        piece = text[start:end]
        if len(piece) < 2:
            continue
        if piece.isascii() and (len(piece) < MIN_LATIN_NAME or not re.search(
                rf"(?<![a-z0-9]){re.escape(piece)}(?![a-z0-9])", text[max(0, start - 1):end + 1])):
            continue
        found.append((start, end, (piece,)))
    kept: dict[tuple[int, int], set[str]] = {}
    for start, end, stands_for in found:
        if any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in found):
            continue  # inside a longer name: "平安" within "平安银行"
        kept.setdefault((start, end), set()).update(stands_for)
    mentions, spans = [], []
    for (start, end), stands_for in sorted(kept.items()):
        mentions.append(NameMention(text[start:end], tuple(sorted(stands_for))))
        spans.append((start, end))
    for start, end in spans:
        work.take(start, end)
    return mentions, spans


def _ordinals(work: _Work) -> tuple[list[int], bool]:
    ordinals = [_number(match[1]) for match in work.take_all(p.ORDINAL)]
    for match in work.take_all(p.FIRST_N):
        ordinals += list(range(1, _number(match[1]) + 1))
    for match in work.take_all(p.ORDINAL_EN):
        ordinals.append(p.ENGLISH_ORDINALS[match[1]] if match[1] else int(match[2]))
    last = bool(work.take_all(p.LAST_ONE))
    return [n for n in dict.fromkeys(ordinals) if n > 0], last


def _residue(work: _Work, spans: list[tuple[int, int]]) -> tuple[list[str], list[tuple[str, str]]]:
    """Chinese words nothing above explained, and name parts that sit inside a longer unexplained word
    ("中国" of 中国平安 inside "中国电建")."""
    text = p.FUNCTION_WORD.sub(lambda m: CONSUMED * len(m[0]), work.text)
    text = NUMERAL_CHARS.sub(CONSUMED, text)
    extended: list[tuple[str, str]] = []
    beside: set[int] = set()
    for start, end in spans:
        left, right = start, end
        while left > 0 and "\u4e00" <= text[left - 1] <= "\u9fff":
            left -= 1
        while right < len(text) and "\u4e00" <= text[right] <= "\u9fff":
            right += 1
        if left < start or right > end:
            beside.update(range(left, right))
            extended.append((work.original[start:end], work.original[left:right]))
    unknown = [match[0] for match in p.CJK_RUN.finditer(text) if match.start() not in beside]
    return unknown, extended
