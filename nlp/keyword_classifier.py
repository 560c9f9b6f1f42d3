"""The first classifier: cue words and the categories' keywords from the configuration.

Every cue word the classifier reacts to is in the tuples below, so they can be reviewed (and
argued about) in one place. The category keywords themselves come from `config.yaml`.

The decision, in order:

1. No letters at all (empty, emoji, punctuation, `[图片]`-style placeholders) -> chatter.
2. A danger term that is not negated (`没有着火`) or hypothetical (`容易着火`) -> urgent.
3. Without a problem cue: a question about a service -> inquiry; a greeting, thanks, ack or
   notice -> chatter; no category keyword either (`我也是`) -> chatter.
4. Otherwise -> report.

The category is the one with the most keyword hits (longest keyword first, hits may not
overlap); ties go to the earlier category in the configuration, no hit to the fallback category.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from nlp.classification import Classification, Intent, normalise_message
from nlp.places import extract_place
from settings.models import Settings

# Greetings, thanks and acknowledgements: chatter unless a problem cue comes with them.
ACK_CUES = (
    "早上好", "早安", "中午好", "下午好", "晚上好", "晚安", "你好", "您好", "大家好",
    "谢谢", "感谢", "多谢", "辛苦了", "辛苦啦", "麻烦你们了", "麻烦您了",
    "收到", "好的", "好滴", "好嘞", "嗯嗯", "明白", "知道了", "ok", "哈哈", "呵呵",
    "点赞", "给力", "👍", "🙏", "👌", "🌹", "💐",
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
)  # fmt: skip

# Asking how to get a service done.
INQUIRY_CUES = (
    "请问", "想问", "问一下", "问下", "咨询", "有谁知道", "谁知道", "怎么办理", "如何办理", "怎么申请",
    "如何申请", "想了解", "在哪里办", "在哪办", "去哪办", "哪里办", "需要什么材料", "要什么材料", "需要带什么",
    "什么手续", "办理流程", "电话多少", "联系方式",
)  # fmt: skip

# A question ("...吗?") about one of these is an inquiry even without an inquiry cue.
SERVICE_TERMS = (
    "低保", "医保", "社保", "养老金", "养老保险", "居住证", "残疾证", "廉租房", "公租房", "就业",
    "户口", "证明", "老年证", "补贴", "津贴", "办证", "盖章",
)  # fmt: skip
QUESTION_MARKS = ("?", "吗", "么", "呢")

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
# Longer messages are pasted articles; their start is enough to classify them.
MAX_CHARS = 4000

_PLACEHOLDER = re.compile(r"\[[^\[\]]{1,8}\]")
_CLAUSE_BREAK = re.compile(r"[,.;:!?、，。；：！？\s]")


@dataclass(frozen=True)
class _Tally:
    """Keyword hits of one category, and how many characters they cover."""

    hits: int = 0
    chars: int = 0

    def plus(self, keyword: str) -> _Tally:
        return _Tally(self.hits + 1, self.chars + len(keyword))


class KeywordClassifier:
    """Keyword classifier over the categories of `settings`.

    Confidence is a heuristic, not a probability:

    - chatter: 0.95 for text without letters, 0.8 when a greeting/ack/notice decided it, 0.6
      when it is chatter only because nothing in it looks like a problem;
    - urgent: 0.9;
    - report/inquiry in a real category: 0.4 + 0.1 per keyword hit + 0.03 per matched character
      + 0.1 when a problem or inquiry cue is present, minus 0.15 when another category scored
      as many hits, capped at 0.95;
    - report/inquiry in the fallback category: 0.3 (nothing says which category it is).
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._fallback = settings.fallback_category.id
        self._order = {category.id: index for index, category in enumerate(settings.categories)}
        keywords = {
            (unicodedata.normalize("NFKC", keyword).casefold(), category.id)
            for category in settings.categories
            for keyword in category.keywords
            if keyword.strip()
        }
        self._keywords = sorted(keywords, key=lambda item: (-len(item[0]), self._order[item[1]]))
        # A danger term whose category this community does not have still raises the alarm, in the fallback category.
        self._danger = tuple((term, category if category in self._order else None) for term, category in DANGER_TERMS)

    def classify(self, text: str) -> Classification:
        message = normalise_message(text[:MAX_CHARS])
        core = _PLACEHOLDER.sub(" ", message).casefold().strip()
        if not any(unicodedata.category(ch).startswith("L") for ch in core):
            return self._chatter(0.95)

        tally = self._tally(core)
        danger = self._live_danger(core)
        if danger is not None:
            term, category = danger
            if category is not None:
                tally[category] = tally.get(category, _Tally()).plus(term)
            return self._verdict(message, Intent.URGENT, tally, prefer=category, cue=True)

        problem = _contains(core, PROBLEM_CUES)
        if not problem:
            if _contains(core, INQUIRY_CUES) or (_contains(core, SERVICE_TERMS) and _contains(core, QUESTION_MARKS)):
                return self._verdict(message, Intent.INQUIRY, tally, cue=True)
            if _contains(core, ACK_CUES) or _contains(core, NOTICE_CUES):
                return self._chatter(0.8)
            if not tally:
                return self._chatter(0.6)
        return self._verdict(message, Intent.REPORT, tally, cue=problem)

    def _chatter(self, confidence: float) -> Classification:
        return Classification(Intent.CHATTER, self._fallback, None, None, urgent=False, confidence=confidence)

    def _tally(self, core: str) -> dict[str, _Tally]:
        """Keyword hits per category, longest keyword first, each character counted at most once."""
        taken = [False] * len(core)
        tally: dict[str, _Tally] = {}
        for keyword, category in self._keywords:
            start = core.find(keyword)
            while start >= 0:
                end = start + len(keyword)
                if not any(taken[start:end]):
                    taken[start:end] = [True] * len(keyword)
                    tally[category] = tally.get(category, _Tally()).plus(keyword)
                start = core.find(keyword, start + 1)
        return tally

    def _live_danger(self, core: str) -> tuple[str, str | None] | None:
        """The first (danger term, its category) that is neither negated nor hypothetical."""
        for term, category in self._danger:
            start = core.find(term)
            while start >= 0:
                if not _defused(core, start, start + len(term)):
                    return term, category
                start = core.find(term, start + 1)
        return None

    def _verdict(
        self, message: str, intent: Intent, tally: dict[str, _Tally], *, prefer: str | None = None, cue: bool
    ) -> Classification:
        place = extract_place(message, self._settings)
        location, grid_id = (place.text, place.grid_id) if place else (None, None)
        urgent = intent is Intent.URGENT
        if not tally:
            return Classification(intent, self._fallback, location, grid_id, urgent, 0.9 if urgent else 0.3)

        def rank(category: str) -> tuple[int, bool, int]:
            return (-tally[category].hits, category != prefer, self._order[category])

        ranked = sorted(tally, key=rank)
        best = tally[ranked[0]]
        if urgent:
            confidence = 0.9
        else:
            confidence = 0.4 + 0.1 * best.hits + 0.03 * best.chars + (0.1 if cue else 0.0)
            if len(ranked) > 1 and tally[ranked[1]].hits == best.hits:
                confidence -= 0.15
        return Classification(intent, ranked[0], location, grid_id, urgent, round(min(confidence, 0.95), 2))


def _contains(text: str, cues: tuple[str, ...]) -> bool:
    return any(cue in text for cue in cues)


def _clause(text: str, start: int, end: int) -> str:
    """The part of text[start:end] after its last clause break."""
    window = text[max(start, 0) : end]
    breaks = list(_CLAUSE_BREAK.finditer(window))
    return window[breaks[-1].end() :] if breaks else window


def _defused(core: str, start: int, end: int) -> bool:
    """Whether the danger term at core[start:end] is denied or only a warning."""
    near = _clause(core, start - NEGATION_WINDOW, start)
    for question in DANGER_QUESTIONS:
        near = near.replace(question, "")
    if _contains(near, DANGER_NEGATIONS):
        return True
    before = _clause(core, start - HEDGE_WINDOW, start)
    return _contains(before, DANGER_HEDGES_BEFORE) or core.startswith(DANGER_HEDGES_AFTER, end)
