"""Order operations shared by the command line and the assistant: ids as people type them, compact views of an
order, and cancels by id that learn each order's real outcome.

    from . import cancel_by_ids, expand_order_id, order_summary

Everything goes through the typed `scripts._http.Client`; nothing here builds a URL.
"""

from .cancelling import UNCLEAR_OUTCOMES, cancel_by_ids, cancel_with_messages
from .ids import UnknownOrderIdError, expand_order_id, short_id
from .views import cancels_reopen_at, order_detail, order_summary, preview_totals, price_change, would_release

__all__ = [
    "UNCLEAR_OUTCOMES",
    "UnknownOrderIdError",
    "cancel_by_ids",
    "cancel_with_messages",
    "cancels_reopen_at",
    "expand_order_id",
    "order_detail",
    "order_summary",
    "preview_totals",
    "price_change",
    "short_id",
    "would_release",
]
