"""The confirmation grammar: is the user's message an explicit yes to exactly the preview it answers?

Strict, and read over the whole message with the words of `lexicon.toml`:

- YES: yes phrases, with fillers, weak words and a restatement that matches the preview exactly ("是的，两笔
  都撤" for two orders, "确认撤茅台" when the preview is the 茅台 order). A later clause that asks for
  something else ("确认。顺便看下持仓") is kept as `extra`, to be answered in the same reply.
- NO: a negation of the action anywhere ("确认不撤", "先不", "算了", "no").
- QUESTION: any question form where the yes would be ("撤了？", "确认吗", "就撤这个？", "yes?").
- WEAK: assent too weak to cancel on ("好", "嗯", "ok"): the assistant asks once more.
- MISMATCH: a restatement that differs from the preview (another stock, count or side), or one that
  narrows or widens it ("确认，只撤茅台", "确认，再把平安也撤了").
- OTHER: anything the grammar cannot account for: a new request, or words it does not know.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from .lexicon import alternation, fold, pattern, words
from .stock_names import ENGLISH_NAMES, NICKNAMES


class AnswerKind(Enum):
    YES = "yes"
    NO = "no"
    QUESTION = "question"
    WEAK = "weak"
    MISMATCH = "mismatch"
    OTHER = "other"


@dataclass(frozen=True)
class Answer:
    kind: AnswerKind
    extra: str = ""  # with YES (or WEAK): what else the message asks, to be answered in the same reply

    @property
    def is_yes(self) -> bool:
        return self.kind is AnswerKind.YES


GAP = " "
CLAUSE = re.compile(r"[^,;!?\n，。；！？、…]+[,;!?\n，。；！？、…]*")
A_NOT_A = re.compile(r"(.)[不没]\1|可不可以|有没有")  # 是不是, 对不对, 行不行: questions, not negations
COUNT_DIGITS = {"一": 1, "两": 2, "二": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
                "九": 9, "十": 10}
SIDE_WORDS = {"BUY": ("scope", "buy"), "SELL": ("scope", "sell")}


def _count_pattern() -> re.Pattern[str]:
    units = alternation(words("scope", "count_units"))
    return re.compile(rf"(\d{{1,2}}|[一两二俩三四五六七八九十])\s*(?:{units})")


COUNT = _count_pattern()
NUMBER = re.compile(r"(?<![a-z0-9_])(\d+(?:\.\d+)?)\s*(股|元|块)?")
QUESTION_OPENER = re.compile(rf"^(?:{alternation(words('question', 'english_openers'))})\b")
IMPERATIVE_DO = re.compile(r"^do\s+(?:it|that|this|them|so)\b")  # "do it" asks for the action, not about it


@dataclass(frozen=True)
class _Preview:
    """What a restatement is checked against: the previewed orders' ids, codes, names, sides and figures."""

    ids: frozenset[str]
    handles: tuple[tuple[str, frozenset[str]], ...]  # (a way to name orders, the ids it names), longest first
    sides: frozenset[str]
    quantities: dict[int, frozenset[str]]
    prices: dict[Decimal, frozenset[str]]

    @classmethod
    def of(cls, orders: Sequence[Mapping[str, Any]]) -> _Preview:
        handles: dict[str, set[str]] = {}
        quantities: dict[int, set[str]] = {}
        prices: dict[Decimal, set[str]] = {}
        for order in orders:
            order_id = str(order["order_id"])
            for handle in _handles(order):
                handles.setdefault(handle, set()).add(order_id)
            for qty in (order.get("qty"), order.get("remaining_qty")):
                if isinstance(qty, int):
                    quantities.setdefault(qty, set()).add(order_id)
            if order.get("limit_price"):
                prices.setdefault(Decimal(str(order["limit_price"])), set()).add(order_id)
        return cls(
            ids=frozenset(str(order["order_id"]) for order in orders),
            handles=tuple(sorted(((h, frozenset(i)) for h, i in handles.items()), key=lambda x: -len(x[0]))),
            sides=frozenset(str(order.get("side")) for order in orders),
            quantities={qty: frozenset(ids) for qty, ids in quantities.items()},
            prices={price: frozenset(ids) for price, ids in prices.items()},
        )


