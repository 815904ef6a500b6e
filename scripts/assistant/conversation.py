"""What the last reply put in front of the user, and how their next message is read against it.

"第二个" and "2" are positions in the numbered list they saw; "剩下的撤了吧" is about the order just talked
about; "招行那笔也撤了" adds to it; "只撤买单" narrows a previewed batch and stays a batch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .clues import Clues
from .numerals import matches_number
from .resolve import Order, Resolution, is_open


@dataclass(frozen=True)
class Context:
    """What the last reply showed or asked."""

    shown: tuple[Order, ...] = ()  # a numbered list
    asked_choice: bool = False  # the list was the question "要撤哪一笔？"
    previewed: tuple[str, ...] = ()  # the ids of a preview awaiting a yes
    asked_again: bool = False  # that question was already the shorter repeat
    focus: tuple[str, ...] = ()  # the orders the reply was about


def positions_from_numbers(clues: Clues, shown: tuple[Order, ...]) -> Clues:
    """After a numbered list, "2" or "1和3" are positions in it (unless they are a price or a quantity there)."""
    if not shown or (clues.narrows() and not clues.numbers) or clues.names or clues.symbols or clues.side:
        return clues
    small = [number for number in clues.numbers if number.kind == "any" and number.value == int(number.value)
             and 1 <= number.value <= len(shown)]
    if not small or len(small) != len(clues.numbers):
        return clues
    if any(matches_number(order, number) for order in shown for number in small):
        return clues
    positions = tuple(int(number.value) for number in small)
    return replace(clues, numbers=(), ordinals=clues.ordinals + positions, plural=clues.plural or len(positions) > 1)


def with_context(found: Resolution, clues: Clues, orders: list[Order], before: Context) -> Resolution:
    """"招行那笔也撤了" adds to the orders just talked about; narrowing a previewed batch keeps it a batch."""
    if found.kind != "match":
        return found
    if clues.additive and before.focus:
        current = {order["order_id"]: order for order in orders}
        earlier = [current[i] for i in before.focus if i in current and is_open(current[i])]
        merged = tuple({order["order_id"]: order for order in (*earlier, *found.orders)}.values())
        return replace(found, orders=merged, plural=True)
    if len(before.previewed) > 1 and {order["order_id"] for order in found.orders} <= set(before.previewed):
        return replace(found, plural=not clues.single)
    return found
