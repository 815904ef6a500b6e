"""The shared lexicon (`lexicon.toml`) and the one way text is folded before any of it is matched.

Folding: NFKC (full-width letters, digits and punctuation become plain), traditional → simplified (OpenCC's
`t2s`), lower case, surrounding spaces trimmed. The gate and both engines read the same words from here.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

LEXICON_FILE = Path(__file__).with_name("lexicon.toml")


@cache
def _converter() -> Any:
    import opencc  # the official binding: maintained, Apache-2.0, its dictionaries in the wheel

    return opencc.OpenCC("t2s")


CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


def fold(text: str) -> str:
    """The text as every matcher reads it: `確認！` → `确认!`, `ＹＥＳ` → `yes`, `确 认` → `确认`."""
    plain = unicodedata.normalize("NFKC", text)
    if any("\u3400" <= char <= "\u9fff" for char in plain):
        plain = CJK_SPACE.sub("", _converter().convert(plain))
    return plain.lower().strip()


@cache
def lexicon() -> dict[str, Any]:
    with LEXICON_FILE.open("rb") as file:
        return tomllib.load(file)


def words(section: str, name: str) -> tuple[str, ...]:
    """One word list, longest first (so that "撤销吧" is taken before "撤")."""
    return tuple(sorted(set(lexicon()[section][name]), key=len, reverse=True))


def _is_latin(word: str) -> bool:
    return bool(re.fullmatch(r"[a-z0-9.' ]+", word))


def alternation(entries: Iterable[str], word_chars: str = "a-z") -> str:
    """A regex alternative of the words, longest first; Latin words only as whole words (not inside a run of
    `word_chars`)."""
    parts = []
    for word in sorted(set(entries), key=len, reverse=True):
        escaped = re.escape(word).replace(r"\ ", r"\s+")
        parts.append(rf"(?<![{word_chars}]){escaped}(?![{word_chars}])" if _is_latin(word) else escaped)
    return "|".join(parts)


@cache
def pattern(section: str, name: str) -> re.Pattern[str]:
    return re.compile(alternation(lexicon()[section][name]))


@cache
def rule(section: str, name: str) -> re.Pattern[str]:
    """A clue the engine looks for: a table of `words` (Latin ones whole), `stems` (Latin prefixes: "cancel"
    finds "cancelled") and `patterns` (a regex, only for what a word list cannot say: "刚" but not "刚好")."""
    entry = lexicon()[section][name]
    # Whole words as regex's \b sees them: "buy" is not a clue inside an order id like ord_..._3buy5abc.
    parts = [alternation(entry.get("words", []), word_chars=r"\w")]
    if entry.get("stems"):
        parts.append(rf"(?<!\w)(?:{'|'.join(map(re.escape, entry['stems']))})")
    parts += entry.get("patterns", [])
    return re.compile("|".join(part for part in parts if part))
