"""The service directory (`faq:` in config.yaml): which entry answers an inquiry.

An entry answers a message that names its topic (one of its `keywords`) and asks what the entry answers
(one of its `asks`, else `DEFAULT_ASKS`: how to apply, where, what to bring, …), and that states no problem
with the service (`低保的钱这个月咋还没到账呢`, `低保被取消了`): a problem is followed up as a report, the
application procedure is no answer to it. Of the entries that answer, the one whose matched keywords cover the
most characters wins (`医保卡补办` beats `医保`), ties going to the earlier entry.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from nlp.classification import normalise_message
from settings.models import FaqEntry

# What the usual entry (a service and how to get it) answers: how, where, what to bring, whom to call.
DEFAULT_ASKS = (
    "怎么申请", "如何申请", "咋申请", "能申请", "可以申请", "申请条件", "怎么办理", "如何办理", "咋办理", "怎么办",
    "咋办", "怎么弄", "咋弄", "怎么补", "补办", "怎么交", "怎么缴", "在哪交", "需要什么", "需要哪些", "要什么",
    "要带", "带什么", "什么材料", "材料", "证件", "在哪办", "哪里办", "哪儿办", "在哪", "去哪", "到哪", "哪个窗口",
    "流程", "手续", "条件", "电话", "几点", "什么时候办", "能办吗", "可以办",
)  # fmt: skip

# A problem with the service itself: money that did not come, a benefit stopped, an application not granted.
_PROBLEM = re.compile(
    "没到账|未到账|还没到|没到位|没发|未发|没批|不批|未批|没通过|未通过|没下来|没收到|不给|没办好|办不下来|"
    "取消|停发|停了|断了|扣了|被扣|扣钱|少发|少了|被拒|拒绝|驳回|出错|弄错|冒领|用不了|不能用"
)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def states_problem(text: str) -> bool:
    """Whether the message reports something gone wrong with a service rather than asking how to get it."""
    return _PROBLEM.search(_fold(normalise_message(text))) is not None


def match_faq(text: str, entries: Sequence[FaqEntry]) -> FaqEntry | None:
    """The directory entry that answers `text`, or None (no topic, not its question, or a problem statement)."""
    message = _fold(normalise_message(text))
    if _PROBLEM.search(message):
        return None
    best, best_cover = None, 0
    for entry in entries:
        asks = entry.asks or DEFAULT_ASKS
        if not any(_fold(ask) in message for ask in asks if ask):
            continue
        cover = sum(len(keyword) for keyword in {_fold(k) for k in entry.keywords} if keyword and keyword in message)
        if cover > best_cover:
            best, best_cover = entry, cover
    return best
