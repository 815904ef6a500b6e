"""What a message asks for: cancel, list the orders, ask about one order, cash or positions, or refuse.

Pure text work over the account's own order names and id tails (no I/O). A message is cut into clauses;
a clause that refuses ("先别撤", "算了") or keeps something ("卖单留着", "除了茅台") is read apart from the
clauses that ask for something, and a clause that only tells a story ("本来想买300股") gives no clue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import Enum

from . import phrases as p
from .clues import Clues, extract_clues, fold
from .lexicon import alternation, words
from .scope import Scope, read_scope, split_exclusions


class Intent(Enum):
    CANCEL = "cancel"
    QUOTE = "quote"  # a stock's price now
    PLACE = "place"  # buy or sell: not something this assistant does
    MODIFY = "modify"  # change an order: a cancel and a new order on A-shares
    UNDO = "undo"  # bring a cancelled order back: impossible
    FEE = "fee"  # what a cancel costs
    ORDERS = "orders"  # list the orders
    ORDER_DETAIL = "order_detail"  # how is that order doing
    ACCOUNT = "account"  # cash and/or positions
    REFUSE = "refuse"
    NONE = "none"


@dataclass(frozen=True)
class Request:
    intent: Intent
    clues: Clues
    exclude: Clues
    cancel_verb: bool = False
    question: bool = False
    open_only: bool = False  # for a listing: only what can still be cancelled
    filled_only: bool = False  # for a listing: only what was filled ("今天哪些单成交了？")
    cash: bool = False
    positions: bool = False
    cancel_now_question: bool = False  # "现在能撤单吗？"
    account_question: bool = False  # cash or positions asked alongside a cancel
    thanks: bool = False
    kept_out: tuple[str, ...] = ()  # the words of each thing kept out ("第1笔", "茅台"), to resolve apart
    scope: Scope = field(default_factory=Scope)  # exclusions, count, positions, boards, extremes, time window


def split_clauses(folded: str) -> list[str]:
    text = re.sub(r"(?<!\d)\.|\.(?![0-9a-z])", ",", folded)
    text = p.CORRECTION_MARK.sub(r"\1,", text)
    text = p.NOT_THIS_BUT.sub(r"\1,\2", text)
    return [clause.strip() for clause in re.split(r"(?<!\d),|,(?!\d{3}(?!\d))|[!?;\n~…]+", text) if clause.strip()]


def _core(clause: str) -> str:
    return re.sub(r"[\s吧啊呀了的哦噢嗯呢哈啦]|那就|还是|我", "", clause)


def read_request(text: str, known_names: Iterable[str] = (), known_tails: Iterable[str] = (),
                 has_list: bool = False, batch: bool = False) -> Request:
    """Read one message against the account's order names (for 茅台 → 贵州茅台) and id tails; `has_list`:
    a numbered list is on screen, so "1到3" are positions in it; `batch`: several orders await a yes, so
    "2不要" keeps one of them out."""
    folded = fold(text)
    names = tuple({fold(name) for name in known_names if name})
    tails = frozenset(known_tails)
    scope = read_scope(folded, has_list)
    kept_out, excluded = split_exclusions(folded, batch)
    positive, refusals, kept = _sort_clauses(scope_free(kept_out, scope), names, tails)
    kept = [*excluded, *kept]
    wanted = ",".join(positive)
    clues = extract_clues(wanted, names, tails)
    question = "?" in folded or bool(p.QUESTION.search(wanted))
    listing = bool(p.LISTING_CANCELLABLE.search(wanted))
    open_only = listing or bool(p.OPEN_ONLY.search(wanted))
    request = Request(
        Intent.NONE, clues, extract_clues(",".join(kept), names, tails), cancel_verb=bool(p.CANCEL_VERB.search(wanted)),
        question=question, open_only=open_only,
        filled_only=not open_only and bool(p.FILLED_ONLY.search(wanted)) and not p.CANCEL_VERB.search(wanted),
        cash=bool(p.CASH.search(wanted)), positions=bool(p.POSITIONS.search(wanted)),
        cancel_now_question=bool(p.CAN_CANCEL_NOW.search(folded)),
        account_question=question and bool(p.ACCOUNT_QUESTION.search(wanted)), thanks=bool(p.THANKS.search(folded)),
        kept_out=tuple(kept), scope=scope)
    special = _special_intent(folded, request)
    if special is not None:
        return replace(request, intent=special)
    if _says(folded, "done_question"):
        request = replace(request, question=True, cancel_verb=False)  # "撤掉了没有" asks, it does not request
    return replace(request, intent=_intent(request, refused=bool(refusals or kept), listing=listing,
                                           orders_topic=bool(p.ORDERS_TOPIC.search(wanted))))


def _says(folded: str, kind: str) -> bool:
    return bool(re.search(alternation(words("intent", kind)), folded))


def _special_intent(folded: str, request: Request) -> Intent | None:
    """The requests that are no cancel and no question about orders or the account."""
    if _says(folded, "undo"):
        return Intent.UNDO
    if _says(folded, "modify"):
        return Intent.MODIFY
    if _says(folded, "fee") and request.cancel_verb:
        return Intent.FEE
    if request.cancel_verb:
        return None
    named = request.clues.names or request.clues.symbols
    about_an_order = bool(p.ORDERS_TOPIC.search(folded) or re.search(r"冻结|成交|[那这][笔单]", folded))
    if _says(folded, "quote") and not about_an_order and (named or (request.clues.unknown_words and not request.cash)):
        return Intent.QUOTE  # "比亚迪现在多少钱" names a stock; "我还剩多少钱能用" is about cash
    if _says(folded, "done_question"):
        return None
    ends = tuple(words("intent", "place_endings"))
    if _says(folded, "place") or folded.rstrip("吧啊呀!。.,").endswith(ends):
        return Intent.PLACE
    return None


def _sort_clauses(folded: str, names: tuple[str, ...], tails: frozenset[str]) -> tuple[list[str], list[str], list[str]]:
    """The clauses that ask for something, those that refuse, and the words of what is to be kept."""
    positive: list[str] = []
    refusals: list[str] = []
    kept: list[str] = []
    for raw in split_clauses(folded):
        clause = raw
        story = p.COUNTERFACTUAL.search(clause)
        if story:
            clause = clause[:story.start()]
        if not clause.strip():
            continue
        if clause.strip() in p.REFUSAL_ALONE or _core(clause) in p.REFUSAL_ALONE:
            refusals.append(clause)
        elif p.REFUSAL.search(clause):
            rest = p.REFUSAL.sub(" ", clause)
            (kept if extract_clues(rest, names, tails).points() else refusals).append(rest)
        else:
            positive.append(clause)
    return positive, refusals, kept


def scope_free(text: str, scope: Scope) -> str:
    """The text without the words the scope has read (positions, boards, extremes, times), so that
    "倒数第二个" is not also "第二个" and "科创板" not an unknown stock."""
    for said in sorted(scope.said, key=len, reverse=True):
        text = text.replace(said, " ")
    return text


def _asks_for_orders(clues: Clues) -> bool:
    return clues.points() or clues.everything


def _intent(request: Request, refused: bool, listing: bool, orders_topic: bool) -> Intent:
    clues = request.clues
    if refused and not (request.cancel_verb or _asks_for_orders(clues)):
        return Intent.REFUSE
    if request.cancel_verb and not listing:
        return Intent.CANCEL
    if clues.points() and request.question and not request.positions:
        return Intent.ORDER_DETAIL  # "茅台那单冻结了多少钱？" is about the order
    if request.cash or (request.positions and (request.question or not clues.points())):
        return Intent.ACCOUNT
    if request.filled_only or (request.question and (orders_topic or request.open_only)) or (
            orders_topic and not _asks_for_orders(clues)):
        return Intent.ORDERS
    if _asks_for_orders(clues):
        return Intent.CANCEL
    return Intent.NONE
