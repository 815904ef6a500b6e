"""A resolution narrowed by the request's scope: positions on screen, what is kept out, boards, times, extremes.

No I/O. Applied after `resolve_candidates`, so that "茅台以外的都撤" is every open order but 茅台's, "倒数第二个"
is counted from the end of the list the user saw, and "最贵的那笔" is one order. It only ever narrows:
nothing the words did not reach is added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .clues import extract_clues
from .intent import Request
from .lexicon import fold
from .resolve import (
    Order,
    Resolution,
    is_open,
    names_of,
    orders_about,
    resolve_candidates,
    tails_of,
)
from .scope import Scope, in_window, on_board, pick_extreme, read_scope


def resolve_request(request: Request, orders: Sequence[Order], shown: Sequence[Order] = (),
                    focus: Sequence[str] = ()) -> Resolution:
    """The orders a request means: its clues resolved, then narrowed by its scope."""
    clues = request.clues
    found = resolve_candidates(clues, orders, exclude=request.exclude, shown=shown, focus=focus)
    names = tuple(fold(name) for name in names_of(orders))
    return scoped(found, request.scope, orders, shown, names, frozenset(tails_of(orders)),
                  other=clues.other and not clues.plural)


def scoped(found: Resolution, scope: Scope, orders: Sequence[Order], shown: Sequence[Order],
           names: tuple[str, ...] = (), tails: frozenset[str] = frozenset(), other: bool = False) -> Resolution:
    """`found` narrowed by `scope` (orders: the account's, newest first; shown: the list on screen).

    `other`: "招行38.5那个留着，撤另外那个" — the other one is of the same stock as the one kept."""
    if found.kind != "match":
        return found
    current = {order["order_id"]: order for order in orders}
    picked = list(found.orders)
    plural = found.plural
    if scope.positions and shown:
        at = at_positions([current.get(order["order_id"], order) for order in shown], scope.positions)
        if not at:
            return Resolution("none")  # "倒数第九个" of five: no such order, and never all of them
        ids = list(dict.fromkeys(str(order["order_id"]) for order in at))
        picked = [current[i] for i in ids if i in current and is_open(current[i])]
        plural = len(picked) > 1 or plural
    kept_out = excluded_ids(scope.excluded, orders, shown, names, tails)
    if kept_out:
        picked = [order for order in picked if order["order_id"] not in kept_out]
        plural = not other
        if other:
            family = same_stock(kept_out, orders)
            picked = [order for order in picked if order["symbol"] in family] or picked
    if scope.boards:
        picked = [order for order in picked if on_board(order, scope.boards)]
        plural = plural or not scope.singular
    if scope.window:
        picked = [order for order in picked if in_window(order, scope.window)]
        plural = plural or not scope.singular  # "九点半之前挂的": every order of that window
    if scope.superlative:
        picked = pick_extreme(picked, scope.superlative)
        plural = False
    if not picked:
        return Resolution("none")
    return replace(found, orders=tuple(picked), plural=plural)


def at_positions(shown: Sequence[Order], positions: Sequence[int]) -> list[Order]:
    """The orders at these 1-based positions of the list on screen; negative ones count from its end."""
    size = len(shown)
    return [shown[n - 1] if n > 0 else shown[n] for n in positions if 0 < abs(n) <= size]


def same_stock(order_ids: set[str], orders: Sequence[Order]) -> set[str]:
    return {str(order["symbol"]) for order in orders if order["order_id"] in order_ids}


def excluded_ids(texts: Sequence[str], orders: Sequence[Order], shown: Sequence[Order],
                 names: tuple[str, ...] = (), tails: frozenset[str] = frozenset()) -> set[str]:
    """The orders each excluded phrase names: "第2个", "最新那笔", "买单", "那笔科创板的", "茅台"."""
    kept_out: set[str] = set()
    open_orders = [order for order in orders if is_open(order)]
    for text in texts:
        folded = fold(text)
        scope = read_scope(folded, has_list=bool(shown))
        words = folded
        for said in scope.said:
            words = words.replace(said, " ")
        clues = extract_clues(words, names, tails)
        bare = words.strip()
        if shown and bare.isdigit() and 0 < int(bare) <= len(shown):
            scope = replace(scope, positions=(int(bare),))  # "2不要" about a numbered batch: its second
            clues = extract_clues("", names, tails)
        if scope.positions and shown:
            kept_out |= {order["order_id"] for order in at_positions(shown, scope.positions)}
        if clues.points():
            kept_out |= {order["order_id"] for order in orders_about(clues, open_orders, shown)}
        if scope.boards or scope.window or scope.superlative:
            reached = [order for order in open_orders if (not scope.boards or on_board(order, scope.boards))
                       and (not scope.window or in_window(order, scope.window))]
            if scope.superlative:
                reached = pick_extreme(reached, scope.superlative)
            kept_out |= {order["order_id"] for order in reached}
    return kept_out
