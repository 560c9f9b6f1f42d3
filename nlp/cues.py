"""The cue words that decide a message's intent, and the negation and hedge rules around them.

Every cue the classifier reacts to is in the tuples below, so they can be reviewed (and argued
about) in one place. Category keywords are not here: they come from `config.yaml` or a trained
model. Cues are matched on the normalised, case-folded message text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Greetings, thanks and acknowledgements: chatter in a short message without a problem cue.
ACK_CUES = (
    "早上好", "早安", "中午好", "下午好", "晚上好", "晚安", "你好", "您好", "大家好",
    "谢谢", "感谢", "多谢", "辛苦了", "辛苦啦", "麻烦你们了", "麻烦您了",
    "收到", "好的", "好滴", "好嘞", "嗯嗯", "明白", "知道了", "ok", "哈哈", "呵呵",
    "点赞", "给力", "欢迎", "恭喜", "快乐", "👍", "🙏", "👌", "🌹", "💐",
)  # fmt: skip

# Notices and "it is fixed" messages: they mention a category keyword but report nothing.
NOTICE_CUES = (
    "通知", "温馨提示", "提醒大家", "请大家", "各位居民", "各位业主", "各位邻居", "提前储水",
    "已修好", "修好了", "已经好了", "已处理", "处理好了", "已解决", "解决了", "已恢复", "恢复了",
    "来电了", "来水了", "已清理", "清走了", "活动", "报名", "讲座",
)  # fmt: skip

# Something is wrong: turns a message with or without a category keyword into a report.
PROBLEM_CUES = (
    "坏了", "坏掉", "损坏", "故障", "不亮", "不通", "不能用", "用不了", "不出水", "没水", "没电",
    "堵了", "堵住", "漏", "渗", "没人管", "没人处理", "没人来", "还没", "怎么还", "好几天", "几天了",
    "一直", "天天", "每天", "半夜", "又", "太吵", "吵死", "乱", "臭", "脏", "满了", "溢出",
    "麻烦处理", "麻烦管", "麻烦看", "麻烦来", "麻烦派", "能不能管管", "管管", "管一下", "处理一下",
    "修一下", "来看看", "看一下", "投诉", "反映", "举报", "受不了", "影响", "危险", "隐患", "怎么回事",
    "失灵", "没反应", "打不通", "不管", "没人", "不理", "不听", "不了", "不住", "不进", "不去", "不出去",
    "断了", "破了", "裂了", "爆了", "松了", "歪了", "倒了", "掉了", "丢了", "冒", "随便", "差点", "吓人",
    "好久", "半天", "一整夜", "到处", "被偷", "被砸", "被撬", "被划", "被人", "睡不着", "恶心", "严重",
    "建议", "希望能", "请相关部门", "不合理", "不方便", "太慢", "太差", "违规", "有人管吗", "管不管",
)  # fmt: skip

# Asking how to get a service done.
INQUIRY_CUES = (
    "请问", "想问", "问一下", "问下", "咨询", "有谁知道", "谁知道", "怎么办理", "如何办理", "怎么申请",
    "如何申请", "想了解", "在哪里办", "在哪办", "去哪办", "哪里办", "需要什么材料", "要什么材料", "需要带什么",
    "什么手续", "办理流程", "电话多少", "联系方式", "在哪里", "在哪", "去哪", "怎么交", "怎么领", "怎么报名",
    "几点上班", "上班吗", "可以吗", "需要审批", "有规定吗", "怎么收费",
)  # fmt: skip

# A question (`...吗?`, `怎么...`) about one of these is an inquiry even without an inquiry cue.
SERVICE_TERMS = (
    "低保", "医保", "社保", "养老金", "养老保险", "居住证", "残疾证", "廉租房", "公租房", "就业",
    "户口", "证明", "老年证", "补贴", "津贴", "办证", "盖章",
)  # fmt: skip
QUESTION_CUES = ("?", "吗", "么", "呢", "怎么", "如何", "哪里", "哪儿", "多少", "几点")

# Just before a problem cue, these deny it (`电梯没有坏掉`, `不是漏水`): the message reports nothing.
NEGATIONS = ("没有", "不是", "并非", "没", "无", "未")

# Danger to people right now, with the category to use when no keyword points elsewhere.
DANGER_TERMS = (
    ("着火", "parking_fire"), ("起火", "parking_fire"), ("失火", "parking_fire"), ("火灾", "parking_fire"),
    ("冒烟", "parking_fire"), ("烧起来", "parking_fire"), ("煤气味", "parking_fire"),
    ("燃气味", "parking_fire"), ("天然气味", "parking_fire"), ("煤气泄漏", "parking_fire"),
    ("燃气泄漏", "parking_fire"), ("闻到煤气", "parking_fire"), ("闻到燃气", "parking_fire"),
    ("漏气", "parking_fire"),
    ("被困", "facilities"), ("困人", "facilities"), ("困在电梯", "facilities"), ("关在电梯", "facilities"),
    ("卡在电梯", "facilities"),
    ("摔倒", "elderly_care"), ("跌倒", "elderly_care"), ("晕倒", "elderly_care"), ("昏倒", "elderly_care"),
    ("倒地", "elderly_care"), ("受伤", "elderly_care"), ("流血", "elderly_care"),
    ("电线裸露", "power"), ("漏电", "power"), ("触电", "power"),
    ("高空坠物", "security"), ("砸到人", "security"), ("救命", "security"),
    ("摔了", "elderly_care"), ("摔伤", "elderly_care"), ("不省人事", "elderly_care"), ("掉下去", "security"),
    ("拿刀", "security"), ("持刀", "security"), ("火苗", "parking_fire"), ("浓烟", "parking_fire"),
)  # fmt: skip
# Just before a danger term, these deny it (`没有着火`, `不是煤气味`, `无人被困`).
DANGER_NEGATIONS = ("没", "不是", "并非", "无", "未")
# Questions that contain a negation but still raise the alarm (`是不是着火了`).
DANGER_QUESTIONS = ("是不是", "有没有")
# These make the danger hypothetical: a warning or a hazard, not an emergency (`容易着火`).
DANGER_HEDGES_BEFORE = ("容易", "小心", "防止", "预防", "注意", "万一", "以免", "避免", "会", "怕")
DANGER_HEDGES_AFTER = ("隐患", "风险", "演练", "预防")

NEGATION_WINDOW = 3
HEDGE_WINDOW = 5
# Ack and notice cues make a short message chatter; a long letter ending in 谢谢 is still a report.
SHORT_MESSAGE = 40
# Residents chat in short lines; a message this long (as long as the longest a greeting or thanks
# may be) that is no notice is a matter to record, even when no keyword of ours names its subject.
LONG_MESSAGE = SHORT_MESSAGE
# Notice cues count only near the start (`【通知】...`, `温馨提示：...`).
NOTICE_HEAD = 12

_CLAUSE_BREAK = re.compile(r"[,.;:!?、，。；：！？\s]")


def _alternation(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(word) for word in sorted(set(words), key=len, reverse=True)))


_ACK = _alternation(ACK_CUES)
_NOTICE = _alternation(NOTICE_CUES)
_PROBLEM = _alternation(PROBLEM_CUES)
_INQUIRY = _alternation(INQUIRY_CUES)
_SERVICE = _alternation(SERVICE_TERMS)
_QUESTION = _alternation(QUESTION_CUES)
_DANGER = _alternation(tuple(term for term, _ in DANGER_TERMS))
DANGER_CATEGORY = dict(DANGER_TERMS)


def clause_before(text: str, start: int, width: int) -> str:
    """Up to `width` characters before `start`, cut at the last clause break."""
    window = text[max(start - width, 0) : start]
    breaks = list(_CLAUSE_BREAK.finditer(window))
    return window[breaks[-1].end() :] if breaks else window


def token_starts(tokens: Sequence[str]) -> frozenset[int]:
    """Offsets in the text at which a jieba token starts (the tokens cover the text in order)."""
    starts, offset = set(), 0
    for token in tokens:
        starts.add(offset)
        offset += len(token)
    return frozenset(starts)


def problem_cues(text: str, starts: frozenset[int] | None = None) -> list[str]:
    """The problem cues in `text` that start a token and are not denied by a negation before them.

    With `starts` (from `token_starts`), a cue inside another word does not count: `天天` is a
    problem cue (`天天停水`) but not in `今天天气`.
    """
    found = []
    for match in _PROBLEM.finditer(text):
        cue = match.group()
        if starts is not None and match.start() not in starts:
            continue
        if not cue.startswith(NEGATIONS) and clause_before(text, match.start(), NEGATION_WINDOW).endswith(NEGATIONS):
            continue
        found.append(cue)
    return found


def is_inquiry(text: str) -> bool:
    """An explicit inquiry cue, or a question about a public service."""
    return bool(_INQUIRY.search(text)) or is_service_question(text)


def is_service_question(text: str) -> bool:
    """A question about a public service (`医保卡丢了能补办吗`): an inquiry even with a problem cue in it."""
    return bool(_SERVICE.search(text) and _QUESTION.search(text))


def is_question(text: str) -> bool:
    return _QUESTION.search(text) is not None


def is_ack_or_notice(text: str) -> bool:
    """A greeting, thanks, ack or notice in a short message, or a notice cue at the start of a long one."""
    if len(text) <= SHORT_MESSAGE:
        return bool(_ACK.search(text) or _NOTICE.search(text))
    return _NOTICE.search(text[:NOTICE_HEAD]) is not None


def live_danger(text: str) -> str | None:
    """The first danger term in `text` that is neither denied nor hypothetical."""
    for match in _DANGER.finditer(text):
        if not _defused(text, match.start(), match.end()):
            return match.group()
    return None


def _defused(text: str, start: int, end: int) -> bool:
    near = clause_before(text, start, NEGATION_WINDOW)
    for question in DANGER_QUESTIONS:
        near = near.replace(question, "")
    if any(negation in near for negation in DANGER_NEGATIONS):
        return True
    before = clause_before(text, start, HEDGE_WINDOW)
    return any(hedge in before for hedge in DANGER_HEDGES_BEFORE) or text.startswith(DANGER_HEDGES_AFTER, end)
