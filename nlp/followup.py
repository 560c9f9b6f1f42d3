"""A resident's turn about a problem already reported: asking how it is going, saying it is still not
fixed, or thanking for the fix. Pure reading of the text; which ticket it is about is decided by
`handlers.followup` from the ledger.

The cues are built from how residents speak, not from a list of sentences:

- a **progress question** joins a handling verb or a status noun to a question or a complaint about
  waiting: `修好了吗`, `弄了没`, `有没有人管`, `什么时候来修`, `怎么还没人来`, `进展呢`, `到底有没有人来弄啊`,
  `咋个还没修`, `啥辰光来修`; or refers to the sender's own report and asks (`我反映的问题怎么样了`,
  `那个事情咋样了`, `#2呢`);
- **not fixed** says the problem is back or still there: `还是堵的`, `又坏了`, `根本没修`, `没修好`,
  `味道还有`, `照样漏`, `白修了`;
- **thanks** is a short message of thanks or of a fix confirmed (`谢谢王主任👍`, `修好了，辛苦了`),
  with no question, no complaint and no problem in it. That is what counts as *clear*: anything with a
  question mark or `吗`, a negation of the fix or a problem word is not a thanks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from nlp.classification import normalise_message


class Turn(StrEnum):
    PROGRESS = "progress"
    NOT_FIXED = "not_fixed"
    THANKS = "thanks"


@dataclass(frozen=True)
class FollowUp:
    """What the turn is and what it points at: a ticket number it names (`#2`), and whether it speaks of the
    sender's own report (`我反映的`, `我前面说的那个`) rather than of a problem in general."""

    turn: Turn
    number: int | None
    own: bool


