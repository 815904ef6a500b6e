"""What the user's message is as an answer to the last reply: a confirmation, a refusal, a choice, or other.

The yes and the no come from the confirmation grammar (`confirmation.read_answer`, which the gate runs);
this module adds the reading of a choice from a numbered list ("第二个", "2", "最后一个", "都要"). Every
word comes from the shared lexicon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from functools import cache

from .confirmation import Answer, AnswerKind
from .lexicon import alternation, fold, words


class ReplyKind(Enum):
    CONFIRM = "confirm"
    DENY = "deny"
    CHOOSE = "choose"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class ReplyClass:
    kind: ReplyKind
    choice: int | None = None  # 1-based position in the list shown, for CHOOSE; None with `choose_all`
    choose_all: bool = False  # "全部/都/所有" after a list
    weak: bool = False  # "好/嗯/ok" alone: assent that is too weak to cancel on
    answer: Answer = field(default_factory=lambda: Answer(AnswerKind.OTHER))

    @property
    def question(self) -> bool:
        return self.answer.kind is AnswerKind.QUESTION


CHINESE_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
PUNCTUATION = re.compile(r"[\s,.!?;:，。！？；：、~～…\"'“”‘’()（）\[\]【】]+")


@cache
def _ordinal() -> re.Pattern[str]:
    prefixes = alternation(words("request", "ordinal_prefixes"))
    units = alternation(words("request", "ordinal_units"))
    return re.compile(rf"(?:{prefixes})\s*([0-9]{{1,2}}|[一二两三四五六七八九十])\s*(?:{units})?")


@cache
def _bare_number() -> re.Pattern[str]:
    units = alternation(words("request", "ordinal_units"))
    return re.compile(rf"^([0-9]{{1,2}}|[一二两三四五六七八九十])(?:{units})?$")


def classify_reply(answer: Answer, text: str, choices: int = 0) -> ReplyClass:
    """The message as an answer: `answer` is the grammar's reading, `choices` how many numbered options the
    last reply showed (0: none)."""
    if answer.kind is AnswerKind.YES:
        return ReplyClass(ReplyKind.CONFIRM, answer=answer)
    if answer.kind is AnswerKind.NO:
        return ReplyClass(ReplyKind.DENY, answer=answer)
    weak = answer.kind is AnswerKind.WEAK
    if choices:
        folded = fold(text)
        chosen = _choice(folded, PUNCTUATION.sub("", folded), choices, answer)
        if chosen is not None:
            return chosen
    return ReplyClass(ReplyKind.OTHER, weak=weak, answer=answer)


def _choice(folded: str, bare: str, choices: int, answer: Answer) -> ReplyClass | None:
    if len(bare) <= 8 and re.search(alternation(words("request", "all")) + "|都", folded):
        return ReplyClass(ReplyKind.CHOOSE, choose_all=True, answer=answer)
    if re.search(alternation(words("request", "last_one")), folded):
        return ReplyClass(ReplyKind.CHOOSE, choice=choices, answer=answer)
    match = _ordinal().search(bare) or _bare_number().match(bare)
    if match:
        token = match.group(1)
        number = int(token) if token.isdigit() else CHINESE_DIGITS[token]
        if 1 <= number <= choices:
            return ReplyClass(ReplyKind.CHOOSE, choice=number, answer=answer)
    return None
