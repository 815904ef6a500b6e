"""The clues of order-management requests, as regular expressions over folded text (NFKC, lower case).

For `clues.py` and `intent.py`. The words — how people say "cancel", "don't", "the one I just placed", "all of
them", "buy", a question about cash or positions — are data: the `[clue.*]` tables of `lexicon.toml`, read by
`rule`. What stays here is grammar with numbers and groups in it: ids, codes, clock times, ordinals, counts.
"""

from __future__ import annotations

import re

from .lexicon import alternation, rule, words

# --- ids and codes -----------------------------------------------------------------------------------------
FULL_ID = re.compile(r"ord_[a-z0-9]+_[a-z0-9]{8}(?![a-z0-9])")
PREFIXED_SHORT_ID = re.compile(r"ord_([a-z0-9]{8})(?![a-z0-9_])")
TOKEN8 = re.compile(r"(?<![a-z0-9_])([a-z0-9]{8})(?![a-z0-9_])")
PREFIXED_CODE = re.compile(r"^(?:sh|sz|bj)\d{6}$")
# 600519, sh600519, SH 600519, 600519.SH; not a quantity ("100000股") nor part of a longer number
CODE = re.compile(r"(?<![0-9a-z])(?:(?:sh|sz|bj)\s?)?(\d{6})(?:\s?\.\s?(?:sh|sz|bj)(?![a-z]))?"
                  r"(?![0-9.,]|\s*[股手元块万千])")
CLOCK_TIME = re.compile(r"(?<![0-9])([01]?\d|2[0-3])[:：]([0-5]\d)(?::[0-5]\d)?(?![0-9])")
# 9点半, 9点50分, 九点五十分, 9点50 (two digits after 点 read as minutes in trading hours, not 9.50)
SPOKEN_TIME = re.compile(r"(?<![0-9])([01]?\d|2[0-3]|[一二两三四五六七八九十]{1,3})点"
                         r"(半|(\d{2}(?=\D|$)|(?:\d{1,2}|[一二三四五六七八九十零]{1,3})(?=分))分?)")

# --- what the user refuses, keeps, or says in passing ---------------------------------------------------
# Any of these makes a clause a refusal (or, with a target in it, an exclusion: "卖单留着").
REFUSAL = rule("clue", "refusal")
# A clause that is nothing but one of these refuses ("取消" at a confirmation is "don't").
REFUSAL_ALONE = frozenset(words("negation", "alone"))  # the gate's own list (lexicon.toml)
# A clause that only gives context about what was meant, not a target: "本来想买300股".
COUNTERFACTUAL = rule("clue", "counterfactual")
CORRECTION_MARK = re.compile(r"(不对|搞错了|弄错了|说错了|看错了)(?=.)")
NOT_THIS_BUT = re.compile(r"(不是[^,]+?)((?:而)?是)")

# --- intent -----------------------------------------------------------------------------------------------
CANCEL_VERB = rule("clue", "cancel")
QUESTION = rule("clue", "question")
ORDERS_TOPIC = rule("clue", "orders_topic")
OPEN_ONLY = rule("clue", "open_only")
LISTING_CANCELLABLE = re.compile(r"哪些.*(?:可以|能|可)撤|(?:可以|能|可)撤的.*(?:哪些|什么|几|多少)|"
                                 r"什么.*(?:可以|能)撤|"
                                 r"\bwhat can i cancel\b|\bwhich .*can .*cancel")
FILLED_ONLY = re.compile(r"(?:哪些|哪几|什么|哪个).{0,6}成交了|成交了(?:哪些|哪几|什么|多少)|成交了的|已成交的|"
                         r"已经成交的|成交了几|几笔成交|成交记录|成交明细|"
                         r"成交了多少笔|\bfilled\b")
CASH = rule("clue", "cash")
POSITIONS = rule("clue", "positions")

# --- clues ------------------------------------------------------------------------------------------------
RECENT = rule("clue", "recent")
RECENT_COUNT = re.compile(r"(?:最近|刚才|刚刚|最新|刚)(?:下|挂|买|卖|报)?的?\s*(两|二|三|四|五|[2-9])\s*[笔单个条]")
# 上午挂的 / 下午的: minutes after midnight, [from, to)
MORNING = rule("clue", "morning")
AFTERNOON = rule("clue", "afternoon")
EARLIEST = rule("clue", "earliest")
# "就刚才问的那笔", "就这笔": the order the last reply was about, not the newest
BACK_REFERENCE = rule("clue", "back_reference")
EVERYTHING = rule("clue", "everything")
PLURAL = rule("clue", "plural")
# "招行那笔也撤了": the orders just talked about, and these too
ADDITIVE = rule("clue", "additive")
# "撤另外那笔": the open order(s) other than the ones just talked about
OTHER = rule("clue", "other")
# "现在能撤单吗？": a question whether cancelling works at this hour
CAN_CANCEL_NOW = re.compile(r"(?:能|可以|能不能|可不可以|可否)\s*撤(?:单|销|掉)?\s*(?:吗|么|不|\?)|"
                            r"\bcan i (?:still )?cancel\b(?: now| right now| at the moment)?\s*\?")