_HANDLE = r"(?:修|弄|搞|整|处理|解决|办|管|疏通|通|换|清理|清运|运走|拉走|维修|检修|来人|回复|答复)"
_ASK = r"(?:吗|么|嘛|没|没有|冇|未|不|呢|啊|呀|哇|\?)"
_NUMBER = re.compile(r"(?:#|编号|单号)\s*(\d{1,7})")  # not 第2: `第2次反映了` counts, it names no ticket
_OWN = re.compile(
    r"我(?:家|们)?(?:前面|之前|上次|上回|昨天|前天|前几天|刚才|早上|上午|下午|晚上|那天|早先)?(?:说|讲|反映|报|提|报修|投诉|问|发)"
    r"(?:过)?的|我(?:反映|报修|投诉)(?:过)?的"
)
_REFERENCE = re.compile(r"(?:那个|这个|那件|这件|上次的|之前的|前面的|上回的)[^,.;!?，。；！？]{0,12}?(?:事|问题|情况)")
_PROGRESS = re.compile(
    "|".join(
        (
            rf"{_HANDLE}(?:好|完|掉|了|过)?了?(?:没有|吗|么|嘛|冇|未|(?:没|不)(?=$|[\s,.;!?，。；！？~啊呀哇啦嘞]))",
            rf"{_HANDLE}(?:好|完)了?(?:\?|呢|啊|呀)",
            rf"(?:有没有|有冇|可有|有无|有木有)(?:人|谁)?(?:来|去|过来|上门)?{_HANDLE}",
            rf"有(?:人|谁)(?:来|去|过来|上门)?{_HANDLE}[^,.;!?，。；！？]{{0,4}}?(?:吗|么|没|没有|不|\?)",
            rf"(?:没|冇|莫得|没有)人(?:来|去|过来|上门)?{_HANDLE}(?:吗|么|啊|呀|\?|呢)",
            rf"(?:什么时候|啥时候|几时|多久|何时|啥辰光|哪天|几点|多长时间)(?:能|可以|会|才|给|来)?(?:来|上门)?(?:人|{_HANDLE}|好|恢复|来水|来电)",
            r"还要(?:等)?(?:多久|多长时间|几天)",
            rf"(?:怎么|咋|咋个|为啥|为什么|为何|怎的|哪能)(?:还|都|到现在|现在)?(?:是)?(?:没|冇|莫得|莫|没有|不)(?:人|动静|消息|回音)?(?:来|{_HANDLE}|好|动)",
            rf"(?:还|到现在|至今|一直)(?:都)?(?:没|冇|没有|莫得|莫)(?:人|见人)?(?:来|{_HANDLE}|动静|消息|回音|回复)",
            r"(?:到底|究竟)[^,.;!?，。；！？]{0,10}?(?:有没有|管不管|修不修|来不来|弄不弄|行不行|吗|么|没|呢|啊|\?)",
            r"(?:进展|进度|结果|回音|回复|答复|下文|动静|处理结果)(?:呢|如何|怎么样|咋样|怎样|吗|么|啊|\?)",
            r"有(?:没有)?(?:进展|进度|结果|回音|回复|答复|下文|动静)",
            r"(?:怎么样|咋样|如何|怎样|啥情况|什么情况|咋回事|怎么回事)了",
        )
    )
)
_STATUS_ASK = re.compile(r"(?:怎么样|咋样|如何|怎样|啥情况|什么情况|呢|吗|么|\?|了没|没有)")
_NOT_FIXED = re.compile(
    "|".join(
        (
            r"还是(?:老样子|一样|那样|这样|不行|没用|不|没|堵|坏|漏|黑|臭|吵|停|有|冒|滴|渗|响|冷|凉|不亮)",
            r"(?:又|再次|重新)(?:坏|堵|漏|冒|停|不亮|黑|响|吵|臭|出现|开始|来了|犯|滴|渗|返|反|没水|没电|断)",
            r"根本(?:就)?(?:没|没有|不|莫)(?:修|弄|好|解决|处理|通|来|用)",
            r"(?:没|没有|并没有|并没|也没|压根没)(?:修好|弄好|搞好|整好|解决|处理好|通|修|好)",
            r"(?:还|仍|仍然|依然|依旧|照样|照旧|继续)(?:是|在|有|不|堵|漏|坏|冒|滴|渗|臭|吵|响|黑)",
            r"(?:味道|味儿|臭味|气味|异味|声音|响声|水)[^,.;!?，。；！？]{0,3}?(?:还|依然|仍然|仍|照样)(?:有|在|没|是|很)",
            r"白修|等于没修|一点(?:都|也)?没(?:变|好|用)|治标不治本|没啥用|没什么用|不管用|通个屁|修了个寂寞",
        )
    )
)
_THANKS = re.compile(
    r"谢谢|感谢|多谢|谢了|谢啦|辛苦(?:了|啦|你|您)|麻烦(?:你|您)了|点赞|给力|👍|🙏|💐|太好了|修好了|弄好了|搞定了|"
    r"通了|亮了|来水了|有水了|来电了|好了好了|解决了"
)
_NOT_THANKS = re.compile(r"[?？]|吗|么|没|不|别|还是|又|怎么|咋|为什么|为啥|到底|啥时候|什么时候")
_THANKS_MAX_CHARS = 30


def read_follow_up(text: str) -> FollowUp | None:
    """The follow-up turn in `text`, or None when it is none of the three."""
    folded = normalise_message(text)
    number_match = _NUMBER.search(folded)
    number = int(number_match.group(1)) if number_match else None
    own = bool(_OWN.search(folded) or _REFERENCE.search(folded))
    if _NOT_FIXED.search(folded):
        return FollowUp(Turn.NOT_FIXED, number, own)
    if _PROGRESS.search(folded) or ((own or number is not None) and _STATUS_ASK.search(folded)):
        return FollowUp(Turn.PROGRESS, number, own)
    if len(folded) <= _THANKS_MAX_CHARS and _THANKS.search(folded) and not _NOT_THANKS.search(folded):
        return FollowUp(Turn.THANKS, number, own)
    return None