def _handles(order: Mapping[str, Any]) -> set[str]:
    """Every way a restatement may name this order: ids, code, name, parts of the name, nicknames."""
    order_id = str(order["order_id"]).lower()
    handles = {order_id, order_id.rsplit("_", 1)[-1]}
    symbol = str(order.get("symbol") or "")
    if symbol:
        handles |= {symbol, *(f"{market}{symbol}" for market in ("sh", "sz", "bj"))}
    name = fold(str(order.get("name") or ""))
    if name:
        handles.add(name)
        chinese = re.sub(r"[^\u4e00-\u9fff]", "", name)
        handles |= {chinese[i:j] for i in range(len(chinese)) for j in range(i + 2, len(chinese) + 1)}
        handles |= {fold(nick) for nick, full in NICKNAMES.items() if fold(full) == name}
        handles |= {english for english, full in ENGLISH_NAMES.items() if fold(full) == name}
    return {handle for handle in handles if handle}


@dataclass
class _Clause:
    question: bool = False
    yes: bool = False
    weak: bool = False
    cancel_verb: bool = False
    changes_scope: bool = False
    only: bool = False
    all: bool = False
    single: bool = False
    count: int | None = None
    sides: set[str] = field(default_factory=set)
    named: list[frozenset[str]] = field(default_factory=list)  # ids named by each mention
    unmatched_number: bool = False
    leftover: str = ""

    @property
    def restates(self) -> bool:
        return bool(self.all or self.single or self.count or self.sides or self.named or self.only)

    @property
    def plain(self) -> bool:
        """Nothing in it but yes, weak, filler and restatement words (figures included, matched or not)."""
        return not self.question and not self.leftover


def read_answer(text: str, previewed: Sequence[Mapping[str, Any]]) -> Answer:
    """What `text` says to the preview of `previewed` (the order summaries the user was shown)."""
    folded = fold(text)
    if not folded:
        return Answer(AnswerKind.OTHER)
    pieces = [m.group(0) for m in CLAUSE.finditer(re.sub(r"(?<!\d)\.|\.(?!\d)", "。", folded))]
    if _negated(folded):
        # "不撤了。对了，我现在可用资金多少？": what follows the refusal is still to be answered.
        refusal = next((i for i, piece in enumerate(pieces) if _negated(piece)), len(pieces) - 1)
        return Answer(AnswerKind.NO, "".join(pieces[refusal + 1:]).strip(" ,;，。；、"))
    preview = _Preview.of(previewed)
    clauses = [_read_clause(piece, preview) for piece in pieces]
    head = 0
    while head < len(clauses) and clauses[head].plain and (
            clauses[head].yes or clauses[head].weak or clauses[head].restates):
        head += 1
    said, rest = clauses[:head], clauses[head:]
    extra = "".join(pieces[head:]).strip(" ,;，。；、")
    if not any(clause.yes for clause in said):
        if any(clause.question for clause in clauses):
            return Answer(AnswerKind.QUESTION)
        if said and any(clause.weak for clause in said) and not any(clause.cancel_verb for clause in rest):
            return Answer(AnswerKind.WEAK, extra)
        return Answer(AnswerKind.OTHER)
    if not _matches(said, preview):
        return Answer(AnswerKind.MISMATCH)
    for clause in rest:
        scoped = clause.restates or clause.changes_scope
        if (clause.cancel_verb and not clause.question) or (clause.question and clause.cancel_verb and scoped) or (
                clause.only):
            return Answer(AnswerKind.MISMATCH)  # another cancel request or a change of scope after the yes
    return Answer(AnswerKind.YES, extra)


def _strip_marks(text: str) -> str:
    return "".join(char for char in text if unicodedata.category(char)[0] in "LN")


