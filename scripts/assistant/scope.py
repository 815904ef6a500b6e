"""The scope of a request: what it keeps out, how many it means, which positions, boards, times, extremes.

Pure text work on folded text, every word from `lexicon.toml`:

- exclusions: "茅台以外的都撤", "除了第2个都撤", "不含招行的全撤了", "全部撤销，五粮液除外", "第1笔不要，其余撤掉";
- a count: "撤三笔", "那两笔" (the orders previewed must be exactly that many, or the assistant asks);
- positions in the list on screen: "倒数第二个", "1到3", "二至四", "最后那两笔", "前两笔";
- boards by code: 创业板, 科创板, 沪市, 深市, 主板, 北交所;
- an extreme: "最贵的", "数量最多的", "金额最小的卖单";
- a time window: "10点以后下的", "九点半之前", "午休时挂的";
- how a list should be ordered: "最新的在前".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from .lexicon import alternation, lexicon, words
from .numerals import chinese_number

Order = dict[str, Any]
NUMERAL = r"\d{1,2}|[一二两俩三四五六七八九十]{1,3}"
UNIT = r"(?:个|笔|单|张|条|只|支|项)"
AFTERNOON_HOURS = range(1, 4)  # "两点以后" in a trading day is 14:00


@dataclass(frozen=True)
class Scope:
    excluded: tuple[str, ...] = ()  # the words of what is kept out, to be read as clues of their own
    keep_rest: bool = False  # "其余/剩下/都": everything but the excluded
    count: int | None = None  # how many orders the user says
    positions: tuple[int, ...] = ()  # in the list on screen, 1-based; negative from its end (-1: the last)
    boards: tuple[tuple[str, ...], ...] = ()  # code prefixes, one tuple per board named
    superlative: tuple[str, str] | None = None  # (price | qty | amount, max | min)
    window: tuple[int, int] | None = None  # placed within [from, to) minutes after midnight
    list_order: Literal["newest", "oldest", "price_high", "price_low"] | None = None
    only: bool = False  # "只撤平安银行的": within what is already on the table
    singular: bool = False  # "那笔", "这个": one order is meant
    said: tuple[str, ...] = ()  # the user's words for these, to echo back

    def filters(self) -> bool:
        return bool(self.boards or self.superlative or self.window)

    def targets(self) -> bool:
        """Words that pick orders out by themselves ("创业板的", "倒数第二个", "茅台以外的")."""
        return bool(self.filters() or self.positions or self.excluded)


def _number(token: str) -> int:
    if token.isdigit():
        return int(token)
    value = chinese_number(token)
    return int(value) if value is not None else 0


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    before = alternation(words("exclusion", "before"))
    after = alternation(words("exclusion", "after"))
    rest = alternation(words("exclusion", "rest"))
    keep = alternation(words("exclusion", "keep"))
    joiners = alternation(words("position", "range_joiners"))
    last_n = alternation(words("position", "last_n"))
    first_n = alternation(words("position", "first_n"))
    return {
        "before": re.compile(rf"(?:{before})(?!外)\s*(?P<x>.+?)\s*"
                             rf"(?:(?:{after})\s*的?|的(?=\s*(?:{rest}))|(?=\s*(?:{rest}))|$)"),
        "after": re.compile(rf"(?P<x>[^,，;；]+?)\s*(?:{after})\s*的?"),
        "keep": re.compile(rf"(?P<x>.+?)\s*(?:{keep})\s*$"),
        "rest": re.compile(rest),
        "from_end": re.compile(rf"(?:{alternation(words('position', 'from_end'))})\s*(?P<n>{NUMERAL})\s*{UNIT}?"),
        "range": re.compile(rf"第?\s*(?P<a>{NUMERAL})\s*{UNIT}?\s*(?:{joiners})\s*第?\s*(?P<b>{NUMERAL})\s*{UNIT}?"),
        "last_n": re.compile(rf"(?:{last_n})\s*(?:那|这)?\s*(?P<n>{NUMERAL})\s*{UNIT}"),
        "first_n": re.compile(rf"(?:{first_n})\s*(?:那|这)?\s*(?P<n>{NUMERAL})\s*{UNIT}"),
        "count": re.compile(rf"(?<![第前后数\d.])(?P<n>\d{{1,2}}|[两二俩三四五六七八九十])\s*{UNIT}"),
        "newest": re.compile(alternation(words("position", "newest_first"))),
        "oldest": re.compile(alternation(words("position", "oldest_first"))),
        "price_high": re.compile(alternation(words("position", "price_high_first"))),
        "price_low": re.compile(alternation(words("position", "price_low_first"))),
    }


def read_scope(folded: str, has_list: bool = False) -> Scope:
    """The scope words of one message; `has_list`: a numbered list is on screen (positions refer to it)."""
    rx = _patterns()
    positive, excluded = split_exclusions(folded)
    text = positive
    said: list[str] = []
    positions: list[int] = []
    for match in rx["from_end"].finditer(text):
        positions.append(-_number(match["n"]))
        said.append(match[0])
    text = rx["from_end"].sub(" ", text)
    if has_list:
        for match in rx["range"].finditer(text):
            a, b = _number(match["a"]), _number(match["b"])
            if 0 < a <= b <= 50:
                positions += list(range(a, b + 1))
                said.append(match[0])
        text = rx["range"].sub(" ", text)
    count = None
    for match in rx["last_n"].finditer(text):
        n = _number(match["n"])
        positions += list(range(-n, 0))
        count = n
        said.append(match[0])
    text = rx["last_n"].sub(" ", text)
    for match in rx["first_n"].finditer(text):
        n = _number(match["n"])
        positions += list(range(1, n + 1))
        count = n
        said.append(match[0])
    text = rx["first_n"].sub(" ", text)
    counted = [match for match in rx["count"].finditer(text) if not _is_ordinal_context(text, match.start())]
    if counted:
        count = _number(counted[0]["n"])  # left in the text: "刚下的两单" is also the two newest
    boards, board_words = find_boards(text)
    superlative, superlative_word = _superlative(text)
    window, window_words = _window(text)
    orderings = {kind: [m[0] for m in rx[kind].finditer(folded)] for kind in ("newest", "oldest", "price_high",
                                                                              "price_low")}
    list_order = next((kind for kind, found in orderings.items() if found), None)
    said += [word for found in orderings.values() for word in found]  # "最新的在前" orders a list, picks nothing
    only = bool(re.search(alternation(words("scope", "only")), positive))
    singular = bool(re.search(r"[那这]一?[笔个单只条](?!几)|一笔|一单|\bone\b", positive))
    keep_rest = bool(excluded) or bool(rx["rest"].search(positive))
    return Scope(excluded=tuple(excluded), only=only, singular=singular, keep_rest=keep_rest,
                 count=count, positions=tuple(positions),
                 boards=boards, superlative=superlative, window=window, list_order=list_order,
                 said=tuple(said + board_words + superlative_word + window_words))


def _is_ordinal_context(text: str, start: int) -> bool:
    """"第三个" is a position, "这一笔"/"一个" alone is no count worth checking."""
    return start > 0 and text[start - 1] in "第前后数"


def split_exclusions(folded: str, batch: bool = False) -> tuple[str, list[str]]:
    """The message without what it keeps out, and the words of each thing kept out.

    "X不要/留着" keeps X out beside a clause that acts on the rest ("第1笔不要，其余撤掉"), or when a batch
    of orders awaits a yes (`batch`: "2不要"); alone otherwise it is a refusal, read elsewhere.
    """
    rx = _patterns()
    clauses = [clause for clause in re.split(r"[,，;；。]", folded) if clause.strip()]
    excluded: list[str] = []
    kept_clauses: list[str] = []
    acting = re.compile(alternation(words("request", "cancel_verbs")))
    has_rest = batch or (len(clauses) > 1 and any(
        rx["rest"].search(clause) or (acting.search(clause) and not rx["keep"].search(clause.strip()))
        for clause in clauses))
    for clause in clauses:
        rest = clause
        match = rx["before"].search(rest)
        if match and match["x"].strip():
            excluded.append(match["x"].strip())
            rest = rest[:match.start()] + " " + rest[match.end():]
        else:
            match = rx["after"].search(rest)
            if match and match["x"].strip():
                excluded.append(match["x"].strip())
                rest = rest[:match.start()] + " " + rest[match.end():]
            elif has_rest and not rx["rest"].search(clause):
                keep = rx["keep"].search(clause.strip())
                if keep and keep["x"].strip():
                    excluded.append(keep["x"].strip())
                    rest = ""
        if rest.strip():
            kept_clauses.append(rest.strip())
    return ",".join(kept_clauses), excluded


@cache
def _boards() -> list[tuple[str, tuple[str, ...]]]:
    pairs = [(word, tuple(entry["prefixes"])) for entry in lexicon()["board"] for word in entry["words"]]
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def find_boards(text: str) -> tuple[tuple[tuple[str, ...], ...], list[str]]:
    found: list[tuple[str, ...]] = []
    said: list[str] = []
    for word, prefixes in _boards():
        pattern = alternation([word])
        if re.search(pattern, text):
            found.append(prefixes)
            said.append(word)
            text = re.sub(pattern, " ", text)
    return tuple(found), said


def on_board(order: Order, boards: Sequence[tuple[str, ...]]) -> bool:
    symbol = str(order.get("symbol") or "")
    return all(symbol.startswith(prefixes) for prefixes in boards)


def _superlative(text: str) -> tuple[tuple[str, str] | None, list[str]]:
    for entry in lexicon()["superlative"]:
        match = re.search(alternation(entry["words"]), text)
        if match:
            return (entry["figure"], entry["pick"]), [match[0]]
    return None, []


def pick_extreme(orders: Sequence[Order], superlative: tuple[str, str]) -> list[Order]:
    """The one order with the largest or smallest figure (every order tied for it, if several are)."""
    if not orders:
        return []
    figure, pick = superlative

    def value(order: Order) -> float:
        price = float(order.get("limit_price") or 0)
        qty = float(order.get("remaining_qty") or order.get("qty") or 0)
        return price if figure == "price" else qty if figure == "qty" else price * qty

    best = (max if pick == "max" else min)(value(order) for order in orders)
    return [order for order in orders if value(order) == best]


HOUR = (r"(?P<h>\d{1,2}|[一二两三四五六七八九十]{1,3})\s*(?:点|:|：)\s*"
        r"(?P<m>半|\d{1,2}|[一二三四五六七八九十零]{1,3})?\s*分?")


def _window(text: str) -> tuple[tuple[int, int] | None, list[str]]:
    lunch_words = alternation(words("time", "lunch"))
    lunch = re.search(rf"(?:{lunch_words})(?:时|的时候|期间|那会儿?|那时候?)?\s*(?:挂|下|报|提交|买|卖)", text)
    if lunch:  # "午休时挂的"; not "中午休市能撤单吗"
        return (11 * 60 + 30, 13 * 60), [lunch[0][:-1]]
    after = alternation(words("time", "after"))
    before = alternation(words("time", "before"))
    match = re.search(rf"{HOUR}\s*(?P<dir>{after}|{before})", text)
    if not match:
        return None, []
    hour = _number(match["h"])
    minute = 30 if match["m"] == "半" else _number(match["m"]) if match["m"] else 0
    if hour in AFTERNOON_HOURS or ("下午" in text and hour < 12):
        hour += 12
    at = hour * 60 + minute
    return ((at, 24 * 60) if re.fullmatch(after, match["dir"]) else (0, at)), [match[0]]


def minute_of(order: Order) -> int:
    created = str(order.get("created_at") or "")
    try:
        return int(created[11:13]) * 60 + int(created[14:16])
    except ValueError:
        return -1


def in_window(order: Order, window: tuple[int, int]) -> bool:
    return window[0] <= minute_of(order) < window[1]