# cash or positions asked in the same message as a cancel ("先告诉我可用资金多少，然后把刚才那单撤了")
ACCOUNT_QUESTION = rule("clue", "account_question")
THANKS = rule("clue", "thanks")
SINGLE = rule("clue", "single")
PARTIAL = rule("clue", "partial")
BUY = rule("clue", "buy")
SELL = rule("clue", "sell")
ORDINAL = re.compile(r"第\s*(\d{1,2}|[一二两三四五六七八九十]{1,3})\s*(?:个|笔|单|条|项|号|行|只)?")
FIRST_N = re.compile(r"前\s*(\d|[两二三四五])\s*(?:个|笔|单|条|项)")
LAST_ONE = re.compile(alternation(words("request", "last_one")))
ORDINAL_EN = re.compile(r"\b(first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th)\b|"
                        r"(?:#|\bnumber\s?|\bno\.\s?)(\d{1,2})\b")
ENGLISH_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
                    "fifth": 5, "5th": 5}
CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")

# Words that carry no stock name: what is left of a message after them may be a name the account has no
# order in ("撤掉中石油那笔" → 中石油). Longest first when compiled.
FUNCTION_WORDS = (
    "撤单", "撤销", "撤掉", "撤回", "撤了", "撤下", "撤喽", "撤咯", "撤啦", "撤", "取消", "删掉", "删除",
    "删了", "删", "干掉", "作废", "拿掉", "去掉", "不要了", "不要", "不想要", "不买了", "不卖了", "不挂了",
    "不玩了", "不想买", "不想卖", "不买", "不卖", "不挂", "不玩", "不做了", "委托单", "委托号", "委托",
    "订单号", "订单", "挂单", "单子", "单号", "编号", "号码", "代码", "股票", "证券", "那笔", "这笔", "那单",
    "这单", "那个", "这个", "那只", "这只", "那支", "这支", "一笔", "一单", "一个", "笔", "单", "个", "只",
    "支", "号", "条", "刚才", "刚刚", "刚下", "刚挂", "刚买", "刚卖", "刚报", "刚", "上一笔", "上一单",
    "上一个", "上笔", "最近", "最新", "最后", "方才", "之前", "前面", "下的", "挂的", "报的", "提交", "买入",
    "买进", "买单", "买的", "买了", "买", "卖出", "卖单", "卖的", "卖了", "卖掉", "卖", "抛", "剩下", "剩余",
    "剩", "没成交", "未成交", "成交", "部分", "没卖掉", "没卖完", "卖完", "没买到", "还没", "没有", "没",
    "已经", "已", "还在", "还挂着", "挂着", "挂", "一直", "半天", "全部", "所有", "全都", "统统", "一键",
    "一起", "全", "都", "其他", "其余", "别的", "这些", "那些", "两笔", "两个", "帮我", "帮忙", "麻烦", "请",
    "给我", "替我", "帮", "我们", "我的", "我", "你", "您", "把", "将", "给", "的", "了", "吧", "吗", "呢",
    "啊", "呀", "哦", "噢", "嗯", "喽", "咯", "啦", "嘛", "哈", "一下", "下", "谢谢", "谢了", "多谢", "就",
    "也", "再", "先", "还", "要", "想", "得", "能", "可以", "那", "这", "它", "那就", "然后", "和", "跟",
    "与", "及", "或", "呃", "额", "哎", "唉", "好", "好的", "行", "对", "是", "今天", "今日", "现在", "目前",
    "马上", "赶紧", "赶快", "快", "快点", "立刻", "立即", "处理", "操作", "股", "手", "元", "块", "毛", "钱",
    "价格", "价位", "限价", "价", "数量", "的话", "确认", "确定", "一", "下错", "错", "结果", "成", "本来",
    "原本",
)
FUNCTION_WORD = re.compile("|".join(re.escape(word) for word in sorted(set(FUNCTION_WORDS), key=len, reverse=True)))
