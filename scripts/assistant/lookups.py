"""Words that may be a stock the account has no order in, checked against the instrument list.

"撤掉中国电建那笔" must not become 中国平安's order because both start with 中国; "撤掉中石油那笔" with no
中国石油 order must find nothing rather than fall back on another order.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .clues import Clues, NameMention, fold
from .tools import ToolBox

MAX_LOOKUPS = 3  # instrument look-ups per message
SPECIFIC_LOOKUP = 5  # a word that finds more instruments than this is a common word ("科技"), not a name


def look_up_names(tools: ToolBox, clues: Clues) -> Clues:
    """`clues` with the unexplained words that name listed stocks turned into name mentions."""
    names = list(clues.names)
    lookups = 0
    for part, word in clues.extended_names[:MAX_LOOKUPS]:
        lookups += 1
        found = _instruments(tools, word)
        if found:
            names = [_mention(word, found) if mention.text == part else mention for mention in names]
    if not names and not clues.symbols:
        for word in clues.unknown_words[:MAX_LOOKUPS - lookups]:
            found = _instruments(tools, word)
            if found:
                names.append(_mention(word, found))
    said = clues.said + tuple(name.text for name in names if name.text not in clues.said)
    return replace(clues, names=tuple(names), said=said)


def _mention(word: str, instruments: list[dict[str, Any]]) -> NameMention:
    return NameMention(word, tuple(fold(item["name"]) for item in instruments),
                       tuple(item["symbol"] for item in instruments))


def _instruments(tools: ToolBox, word: str) -> list[dict[str, Any]]:
    result = tools.call("find_instruments", {"query": word[:32]})
    if result.is_error:
        return []
    found = [item for item in result.content.get("instruments", []) if fold(word) in fold(item["name"])]
    return found if 0 < len(found) <= SPECIFIC_LOOKUP else []