def _negated(folded: str) -> bool:
    text = A_NOT_A.sub(GAP, folded)
    if pattern("negation", "anywhere").search(text):
        return True
    alone = set(words("negation", "alone"))
    fillers = re.compile(alternation(words("confirm", "fillers")))
    for piece in CLAUSE.finditer(text):
        core = _strip_marks(fillers.sub("", piece.group(0))) or _strip_marks(piece.group(0))
        if core in alone:
            return True
    return False


def _is_question(clause: str) -> bool:
    if any(mark in clause for mark in words("question", "marks")):
        return True
    if pattern("question", "anywhere").search(clause):
        return True
    body = clause.rstrip(" ,;!.，。；！、…~～")
    if any(body.endswith(ending) for ending in words("question", "endings")):
        return True
    return bool(QUESTION_OPENER.search(body)) and not IMPERATIVE_DO.search(body)


def _read_clause(piece: str, preview: _Preview) -> _Clause:
    clause = _Clause(question=_is_question(piece))
    text = f" {piece} "
    clause.cancel_verb = bool(pattern("request", "cancel_verbs").search(text))

    def take(regex: str) -> list[re.Match[str]]:
        nonlocal text
        found = list(re.finditer(regex, text))
        text = re.sub(regex, GAP, text) if found else text
        return found

    for handle, ids in preview.handles:
        if take(alternation([handle])):
            clause.named.append(ids)
    take(alternation(words("confirm", "not_yes")))
    clause.yes = bool(take(alternation(words("confirm", "yes"))))
    clause.single = bool(take(alternation(words("scope", "single"))))  # before counts: 这一笔 is not "一笔"
    for match in take(COUNT.pattern):
        token = match.group(1)
        clause.count = int(token) if token.isdigit() else COUNT_DIGITS[token]
    for match in take(NUMBER.pattern):
        ids = _number_ids(match.group(1), match.group(2), preview)
        if ids:
            clause.named.append(ids)
        else:
            clause.unmatched_number = True
    clause.changes_scope = bool(take(alternation(words("scope", "change"))))
    clause.only = bool(take(alternation(words("scope", "only"))))
    for side in ("BUY", "SELL"):
        if take(alternation(words(*SIDE_WORDS[side]))):
            clause.sides.add(side)
    clause.all = bool(take(alternation(words("scope", "all"))))
    clause.single = bool(take(alternation(words("scope", "single")))) or clause.single
    take(alternation(words("scope", "order_words")))
    verbs = take(alternation(words("request", "cancel_verbs")))
    clause.yes = clause.yes or bool(verbs and clause.restates)  # "cancel both": the verb with what it takes
    clause.weak = bool(take(alternation(words("confirm", "weak"))))
    take(alternation(words("confirm", "fillers")))
    clause.leftover = _strip_marks(text)
    return clause


def _number_ids(token: str, unit: str | None, preview: _Preview) -> frozenset[str]:
    """The previewed orders a figure names: a quantity (股), a price (元, 块, or a decimal), or either."""
    try:
        value = Decimal(token)
    except InvalidOperation:
        return frozenset()
    by_qty = preview.quantities.get(int(value), frozenset()) if value == int(value) and unit != "元" else frozenset()
    by_price = preview.prices.get(value, frozenset()) if unit != "股" else frozenset()
    return by_qty | by_price


def _matches(said: list[_Clause], preview: _Preview) -> bool:
    """The restatement in the yes names exactly the previewed orders: not fewer, not others, not more."""
    count = len(preview.ids)
    if any(clause.changes_scope or clause.unmatched_number for clause in said):
        return False
    if count == 1 and any(clause.all for clause in said):
        return False  # "全部撤了吧" to one order asks for more than the preview
    counts = {clause.count for clause in said if clause.count is not None}
    if counts and counts != {count}:
        return False
    if any(clause.single for clause in said) and count != 1 and not any(clause.all for clause in said):
        return False
    if any(clause.only for clause in said) and count != 1:
        return False
    sides = set().union(*(clause.sides for clause in said))
    if sides and sides != set(preview.sides):
        return False
    mentions = [ids for clause in said for ids in clause.named]
    return not mentions or set().union(*mentions) == set(preview.ids)
