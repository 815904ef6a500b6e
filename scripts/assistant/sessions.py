"""When the exchanges take no cancels, to answer "现在能撤单吗？" before the user tries.

Beijing time, SSE/SZSE trading rules (in force 2026-07-06): no cancels from 9:20 in the opening call auction
until the continuous session opens at 9:30, nor in the closing call auction 14:57–15:00. Whether a cancel goes
through stays the broker's answer alone (CANCEL_NOT_ALLOWED_NOW): this only answers the question.
"""

from __future__ import annotations

NO_CANCEL_WINDOWS = (("09:20", "09:30"), ("14:57", "15:00"))


def no_cancel_until(moment: str) -> str | None:
    """The end of the no-cancel window `moment` (RFC 3339, Beijing time) falls in, in the same form; else None."""
    clock = moment[11:16]
    for start, end in NO_CANCEL_WINDOWS:
        if start <= clock < end:
            return f"{moment[:11]}{end}:00{moment[-6:]}"
    return None
