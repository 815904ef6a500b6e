"""The offline engine's clues are the lexicon's data: every `[clue.*]` table compiles, finds each of its own
words in a sentence, and keeps a Latin word whole (no clue inside an order id or a longer word)."""

from __future__ import annotations

import pytest

from scripts.assistant import phrases
from scripts.assistant.lexicon import fold, lexicon, rule

CLUES = sorted(lexicon()["clue"])


@pytest.mark.parametrize("name", CLUES)
def test_each_word_of_a_clue_is_found_in_a_sentence(name: str) -> None:
    for word in lexicon()["clue"][name].get("words", []):
        assert rule("clue", name).search(fold(f"麻烦 {word} 一下")), (name, word)


@pytest.mark.parametrize("name", CLUES)
def test_latin_words_of_a_clue_are_whole_words(name: str) -> None:
    latin = [word for word in lexicon()["clue"][name].get("words", []) if word.isascii() and word.isalpha()]
    for word in latin:
        assert not rule("clue", name).search(f"ord_accdefault_x{word}9"), (name, word)
        assert not rule("clue", name).search(f"zz{word}zz"), (name, word)


def test_stems_find_longer_words() -> None:
    assert rule("clue", "cancel").search("please cancelled it")
    assert not rule("clue", "cancel").search("ord_accdefault_xcancel1")


@pytest.mark.parametrize(("clue", "text", "found"), [
    ("refusal", "是不是撤了", False), ("refusal", "不是这笔", True),
    ("recent", "刚好100股", False), ("recent", "刚才那单", True),
    ("open_only", "没成本", False), ("open_only", "没成交的", True),
    ("cash", "块钱", False), ("cash", "还有多少钱", True),
    ("question", "成没成", True), ("question", "成了", False),
])
def test_a_pattern_says_what_a_word_list_cannot(clue: str, text: str, found: bool) -> None:
    assert bool(rule("clue", clue).search(fold(text))) is found


def test_phrases_reads_its_clues_from_the_lexicon() -> None:
    assert phrases.CANCEL_VERB is rule("clue", "cancel")
    assert phrases.REFUSAL is rule("clue", "refusal")
    assert phrases.BUY is rule("clue", "buy")
