"""The Claude engine's conversation, and the bounded view of it each model call sends.

The history keeps every message of the turns it holds. A call sends:

- the latest `recent_turns` user turns whole (the preview a "确认" answers is in the turn before it);
- older turns shortened: each tool result cut to what later turns can need (ids, names, sides, states,
  quantities, amounts; no texts, fills or histories; lists to their first LIST_KEEP items), and their
  thinking blocks left out (the API allows that for earlier turns). The shortening is a fixed function of
  the message, so the prefix a call sends is the prefix the next call sends, and the prompt cache holds;
- when the whole still exceeds `budget_chars`, every tool result but the newest round's shortened too, and
  the oldest turns dropped for good until it fits in LOW_WATER of the budget (dropping rarely, not on every
  call, keeps the cached prefix stable in between);
- a cache breakpoint on the last block, so the next call reads the conversation so far from the prompt
  cache (on top of the breakpoint that caches the tools and the system prompt).
"""

from __future__ import annotations

import copy
import json
from typing import Any

RECENT_TURNS = 2
BUDGET_CHARS = 60_000  # JSON characters of the messages per call: about 20,000 tokens, far inside any window
MIN_BUDGET_CHARS = 8_000
LOW_WATER = 0.6
LIST_KEEP = 20
CACHE_BREAKPOINT = {"type": "ephemeral"}

# What a shortened tool result keeps: the facts a later turn may refer to.
KEPT_FIELDS = frozenset({
    "order_id", "short_id", "symbol", "name", "side", "qty", "limit_price", "filled_qty", "cancelled_qty",
    "remaining_qty", "frozen_cash", "state", "ok", "code", "reason", "order_ids", "total_cash", "total_qty",
    "truncated", "next_cursor", "available", "frozen", "total", "qty_sellable", "phase", "accepts_cancels",
    "trading_day", "updated_at", "cash",
})
DROPPED_FIELDS = frozenset({"state_history", "fills", "text", "user_message", "recovery_hint", "details",
                            "message", "next", "more"})


class History:
    def __init__(self, budget_chars: int = BUDGET_CHARS, recent_turns: int = RECENT_TURNS) -> None:
        self.messages: list[dict[str, Any]] = []
        self.turn_starts: list[int] = []  # where each user turn begins in `messages`
        self.budget_chars = budget_chars
        self.recent_turns = recent_turns

    def start_turn(self, text: str) -> int:
        """Open a user turn with the user's words; returns where it starts (for `rollback`)."""
        mark = len(self.messages)
        self.turn_starts.append(mark)
        self.messages.append({"role": "user", "content": [{"type": "text", "text": text}]})
        return mark

    def rollback(self, mark: int, text: str, sentence: str) -> None:
        """Replace the turn from `mark` with a plain exchange: the user's words and the sentence shown."""
        del self.messages[mark:]
        self.messages.append({"role": "user", "content": [{"type": "text", "text": text}]})
        self.messages.append({"role": "assistant", "content": [{"type": "text", "text": sentence}]})

    def shrink(self) -> None:
        """The model's window overflowed: send half as much from now on."""
        self.budget_chars = max(MIN_BUDGET_CHARS, self.budget_chars // 2)

    def request(self) -> list[dict[str, Any]]:
        """The messages of the next call: bounded, with the cache breakpoint on the last block."""
        view = self._view(shorten_current=False)
        if _size(view) > self.budget_chars:
            view = self._view(shorten_current=True)
            while _size(view) > self.budget_chars * LOW_WATER and len(self.turn_starts) > 1:
                self._drop_oldest_turn()
                view = self._view(shorten_current=True)
        return _with_breakpoint(view)

    def _view(self, shorten_current: bool) -> list[dict[str, Any]]:
        bounds = [*self.turn_starts, len(self.messages)]
        old_turns = len(self.turn_starts) - self.recent_turns
        view: list[dict[str, Any]] = []
        for index in range(len(self.turn_starts)):
            messages = self.messages[bounds[index]:bounds[index + 1]]
            if index < old_turns:
                view += [shortened(message, drop_thinking=True) for message in messages]
            elif shorten_current:  # thinking of this turn's tool loop must go back unchanged
                view += [shortened(message, drop_thinking=False) for message in messages[:-1]] + messages[-1:]
            else:
                view += messages
        return view

    def _drop_oldest_turn(self) -> None:
        cut = self.turn_starts[1]
        del self.messages[:cut]
        self.turn_starts = [start - cut for start in self.turn_starts[1:]]


def shortened(message: dict[str, Any], drop_thinking: bool) -> dict[str, Any]:
    blocks = []
    for block in message["content"]:
        if drop_thinking and block["type"] in ("thinking", "redacted_thinking"):
            continue
        if block["type"] == "tool_result" and isinstance(block.get("content"), str):
            blocks.append({**block, "content": shortened_result(block["content"])})
        else:
            blocks.append(block)
    return {**message, "content": blocks}


def shortened_result(body: str, list_keep: int | None = LIST_KEEP) -> str:
    """A tool result's JSON cut to the facts later turns can need (deterministic: the same body, the same cut);
    lists to their first `list_keep` items (None: all of them)."""
    try:
        data = json.loads(body)
    except ValueError:
        return body[:500]
    kept = _kept(data, list_keep)
    if isinstance(kept, dict):
        kept = {"shortened": True, **kept}
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":"))


def _kept(value: Any, list_keep: int | None) -> Any:
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            if key in DROPPED_FIELDS:
                continue
            if isinstance(item, dict | list):
                inner = _kept(item, list_keep)
                if inner:
                    kept[key] = inner
            elif key in KEPT_FIELDS and item is not None:
                kept[key] = item
        return kept
    if isinstance(value, list):
        if list_keep is None or len(value) <= list_keep:
            return [_kept(item, list_keep) for item in value]
        return [*(_kept(item, list_keep) for item in value[:list_keep]), {"omitted": len(value) - list_keep}]
    return value


def _with_breakpoint(view: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not view:
        return view
    last = copy.copy(view[-1])
    last["content"] = [*last["content"][:-1], {**last["content"][-1], "cache_control": CACHE_BREAKPOINT}]
    return [*view[:-1], last]


def _size(view: list[dict[str, Any]]) -> int:
    return len(json.dumps(view, ensure_ascii=False, separators=(",", ":")))
