"""What the user's reply to a question is: a confirmation, a refusal, a choice, or something else.

Deterministic and shared by both engines, because the confirmation gate must not depend on a model's
reading: "确认/是的/撤吧/yes" confirm; "好/嗯/ok" alone do not (they are `weak`: ask once more); any
negation ("不", "别", "算了", "先不撤") never confirms; a new request is `OTHER`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum


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


# Any of these anywhere makes the reply a refusal, whatever else it says ("确认不撤" refuses).
NEGATIONS = ("不", "别", "算了", "没有", "取消", "等等", "等一下", "等下", "慢着", "再想想", "先放着", "放弃", "停")
NEGATIONS_EN = ("no", "not", "don't", "dont", "never", "nope", "stop", "wait", "hold on", "cancel that",
                "abort", "nevermind", "never mind")
# Explicit confirmations: at least one must be there, and nothing else but the fillers below.
CONFIRMATIONS = ("确认", "确定", "是的", "是", "对", "对的", "没错", "撤吧", "撤了吧", "撤掉吧", "撤销吧",
                 "撤", "撤了", "撤掉", "撤销", "撤单", "可以撤", "执行", "同意")
CONFIRMATIONS_EN = ("yes", "y", "yep", "yeah", "confirm", "confirmed", "go ahead", "do it", "sure, cancel it",
                    "cancel it", "please do", "yes please", "proceed")
# Politeness and references to what was previewed, which neither add nor change a request.
FILLERS = ("好的", "好", "嗯", "嗯嗯", "行", "可以", "吧", "了", "的", "啊", "呀", "哦", "请", "麻烦", "帮我",
           "就", "这笔", "那笔", "这单", "那单", "这些", "那些", "这个", "那个", "这几笔", "委托", "订单", "吧",
           "ok", "okay", "please", "thanks", "谢谢", "它们", "它", "一下", "都", "全部", "那就", "那", "没问题",
           "我", "要")
WEAK_ASSENT = ("好", "好的", "嗯", "嗯嗯", "ok", "okay", "行", "可以", "好吧", "k", "噢", "哦", "收到", "好滴", "sure",
               "fine", "alright")
# English fillers around an explicit yes ("yes, please"); not a yes by themselves.
FILLERS_EN = ("please", "thanks", "thank you", "ok", "okay", "sure", "then", "now")
ALL_WORDS = ("全部", "都撤", "所有", "全都", "都要", "全撤", "all", "both", "两笔都", "两个都", "都")
CHINESE_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
ORDINAL = re.compile(r"(?:第|选|#|no\.?|number)\s*([0-9]{1,2}|[一二两三四五六七八九十])\s*(?:个|笔|单|条|项|号)?")
BARE_NUMBER = re.compile(r"^([0-9]{1,2}|[一二两三四五六七八九十])(?:个|笔|单|条|项|号)?$")
LAST_WORDS = ("最后一个", "最后一笔", "最后那个", "最后那笔", "last one")
PUNCTUATION = re.compile(r"[\s,.!?;:，。！？；：、~～…\"'“”‘’()（）\[\]【】]+")


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


def _strip(text: str) -> str:
    return PUNCTUATION.sub("", text)


def _has_negation(folded: str) -> bool:
    if any(word in folded for word in NEGATIONS):
        return True
    words = set(re.findall(r"[a-z']+", folded))
    return any((phrase in folded) if " " in phrase else (phrase in words) for phrase in NEGATIONS_EN)


def _number(token: str) -> int:
    return int(token) if token.isdigit() else CHINESE_DIGITS[token]


def _remove_all(text: str, words: tuple[str, ...]) -> str:
    for word in sorted(words, key=len, reverse=True):
        text = text.replace(word, "")
    return text


def classify_reply(text: str, choices: int = 0) -> ReplyClass:
    """Classify a reply; `choices` is how many numbered options the last question showed (0: none)."""
    folded = normalize(text)
    bare = _strip(folded)
    if not bare:
        return ReplyClass(ReplyKind.OTHER)
    if _has_negation(folded):
        return ReplyClass(ReplyKind.DENY)
    if choices:
        chosen = _choice(folded, bare, choices)
        if chosen is not None:
            return chosen
    if bare in WEAK_ASSENT or not _remove_all(bare, (*WEAK_ASSENT, "吧", "的", "啊", "呀")):
        return ReplyClass(ReplyKind.OTHER, weak=True)
    english = " ".join(re.findall(r"[a-z']+", folded))
    if english and _english_confirmation(english) and not re.search(r"[\u4e00-\u9fff0-9]", folded):
        return ReplyClass(ReplyKind.CONFIRM)
    has_confirmation = any(word in bare for word in CONFIRMATIONS)
    if has_confirmation and not _remove_all(_remove_all(bare, CONFIRMATIONS), FILLERS):
        return ReplyClass(ReplyKind.CONFIRM)
    return ReplyClass(ReplyKind.OTHER)


def _english_confirmation(words: str) -> bool:
    """"yes", "yes, cancel it", "ok yes please": explicit yes phrases and fillers only, at least one yes."""
    rest = f" {words} "
    found = False
    for phrase in sorted(CONFIRMATIONS_EN, key=len, reverse=True):
        while f" {phrase} " in rest:
            rest, found = rest.replace(f" {phrase} ", " ", 1), True
    for filler in FILLERS_EN:
        while f" {filler} " in rest:
            rest = rest.replace(f" {filler} ", " ")
    return found and not rest.strip()


def _choice(folded: str, bare: str, choices: int) -> ReplyClass | None:
    if any(word in folded for word in ALL_WORDS) and len(bare) <= 8:
        return ReplyClass(ReplyKind.CHOOSE, choose_all=True)
    if any(word in bare for word in LAST_WORDS):
        return ReplyClass(ReplyKind.CHOOSE, choice=choices)
    match = ORDINAL.search(bare) or BARE_NUMBER.match(bare)
    if match:
        number = _number(match.group(1))
        if 1 <= number <= choices:
            return ReplyClass(ReplyKind.CHOOSE, choice=number)
    return None
