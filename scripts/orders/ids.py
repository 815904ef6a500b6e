"""Order ids as people type them: `ord_accdefault_abc12345`, `ord_abc12345` or `abc12345`.

The server accepts only full ids; a short id is resolved against the account's own orders.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._http import Client

FULL_ID = re.compile(r"^ord_[a-z0-9]+_[a-z0-9]{8}$")
SHORT_ID = re.compile(r"^(?:ord_)?([a-z0-9]{8})$")
SEARCH_PAGE = 500  # the API's largest page
SEARCH_PAGES = 10  # newest 5,000 orders: far beyond what anyone quotes from memory


class UnknownOrderIdError(LookupError):
    """A short id that matches none (or, in theory, more than one) of the account's orders."""

    def __init__(self, text: str, matches: list[str]) -> None:
        self.text = text
        self.matches = matches
        detail = "matches none of the account's orders" if not matches else f"matches {len(matches)} orders"
        super().__init__(f"order id {text!r} {detail}")


def short_id(order_id: str) -> str:
    """The 8-character tail people quote: `ord_accdefault_abc12345` → `abc12345`."""
    return order_id.rsplit("_", 1)[-1]


def expand_order_id(client: Client, text: str) -> str:
    """The full id for what the user typed; a full id is returned as is (the server checks it)."""
    folded = text.strip().lower()
    if FULL_ID.match(folded):
        return folded
    match = SHORT_ID.match(folded)
    if not match:
        raise UnknownOrderIdError(text, [])
    tail = match.group(1)
    found: list[str] = []
    cursor: str | None = None
    for _ in range(SEARCH_PAGES):
        listing = client.orders(limit=SEARCH_PAGE, cursor=cursor)
        found += [order.order_id for order in listing.orders if short_id(order.order_id) == tail]
        if found or not listing.next_cursor:
            break
        cursor = listing.next_cursor
    if len(found) != 1:
        raise UnknownOrderIdError(text, found)
    return found[0]
