"""Order resolution: from what the user said and the account's orders to the orders they mean. No I/O.

    request = read_request(text, names_of(orders), tails_of(orders))
    found = resolve_candidates(request.clues, orders, exclude=request.exclude, shown=..., focus=...)

`orders` are the account's order summaries, newest first (as `list_orders` gives them). NEW and WORKING
orders are the candidates; a finished order is reported, never proposed. "刚才那单" is the newest order
that fits: if it has already finished, that is what the user hears (`newest_finished`), not an older one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from ..models import OPEN_STATES
from ..orders import short_id
from .clues import Clues, NameMention, fold
from .numerals import matches_number
from .scope import minute_of

TIME_TOLERANCE_MINUTES = 2  # "10:30那笔" is the order placed at 10:31:44 too

Order = dict[str, Any]
Kind = Literal["match", "none", "finished", "newest_finished", "unknown_ids"]


@dataclass(frozen=True)
class Resolution:
    kind: Kind
    orders: tuple[Order, ...] = ()  # the open orders that fit
    finished: tuple[Order, ...] = ()  # finished orders the words point at
    unknown_ids: tuple[str, ...] = ()
    plural: bool = False  # the user means every one of `orders`, not one of them


def chronological(orders: Sequence[Order]) -> list[Order]:
    """Oldest first, the order lists are numbered in (the account's listing is newest first)."""
    # The listing puts the later of two orders with the same created_at first: a higher index is older.
    indexed = sorted(enumerate(orders), key=lambda pair: (str(pair[1].get("created_at") or ""), -pair[0]))
    return [order for _, order in indexed]


def is_open(order: Order) -> bool:
    return order["state"] in OPEN_STATES


def names_of(orders: Sequence[Order]) -> list[str]:
    return [order["name"] for order in orders if order.get("name")]


def tails_of(orders: Sequence[Order]) -> list[str]:
    return [short_id(order["order_id"]) for order in orders]


def resolve_candidates(clues: Clues, orders: Sequence[Order], *, exclude: Clues | None = None,
                       shown: Sequence[Order] = (), focus: Sequence[str] = ()) -> Resolution:
    """The orders `clues` point at among `orders` (newest first).

    `shown` is the numbered list the user last saw (for "第二个"), `focus` the ids the last reply was about
    (for "剩下的撤了吧", which names nothing).
    """
    current = {order["order_id"]: order for order in orders}
    if clues.order_ids:
        return _by_ids(clues.order_ids, orders)
    picked = _by_position(clues, [current.get(order["order_id"], order) for order in shown])
    if picked is not None:
        return picked
    if clues.ordinals and not shown:
        # "第二个" with no list in front of the user: which order that is, is theirs to say.
        clues = replace(clues, ordinals=(), plural=False, everything=False)
    if clues.back and focus and not (clues.symbols or clues.names):
        back = _referred_back(clues, current, focus)
        if back is not None:
            return back
    fits = [order for order in orders if _fits(order, clues) and not _excluded(order, exclude)]
    if clues.other:
        fits = [order for order in fits if order["order_id"] not in focus]
    if clues.recent or (clues.last_of_list and not shown):
        return _newest(fits, max(clues.recent, 1))
    open_fits = [order for order in fits if is_open(order)]
    if clues.earliest:
        return Resolution("match", tuple(open_fits[-1:])) if open_fits else Resolution("none")
    if not clues.narrows() and not clues.everything and not clues.other and focus:
        focused = [current[order_id] for order_id in focus if order_id in current]
        focused = [order for order in focused if is_open(order) and not _excluded(order, exclude)]
        if focused:
            return Resolution("match", tuple(focused), plural=True)
    finished = [order for order in fits if not is_open(order)]
    if open_fits:
        return Resolution("match", tuple(open_fits), _finished_only(clues, open_fits, finished),
                          plural=_plural(clues, open_fits))
    if clues.narrows() and finished:
        return Resolution("finished", finished=tuple(finished))
    return Resolution("none")


def orders_about(clues: Clues, orders: Sequence[Order], shown: Sequence[Order] = (),
                 focus: Sequence[str] = ()) -> list[Order]:
    """Every order (any state) a question is about: "中国平安那笔成交了多少？", "刚才那单成交了吗"."""
    if clues.order_ids:
        wanted = set(clues.order_ids)
        return [o for o in orders if o["order_id"] in wanted or short_id(o["order_id"]) in wanted]
    picked = _by_position(clues, list(shown))
    if picked is not None:
        return list(picked.orders + picked.finished)
    fits = [order for order in orders if _fits(order, clues)]
    if clues.recent:
        return fits[:clues.recent]
    if not clues.narrows() and focus:
        return [order for order in orders if order["order_id"] in focus]
    return fits


def narrow(clues: Clues, candidates: Sequence[Order], exclude: Clues | None = None) -> list[Order]:
    """The candidates the user just shown a list picks with their words ("平安银行那笔", "卖的那个")."""
    if not (clues.narrows() or clues.order_ids):
        return []
    if clues.order_ids:
        wanted = set(clues.order_ids)
        return [o for o in candidates if o["order_id"] in wanted or short_id(o["order_id"]) in wanted]
    return [order for order in candidates if _fits(order, clues) and not _excluded(order, exclude)]


def _referred_back(clues: Clues, current: dict[str, Order], focus: Sequence[str]) -> Resolution | None:
    """"就刚才问的那笔": the orders the last reply was about, not the newest."""
    focused = [current[order_id] for order_id in focus if order_id in current and _fits(current[order_id], clues)]
    open_focused = tuple(order for order in focused if is_open(order))
    if open_focused:
        return Resolution("match", open_focused, plural=len(open_focused) > 1 and clues.plural)
    if focused:
        return Resolution("finished", finished=tuple(focused))
    return None


def _by_ids(ids: Sequence[str], orders: Sequence[Order]) -> Resolution:
    found: list[Order] = []
    unknown: list[str] = []
    for wanted in ids:
        match = next((o for o in orders if wanted in (o["order_id"], short_id(o["order_id"]))), None)
        if match is None:
            unknown.append(wanted)
        elif match not in found:
            found.append(match)
    open_found = tuple(order for order in found if is_open(order))
    finished = tuple(order for order in found if not is_open(order))
    if open_found:
        return Resolution("match", open_found, finished, tuple(unknown), plural=True)
    if finished:
        return Resolution("finished", finished=finished, unknown_ids=tuple(unknown))
    return Resolution("unknown_ids", unknown_ids=tuple(unknown))


def _by_position(clues: Clues, shown: list[Order]) -> Resolution | None:
    if not shown or not (clues.ordinals or clues.last_of_list):
        return None
    positions = [n for n in clues.ordinals if 1 <= n <= len(shown)] + ([len(shown)] if clues.last_of_list else [])
    if not positions:
        return Resolution("none")  # "第三个" of a list of two: no such order, and never all of them
    picked = [shown[n - 1] for n in dict.fromkeys(positions)]
    open_picked = tuple(order for order in picked if is_open(order))
    finished = tuple(order for order in picked if not is_open(order))
    if open_picked:
        return Resolution("match", open_picked, finished, plural=True)
    return Resolution("finished", finished=finished)


def _newest(fits: list[Order], count: int) -> Resolution:
    if not fits:
        return Resolution("none")
    if not is_open(fits[0]):
        return Resolution("newest_finished", tuple(o for o in fits if is_open(o)), finished=(fits[0],))
    newest = [order for order in fits if is_open(order)][:count]
    return Resolution("match", tuple(newest), plural=count > 1)


def _plural(clues: Clues, open_fits: list[Order]) -> bool:
    if clues.single:
        return False
    if clues.plural or clues.everything or _several_prices(clues):
        return True
    # "茅台和五粮液" names two stocks: both, when each name fits exactly one open order.
    named = list(clues.names) + [NameMention(code, (), (code,)) for code in clues.symbols]
    if len(named) < 2:
        return False
    return all(sum(_mentions(order, mention) for order in open_fits) == 1 for mention in named)


def _finished_only(clues: Clues, open_fits: list[Order], finished: list[Order]) -> tuple[Order, ...]:
    """"五粮液和茅台": the newest finished order of each stock named that has no open order, to be said."""
    named = [*clues.names, *(NameMention(code, (), (code,)) for code in clues.symbols)]
    if len(named) < 2:
        return ()
    said = []
    for mention in named:
        if not any(_mentions(order, mention) for order in open_fits):
            said += [order for order in finished if _mentions(order, mention)][:1]
    return tuple({order["order_id"]: order for order in said}.values())


def _mentions(order: Order, mention: NameMention) -> bool:
    name = fold(order.get("name") or "")
    return any(part and part in name for part in mention.names) or order["symbol"] in mention.symbols


def _fits(order: Order, clues: Clues) -> bool:
    if (clues.symbols or clues.names) and not (
            order["symbol"] in clues.symbols or any(_mentions(order, mention) for mention in clues.names)):
        return False
    if clues.side and order["side"] != clues.side:
        return False
    if not _numbers_fit(order, clues):
        return False
    if clues.period and not clues.period[0] <= minute_of(order) < clues.period[1]:
        return False
    if clues.partial and not (order.get("filled_qty") or 0) > 0:
        return False
    return not clues.times or any(abs(minute_of(order) - t) <= TIME_TOLERANCE_MINUTES for t in clues.times)


def _several_prices(clues: Clues) -> bool:
    """"38.5和38.8那两笔": two prices name two orders, each its own."""
    values = {number.value for number in clues.numbers}
    return len(values) > 1 and all(number.kind in ("price", "any") for number in clues.numbers)


def _numbers_fit(order: Order, clues: Clues) -> bool:
    if _several_prices(clues):
        return any(matches_number(order, number) for number in clues.numbers)
    return all(matches_number(order, number) for number in clues.numbers)


def _excluded(order: Order, exclude: Clues | None) -> bool:
    if exclude is None or not exclude.narrows():
        return False
    return _fits(order, exclude)
