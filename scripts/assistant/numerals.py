"""Numbers as people say them about an order: "1800", "1,800.00", "一千八", "两百股", "10手", "11块3".

Pure text functions. A number followed by 股/手 is a quantity (1手 = 100股), one with 元/块 or after 价格/限价/@
is a price, and a bare one ("1800的那单") may be either: the order decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

SHARES_PER_LOT = 100  # 1手 = 100股 on every A-share board

CHINESE_DIGITS = {"零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "俩": 2, "三": 3, "叁": 3, "四": 4,
                  "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CHINESE_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "万": 10000}
_CN = "零〇一壹二贰两俩三叁四五六七八九十拾百佰千仟万"
_CN_DIGIT = "零〇一壹二贰两三叁四五六七八九"

NUMBER = (r"(?P<num>\d+(?:,\d{3})*(?:\.\d+)?(?:\s*[万千百](?![" + _CN_DIGIT + r"]))?"
          r"|[" + _CN + r"]+(?:点[" + _CN_DIGIT + r"]+)?)")
# 11块3, 11块30, 11块3毛: yuan and jiao
YUAN_JIAO = re.compile(r"(?P<yuan>\d+|[" + _CN + r"]+)\s*块\s*(?P<jiao>\d{1,2}|[" + _CN_DIGIT + r"])(?:毛|角)?"
                       r"(?:\s*(?P<fen>\d|[" + _CN_DIGIT + r"])分?)?(?!\d)")
MENTION = re.compile(
    r"(?P<before>价格|价位|限价|挂价|报价|价钱|单价|价|@|at|price)?\s*(?:是|为|在)?\s*" + NUMBER
    + r"\s*(?P<unit>股|手|元|块钱|块|rmb|yuan|shares?|lots?)?", re.IGNORECASE)
# Chinese numbers that are no quantity nor price: "一个", "一下", "一起", "第一", "一键" …
COUNTING_AFTER = re.compile(r"^\s*(?:个|笔|单|下|起|键|次|遍|样|点|些|会|直|共|半|大半|部分|天|只|支|条|项|号|位|种|"
                            r"分钟|秒|小时|年|月|日|周|min|minutes?|hours?|seconds?)")


@dataclass(frozen=True)
class NumberMention:
    value: Decimal
    kind: Literal["price", "qty", "any"]
    text: str  # as the user wrote it, to echo back


def chinese_number(text: str) -> Decimal | None:
    """`一千八` → 1800, `两百五` → 250, `一万二` → 12000, `十一点三` → 11.3, `一千零五十` → 1050."""
    whole, _, decimals = text.partition("点")
    value = _chinese_integer(whole)
    if value is None:
        return None
    if decimals:
        digits = "".join(str(CHINESE_DIGITS[c]) for c in decimals if c in CHINESE_DIGITS)
        if len(digits) != len(decimals):
            return None
        return Decimal(f"{value}.{digits}")
    return Decimal(value)


def _chinese_integer(text: str) -> int | None:
    if not text or any(c not in CHINESE_DIGITS and c not in CHINESE_UNITS for c in text):
        return None
    total, section, digit = 0, 0, None
    last_unit = 0
    for char in text:
        if char in CHINESE_DIGITS:
            digit = CHINESE_DIGITS[char] if digit is None else digit * 10 + CHINESE_DIGITS[char]
            continue
        unit = CHINESE_UNITS[char]
        if unit == 10000:
            total += (section + (digit or 0)) * unit
            section = 0
        else:
            section += (1 if digit is None else digit) * unit
        digit, last_unit = None, unit
    if digit is not None:
        # "一千八" is 1800 and "两百五" 250: a last digit right after a unit counts in the next smaller unit.
        after_unit = text[-2] in CHINESE_UNITS if len(text) >= 2 else False
        section += digit * (last_unit // 10) if after_unit and last_unit >= 100 else digit
    return total + section


def _value(token: str) -> Decimal | None:
    token = token.replace(",", "").replace(" ", "")
    if token and token[0].isdigit():
        multiplier = CHINESE_UNITS.get(token[-1], 1)
        try:
            return Decimal(token.rstrip("万千百")) * multiplier
        except InvalidOperation:
            return None
    return chinese_number(token)


def number_mentions(text: str) -> list[NumberMention]:
    """Every price or quantity in `text` (ids, codes, times and ordinals must be taken out before)."""
    found: list[NumberMention] = []
    for match in YUAN_JIAO.finditer(text):
        yuan, jiao = _value(match["yuan"]), _value(match["jiao"])
        fen = _value(match["fen"]) if match["fen"] else Decimal(0)
        if yuan is not None and jiao is not None and fen is not None:
            fraction = jiao / 10 + fen / 100 if len(match["jiao"]) == 1 else jiao / 100
            found.append(NumberMention((yuan + fraction).quantize(Decimal("0.01")), "price", match.group(0)))
    text = YUAN_JIAO.sub(" ", text)
    for match in MENTION.finditer(text):
        token, unit = match["num"], (match["unit"] or "").lower()
        chinese = not token[0].isdigit()
        if chinese and not unit and (not any(c in CHINESE_UNITS or c == "点" for c in token)
                                     or COUNTING_AFTER.match(text[match.end():])):
            continue  # "一个", "一下", "第一": words, not amounts
        value = _value(token)
        if value is None or value <= 0:
            continue
        if unit in ("股", "share", "shares"):
            found.append(NumberMention(value, "qty", match.group(0).strip()))
        elif unit in ("手", "lot", "lots"):
            found.append(NumberMention(value * SHARES_PER_LOT, "qty", match.group(0).strip()))
        elif unit or match["before"]:
            found.append(NumberMention(value, "price", match.group(0).strip()))
        elif not COUNTING_AFTER.match(text[match.end():]) or "." in token:
            found.append(NumberMention(value, "any", match.group(0).strip()))
    return found


def matches_number(order: dict[str, object], mention: NumberMention) -> bool:
    """A price equals the limit price; a quantity equals the order's or what is still open of it."""
    price_ok = order.get("limit_price") is not None and Decimal(str(order["limit_price"])) == mention.value
    quantities = {order.get("qty"), order.get("remaining_qty")}
    qty_ok = mention.value == mention.value.to_integral_value() and int(mention.value) in quantities
    if mention.kind == "price":
        return price_ok
    if mention.kind == "qty":
        return qty_ok
    return price_ok or qty_ok
