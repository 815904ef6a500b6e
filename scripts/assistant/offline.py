"""The offline engine: deterministic rules for Chinese (and English) order requests, with no model and no key.

Each message is read (`intent.read_request`) against the account's orders, resolved to orders
(`resolve.resolve_candidates`), and answered through the tool box only — so the confirmation gate that
binds the Claude engine binds this one too — with every sentence from `scripts/messages/`. What the last
reply put in front of the user (a numbered list, a preview awaiting a yes) is kept, so "第二个", "卖的那个",
"好" and "确认" are read against it.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from ..messages import render, render_error
from ..orders import cancels_reopen_at, price_change
from .clues import Clues
from .conversation import Context, positions_from_numbers, with_context
from .engine import EngineAnswer
from .gate import DropReason
from .intent import Intent, Request, read_request
from .lexicon import fold
from .lookups import look_up_names
from .replies import ReplyClass, ReplyKind
from .resolve import (
    Order,
    Resolution,
    chronological,
    is_open,
    names_of,
    narrow,
    orders_about,
    tails_of,
)
from .scoping import excluded_ids, resolve_request
from .sounds import sounded
from .tools import ToolBox, ToolResult

LIST_LIMIT = 200  # the list_orders tool's largest page: a day's orders, far more than anyone keeps open


class OfflineEngine:
    """Rules, not a model: reads a message, resolves it against the orders, answers from the templates."""

    name = "offline"

    def __init__(self, tools: ToolBox) -> None:  # the rules take no options: an option given is a TypeError
        self.tools = tools
        self.context = Context()

    def prepare(self) -> None:
        """Build the lexicon's patterns and the traditional-to-simplified converter by reading two requests
        (no order is named, no tool is called): the first real message then costs what every later one does."""
        for text in ("把茅台那笔买单撤了", "撤銷全部委託"):
            read_request(fold(text), (), (), has_list=False, batch=False)

    def respond(self, text: str, reply: ReplyClass) -> EngineAnswer:
        before, self.context = self.context, Context()
        pending = self.tools.gate.pending
        if reply.kind is ReplyKind.CONFIRM and pending is not None:
            done = self._execute(list(pending.order_ids))
            if reply.answer.extra and self.tools.gate.pending is None:
                done = "\n".join(part for part in (done, self._aside(reply.answer.extra)) if part)
            return EngineAnswer(done)
        listing = self.tools.call("list_orders", {"limit": LIST_LIMIT})
        if listing.is_error:
            return EngineAnswer(_error_text(listing))
        orders: list[Order] = listing.content["orders"]
        request = read_request(text, names_of(orders), tails_of(orders), has_list=bool(before.shown),
                               batch=len(before.previewed) > 1)
        if request.intent in (Intent.CANCEL, Intent.ORDER_DETAIL, Intent.QUOTE, Intent.NONE):
            heard = sounded(request.clues, fold(text), names_of(orders))
            if heard is not request.clues:  # "撤掉zhaohang", "gzmt那笔", "比亚笛": read again with the name
                request = replace(request, clues=heard,
                                  intent=Intent.CANCEL if request.cancel_verb else request.intent)
            request = replace(request, clues=look_up_names(self.tools, request.clues))
        answer = self._answer(request, reply, orders, before)
        if reply.kind is ReplyKind.DENY and reply.answer.extra and self.tools.gate.pending is None:
            answer = "\n".join(part for part in (answer, self._aside(reply.answer.extra)) if part)
        return EngineAnswer(answer)

    def replied(self, text: str) -> None:
        """The rules keep their own context; the words need no remembering."""

    # --- reading a message against what was asked -------------------------------------------------------

    def _answer(self, request: Request, reply: ReplyClass, orders: list[Order], before: Context) -> str:
        clues = positions_from_numbers(request.clues, before.shown)
        request = replace(request, clues=clues)
        new_request = request.intent in (Intent.ORDERS, Intent.ORDER_DETAIL, Intent.ACCOUNT, Intent.QUOTE) or (
            request.intent is Intent.CANCEL and (clues.points() or clues.everything or request.scope.targets()))
        refused = request.intent is Intent.REFUSE or (reply.kind is ReplyKind.DENY and not new_request) or (
            reply.kind is ReplyKind.DENY and bool(request.kept_out) and len(before.previewed) > 1)
        if before.previewed:
            if refused and (request.exclude.narrows() or request.kept_out) and len(before.previewed) > 1:
                return self._keep_some(request, orders, before)
            if refused:
                return self._declined(before.previewed)
            gate = self.tools.gate
            dropped = gate.dropped if gate.dropped is not None and gate.dropped.turn == gate.turn else None
            if dropped is not None and dropped.reason is DropReason.UNCONFIRMED:
                ended = render("unconfirmed", count=len(before.previewed))
                if request.intent in (Intent.ACCOUNT, Intent.ORDERS, Intent.ORDER_DETAIL, Intent.QUOTE):
                    return "\n".join([ended, self._dispatch(request, reply, orders, Context())])
                return ended
            if not new_request:
                return self._ask_again(before, show_preview=request.question)
        elif before.asked_choice:
            answer = self._choice(request, reply, orders, before, refused)
            if answer is not None:
                return answer
        return self._dispatch(request, reply, orders, before)

    def _dispatch(self, request: Request, reply: ReplyClass, orders: list[Order], before: Context) -> str:
        """A message read on its own: a refusal, a question, a cancel request, or none of these."""
        if request.intent is Intent.REFUSE:
            if before.shown or before.previewed:
                return self._declined(tuple(order["order_id"] for order in before.shown))
            return render("nothing_pending", confirming=False)
        if request.intent is Intent.ACCOUNT:
            return self._account(request)
        if request.intent in (Intent.PLACE, Intent.MODIFY, Intent.UNDO, Intent.FEE):
            return render("unsupported", kind=request.intent.value)
        if request.intent is Intent.QUOTE:
            return self._quote(request, orders)
        if request.intent is Intent.ORDERS:
            return self._list(request, orders)
        if request.intent is Intent.ORDER_DETAIL:
            about = chronological(orders_about(request.clues, orders, before.shown, before.focus))
            self.context = Context(shown=tuple(about) if len(about) > 1 else (),
                                   focus=tuple(order["order_id"] for order in about))
            return render("order_detail", orders=about, clue=_clue(request.clues))
        if request.intent is Intent.CANCEL and self.tools.read_only:
            return render("read_only", face="chat")  # no write tool, so no preview either
        if request.intent is Intent.CANCEL:
            return "\n".join(part for part in (*self._asides(request), self._cancel(request, orders, before)) if part)
        if reply.kind is ReplyKind.CONFIRM:
            return render("nothing_pending", confirming=True)
        return render("ack") if reply.weak or request.thanks else render("not_understood")

    def _list(self, request: Request, orders: list[Order]) -> str:
        kind = "open" if request.open_only else "filled" if request.filled_only else "all"
        listed = chronological([order for order in orders if kind == "all" or (
            is_open(order) if kind == "open" else (order.get("filled_qty") or 0) > 0)])
        # Numbered as the user asked ("最新的在前", "按价格从高到低"), so "第二个" is theirs.
        if request.scope.list_order == "newest":
            listed.reverse()
        elif request.scope.list_order in ("price_high", "price_low"):
            listed.sort(key=lambda order: Decimal(str(order.get("limit_price") or 0)),
                        reverse=request.scope.list_order == "price_high")
        self.context = Context(shown=tuple(listed))
        return render("order_list", orders=listed, kind=kind)

    def _asides(self, request: Request) -> list[str]:
        """What a cancel request also asks: whether cancelling works now, cash or positions."""
        asides = []
        if request.cancel_now_question:
            # The broker knows its sessions: whether cancels are accepted now is its answer, not a copy of its rules.
            market = self.tools.call("market_status", {})
            if market.is_error:
                return [_error_text(market)]
            now = str(market.content["now"])
            asides.append(render("cancel_window", now=now, retry_after=cancels_reopen_at(market.content)))
        if request.account_question:
            result = self.tools.call("get_account", {})
            if result.is_error:
                return [*asides, _error_text(result)]
            if request.cash or not request.positions:
                asides.append(render("account", **result.content))
            if request.positions:
                asides.append(render("positions", positions=result.content.get("positions", [])))
        return asides

    def _keep_some(self, request: Request, orders: list[Order], before: Context) -> str:
        """"茅台的别撤", "2不要", "第三笔先别撤" about a batch: the batch without those, confirmed anew."""
        current = {order["order_id"]: order for order in orders}
        batch = [current[order_id] for order_id in before.previewed if order_id in current]
        shown = [current.get(order["order_id"], order) for order in before.shown] or chronological(batch)
        kept_ids = excluded_ids(request.kept_out, batch, shown, tuple(fold(n) for n in names_of(orders)),
                                frozenset(tails_of(orders)))
        kept = [order for order in batch if order["order_id"] in kept_ids] or narrow(request.exclude, batch)
        rest = [order for order in batch if order not in kept and is_open(order)]
        if not kept or not rest:
            return self._declined(before.previewed)
        return self._propose(chronological(rest))

    def _choice(self, request: Request, reply: ReplyClass, orders: list[Order], before: Context,
                refused: bool) -> str | None:
        """The answer to "要撤哪一笔？", or None when the message is a new request."""
        current = {order["order_id"]: order for order in orders}
        shown = [current.get(order["order_id"], order) for order in before.shown]
        clues = request.clues
        if refused:
            return self._declined(tuple(order["order_id"] for order in shown))
        if clues.narrows() or clues.order_ids:
            picked = narrow(clues, shown, request.exclude)
            if picked:
                wants_all = clues.plural or clues.everything or reply.choose_all or len(clues.order_ids) > 1
                return self._propose_or_ask(picked, wants_all and not clues.single, clues)
            return None
        if clues.ordinals or clues.last_of_list:
            return None  # read against the list by the resolver
        if reply.kind is ReplyKind.CHOOSE:
            chosen = shown if reply.choose_all else shown[(reply.choice or 1) - 1:reply.choice or 1]
            return self._propose([order for order in chosen if is_open(order)] or chosen)
        if request.intent is Intent.CANCEL and clues.everything:
            return self._propose([order for order in shown if is_open(order)] or shown)
        if request.intent in (Intent.NONE, Intent.CANCEL) and not clues.points():
            still_open = [order for order in shown if is_open(order)]
            if before.asked_again or not still_open:
                return render("nothing_pending", confirming=False)
            return self._ask_choice(still_open, None, asked_again=True)
        return None

    def _cancel(self, request: Request, orders: list[Order], before: Context) -> str:
        clues = request.clues
        if request.cancel_now_question and not (clues.points() or clues.everything):
            open_orders = chronological([order for order in orders if is_open(order)])
            self.context = Context(shown=tuple(open_orders))
            return render("order_list", orders=open_orders, kind="open")
        found = with_context(resolve_request(request, orders, before.shown, before.focus), clues, orders, before)
        narrowing = request.scope.only or not request.cancel_verb
        if narrowing and len(before.previewed) > 1 and found.kind == "match":
            # "只撤平安银行的" at a batch awaiting a yes: narrowed within the batch, never beyond it
            within = tuple(order for order in found.orders if order["order_id"] in before.previewed)
            found = replace(found, orders=within, plural=True) if within else Resolution("none")
        opening = self._not_found_ids(found) + self._finished_text(found, orders)
        if found.kind == "newest_finished":
            open_orders = chronological(found.orders)
            text = render("newest_finished", order=found.finished[0], open_orders=open_orders)
            if open_orders:
                self._present(open_orders)
            return text
        if found.kind in ("unknown_ids", "finished"):
            return "\n".join(part for part in opening if part)
        if found.kind == "none":
            open_orders = chronological([order for order in orders if is_open(order)])
            self.context = Context(shown=tuple(open_orders))
            return render("no_candidates", clue=_clue(clues), open_orders=open_orders)
        answer = self._propose_or_ask(list(found.orders), found.plural or request.scope.keep_rest, clues,
                                      request.scope.count)
        return "\n".join([*[part for part in opening if part], answer])

    def _not_found_ids(self, found: Resolution) -> list[str]:
        """The user's sentence for each id that fits none of the account's orders (asked of the broker)."""
        texts = []
        for order_id in found.unknown_ids:
            result = self.tools.call("get_order", {"order_id": order_id})
            if result.is_error and result.content["error"].get("code") == "ORDER_NOT_FOUND":
                # The id the user typed, named back: they can see which one was wrong.
                texts.append(render_error({"code": "ORDER_NOT_FOUND", "recovery_hint": "fix_input"},
                                          order_id=order_id[:40]))
            else:
                texts.append(_error_text(result) if result.is_error else render(
                    "order_detail", orders=[result.content], clue=None))
        return texts

    def _finished_text(self, found: Resolution, orders: list[Order]) -> list[str]:
        if not found.finished or found.kind == "newest_finished":
            return []
        open_orders = chronological([o for o in orders if is_open(o)]) if found.kind == "finished" else []
        if found.kind == "finished":
            self.context = Context(shown=tuple(open_orders), focus=tuple(o["order_id"] for o in found.finished))
        return [render("finished_match", finished=list(found.finished), open_orders=open_orders)]

    # --- proposing, asking, executing ----------------------------------------------------------------

    def _propose_or_ask(self, orders: list[Order], plural: bool, clues: Clues, count: int | None = None) -> str:
        """A preview when the words determine exactly these orders; otherwise the numbered question.
        A number the user said must match: "撤三笔" with five candidates asks which."""
        orders = chronological(orders)
        if count is not None and count != len(orders):
            return render("count_mismatch", said=count, found=len(orders)) + "\n" + self._ask_choice(
                orders, _clue(clues))
        if len(orders) == 1 or plural or count == len(orders):
            return self._propose(orders)
        return self._ask_choice(orders, _clue(clues))

    def _propose(self, orders: list[Order]) -> str:
        if self.tools.read_only:
            return render("read_only", face="chat")
        ids = [order["order_id"] for order in orders]
        result = self.tools.call("preview_cancel", {"order_ids": ids})
        if result.is_error:
            return _error_text(result)
        previewed = tuple(result.content["order_ids"])
        shown = tuple(result.content["preview"]) if len(previewed) > 1 else ()
        self.context = Context(shown=shown, previewed=previewed, focus=previewed)
        return str(result.content["text"])

    def _ask_again(self, before: Context, show_preview: bool = False) -> str:
        """A weak or unclear answer to a preview: one shorter question on the same orders (the gate allows
        one; the reply still ends with the preview). A question at the confirmation ("撤了能退回多少钱？")
        gets the whole preview again, which answers it."""
        result = self.tools.call("preview_cancel", {"order_ids": list(before.previewed)})
        if result.is_error:
            return _error_text(result)
        previewed = tuple(result.content["order_ids"])
        self.context = Context(shown=before.shown, previewed=previewed, asked_again=True, focus=previewed)
        return render("reconfirm", count=len(previewed), question=show_preview)

    def _ask_choice(self, orders: list[Order], clue: str | None, asked_again: bool = False) -> str:
        result = self._present(orders, asked_again)
        if result.is_error:
            return _error_text(result)
        return render("candidates", orders=result.content["candidates"], clue=clue)

    def _present(self, orders: list[Order], asked_again: bool = False) -> ToolResult:
        """The numbered question "要撤哪一笔？" (the tool tells the gate how many choices were shown)."""
        result = self.tools.call("present_candidates", {"order_ids": [order["order_id"] for order in orders]})
        if not result.is_error:
            candidates = tuple(result.content["candidates"])
            self.context = Context(shown=candidates, asked_choice=True, asked_again=asked_again,
                                   focus=tuple(order["order_id"] for order in candidates))
        return result

    def _declined(self, order_ids: tuple[str, ...]) -> str:
        self.context = Context(focus=order_ids)
        return render("cancel_declined", count=max(1, len(order_ids)))

    def _execute(self, order_ids: list[str]) -> str:
        result = self.tools.call("cancel_orders", {"order_ids": order_ids})
        if result.is_error:
            return _error_text(result)
        results = result.content["results"]
        available = None
        if any(item["ok"] and item["order"]["side"] == "BUY" for item in results):
            account = self.tools.call("get_account", {})
            available = None if account.is_error else account.content["cash"]["available"]
        text = render("cancelled", results=_distinct_failures(results), available=available)
        # A cancel that failed while the order stays open is offered again, to be confirmed again: never resent.
        retry = [item["order_id"] for item in results if not item["ok"] and (
            is_open(item["order_now"]) if item.get("order_now") else item.get("recovery_hint") == "retry")]
        self.context = Context(focus=tuple(item["order_id"] for item in results if not item["ok"]))
        if retry:
            again = self.tools.call("preview_cancel", {"order_ids": retry})
            if not again.is_error:
                previewed = tuple(again.content["order_ids"])
                self.context = Context(previewed=previewed, focus=previewed,
                                       shown=tuple(again.content["preview"]) if len(previewed) > 1 else ())
                text += "\n" + render("reconfirm", count=len(previewed))
        return text

    def _quote(self, request: Request, orders: list[Order]) -> str:
        """"比亚迪现在多少钱", "宁德跌了没": the price now, from the quote of the stock named."""
        symbols = list(request.clues.symbols)
        for mention in request.clues.names:
            symbols += (list(mention.symbols)[:1] or [o["symbol"] for o in orders if _named(o, mention.names)][:1]
                        or self._symbol_of(mention.names[0] if mention.names else mention.text))
        symbols = list(dict.fromkeys(symbols))
        if not symbols:
            return render("not_understood")
        # "那它的买单撤了吧" next: the orders in the stock just quoted
        self.context = Context(focus=tuple(o["order_id"] for o in orders if o["symbol"] in symbols and is_open(o)))
        parts = []
        for symbol in symbols[:3]:
            result = self.tools.call("get_quote", {"symbol": symbol})
            if result.is_error:
                parts.append(_error_text(result))
                continue
            quote = result.content
            name = next((o["name"] for o in orders if o["symbol"] == symbol), None) or self._name_of(symbol)
            parts.append(render("quote", quote=quote, stock=name, change=price_change(quote)))
        return "\n".join(parts)

    def _symbol_of(self, name: str) -> list[str]:
        found = self.tools.call("find_instruments", {"query": name})
        instruments = [] if found.is_error else found.content.get("instruments", [])
        return [str(instruments[0]["symbol"])] if instruments else []

    def _name_of(self, symbol: str) -> str:
        found = self.tools.call("find_instruments", {"query": symbol})
        instruments = [] if found.is_error else found.content.get("instruments", [])
        return str(instruments[0]["name"]) if instruments else symbol

    def _aside(self, text: str) -> str:
        """What a yes also asked ("确认。顺便看下持仓"): answered when it is a question about the account or
        the orders; a remark ("以后这种不用问我") needs no answer."""
        listing = self.tools.call("list_orders", {"limit": LIST_LIMIT})
        if listing.is_error:
            return ""
        orders: list[Order] = listing.content["orders"]
        request = read_request(text, names_of(orders), tails_of(orders))
        if request.intent is Intent.ACCOUNT:
            return self._account(request)
        if request.intent is Intent.ORDERS:
            return self._list(request, orders)
        if request.intent is Intent.ORDER_DETAIL:
            about = chronological(orders_about(request.clues, orders, (), ()))
            return render("order_detail", orders=about, clue=_clue(request.clues)) if about else ""
        if request.intent is Intent.QUOTE:
            return self._quote(replace(request, clues=look_up_names(self.tools, request.clues)), orders)
        return ""

    def _account(self, request: Request) -> str:
        result = self.tools.call("get_account", {})
        if result.is_error:
            return _error_text(result)
        account = result.content
        parts = []
        if request.cash or not request.positions:
            parts.append(render("account", **account))
        if request.positions:
            parts.append(render("positions", positions=account.get("positions", [])))
        return "\n".join(parts)


def _named(order: Order, names: tuple[str, ...]) -> bool:
    return any(name and name in fold(order.get("name") or "") for name in names)


def _distinct_failures(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A batch that failed the same way for several orders ("现在不接受撤单") says it once."""
    seen: set[str] = set()
    kept = []
    for item in results:
        if not item["ok"]:
            if item["message"] in seen:
                continue
            seen.add(item["message"])
        kept.append(item)
    return kept


def _clue(clues: Clues) -> str | None:
    return " ".join(clues.said) or None


def _error_text(result: ToolResult) -> str:
    return str(result.content["error"]["user_message"])
