"""Stock names the way people type them in a hurry: pinyin ("zhaohang"), initials ("gzmt", "byd") and
sound-alike typos ("比亚笛", "宁得时代"), matched against the account's own order names.

Pinyin comes from `pypinyin` (MIT, maintained, the standard library for it), imported only when a message
has such a word: its dictionaries take about 0.4 s to load, which a plain Chinese request never pays.
Near misses are scored with `rapidfuzz` on the pinyin, so 笛/迪 and 得/德 meet where the characters differ.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import cache
from typing import Any

from .clues import Clues, NameMention
from .lexicon import fold
from .stock_names import ENGLISH_NAMES, NICKNAMES

LATIN_WORD = re.compile(r"(?<![a-z0-9_])([a-z]{2,20})(?![a-z0-9_])")
SOUND_ALIKE_SCORE = 88  # rapidfuzz ratio on pinyin: one syllable's tone-less vowel apart, not another stock
MIN_TYPO_LENGTH = 2


@cache
def _pinyin(text: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(text))


def _keys(name: str) -> set[str]:
    """Full pinyin and initials of a short name and of its nicknames: 招商银行 → zhaoshangyinhang, zsyh,
    zhaohang, zh."""
    spoken = {name} | {fold(nick) for nick, full in NICKNAMES.items() if fold(full) == name}
    keys: set[str] = set()
    for word in spoken:
        chinese = re.sub(r"[^\u4e00-\u9fff]", "", word)
        if len(chinese) < MIN_TYPO_LENGTH:
            continue
        syllables = _pinyin(chinese)
        keys |= {"".join(syllables), "".join(syllable[0] for syllable in syllables)}
    return {key for key in keys if len(key) >= MIN_TYPO_LENGTH}


def sounded(clues: Clues, folded: str, order_names: Iterable[str]) -> Clues:
    """`clues` with names recognised by pinyin, initials or sound, when the words named no stock otherwise."""
    if clues.names or clues.symbols or clues.order_ids:
        return clues
    names = sorted({fold(name) for name in order_names if name})
    latin = [word for word in LATIN_WORD.findall(folded) if len(word) >= 3]
    typos = [word for word in clues.unknown_words if len(word) >= MIN_TYPO_LENGTH]
    if not (latin or typos) or not names:
        return clues
    mentions: list[NameMention] = []
    for word in latin:
        english = fold(ENGLISH_NAMES.get(word, "\0"))  # "byd", "moutai" written against Chinese text
        hits = tuple(name for name in names if word in _keys(name) or english in name)
        if hits:
            mentions.append(NameMention(word, hits))
    for word in typos:
        hits = _sound_alike(word, names)
        if hits:
            mentions.append(NameMention(word, hits))
    if not mentions:
        return clues
    said = {mention.text for mention in mentions}
    return replace(clues, names=tuple(mentions), said=clues.said + tuple(said),
                   unknown_words=tuple(word for word in clues.unknown_words if word not in said))


def _sound_alike(word: str, names: Sequence[str]) -> tuple[str, ...]:
    """The names that contain a run sounding like `word` (宁得时代 ~ 宁德时代, 比亚笛 ~ 比亚迪)."""
    from rapidfuzz import fuzz

    spoken = "".join(_pinyin(word))
    hits = []
    for name in names:
        syllables = _pinyin(re.sub(r"[^\u4e00-\u9fff]", "", name))
        size = len(_pinyin(word))
        windows = ["".join(syllables[i:i + size]) for i in range(max(1, len(syllables) - size + 1))]
        if any(window == spoken or fuzz.ratio(window, spoken) >= SOUND_ALIKE_SCORE for window in windows):
            hits.append(name)
    return tuple(hits)


def order_names(orders: Sequence[dict[str, Any]]) -> list[str]:
    return [str(order["name"]) for order in orders if order.get("name")]
