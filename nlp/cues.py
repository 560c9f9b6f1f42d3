"""The cue words that decide a message's intent, and the negation and hedge rules around them.

Every cue the classifier reacts to is in the tuples below, so they can be reviewed (and argued
about) in one place. Category keywords are not here: they come from `config.yaml` or a trained
model. Cues are matched on the normalised, case-folded message text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# Greetings, thanks and acknowledgements: chatter in a short message without a problem cue.
ACK_CUES = (
    "早上好", "早安", "中午好", "下午好", "晚上好", "晚安", "你好", "您好", "大家好",
    "谢谢", "感谢", "多谢", "辛苦了", "辛苦啦", "麻烦你们了", "麻烦您了",
    "收到", "好的", "好滴", "好嘞", "嗯嗯", "明白", "知道了", "ok", "哈哈", "呵呵",
    "点赞", "给力", "欢迎", "恭喜", "快乐", "👍", "🙏", "👌", "🌹", "💐",
    "早啊", "早早早", "好哒", "辛苦辛苦", "嗯", "嘻嘻", "😂", "🤣", "😄", "🎉", "👏", "祝", "路过",
)  # fmt: skip

# Notices and "it is fixed" messages: they mention a category keyword but report nothing.
NOTICE_CUES = (
    "通知", "温馨提示", "提醒大家", "请大家", "各位居民", "各位业主", "各位邻居", "提前储水",
    "已修好", "修好了", "已经好了", "已处理", "处理好了", "已解决", "解决了", "已恢复", "恢复了",
    "来电了", "来水了", "已清理", "清走了", "活动", "报名", "讲座",
    "【", "转发", "转:", "公告", "友情提示", "特别提醒", "提醒您", "敬请谅解", "带来不便", "居民朋友", "业主朋友",
    "招生", "义诊", "演练", "天气预报", "修好啦", "弄好了", "换好了", "搞定了", "能用了", "拉走了", "有水了", "有电了",
    "水来了", "电来了", "又亮了", "疏通了", "已修复", "已维修", "已经修了", "已经换了",
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
    # broken, stuck, not working (colloquial forms)
    "坏掉了", "烂了", "碎了", "塌了", "塌陷", "裂开", "裂缝", "开裂", "脱落", "掉下来", "掉皮", "松动", "晃", "生锈",
    "锈了", "歪", "不行了", "不好使", "不灵", "不转", "不动", "不响", "不热", "不暖", "冰凉", "关不上", "锁不上",
    "打不开", "刷不开", "开不了", "进不去", "进不来", "出不来", "过不去", "卡住", "卡了", "卡顿", "黑了", "灭了",
    "一闪一闪", "忽明忽暗", "不稳", "下不去", "冲不下去", "不下水", "返味", "反味", "倒灌", "往上翻", "往外冒", "淹了",
    "泡了", "积水", "滴水", "发霉", "发黄", "发绿", "生蛆", "过期", "不见了", "没了", "拆走", "偷走", "拿走",
    # nobody comes, nothing happens
    "不修", "不公开", "不作为", "不负责", "不处理", "没消息", "没到账", "没通过", "没法",
    "没地方", "找不到人", "挂电话", "不接电话", "推诿", "扯皮", "踢皮球",
    # too much, too long, all the time
    "太多", "太高", "太大", "太小", "太短", "太响", "太臭", "太脏", "太贵", "太吓人", "一大堆", "一地", "满地", "遍地",
    "堆满", "满出来", "冒尖", "一整天", "一整晚", "整夜", "通宵", "大半夜", "深更半夜", "一个礼拜了",
    "一个星期了", "一个月了", "半个月了", "好几次", "第三次", "多次", "反复", "总是", "老是", "经常", "隔三差五",
    "动不动", "从来不", "从来没", "三天两头",
    # how residents complain
    "烦死", "气死", "吓死", "闹心", "无语", "过分", "缺德", "没素质", "不文明",
    "凭什么", "咋回事", "什么情况", "啥情况", "谁管", "帮帮忙", "求助", "扫一下", "清一下",
    "清理一下", "弄一下", "处理下", "派人", "找人来", "给个说法", "乱七八糟", "黑咕隆咚", "黑乎乎",
    "有问题", "出问题", "毛病", "不正常", "不对劲", "异常", "进水", "看不见", "不安全", "至今",
    "半年了", "一年多", "几次了", "好多次", "老半天", "一直没", "都没人", "也没人", "没人理", "不见人",
    "瞎了", "说好的", "好几个月", "好几年", "好几周", "不公布", "不透明",
    # someone did something to what all share
    "有人把", "有人往", "有人乱", "有人占", "有人私自", "有人擅自", "被占", "被堵", "被挡", "被拆", "被挖", "被剪",
    "被砍", "被撞", "被咬", "被踩", "两天了", "三天了", "四天了", "五天了", "一周了", "两周了", "几周了", "震得",
    "吵得", "一天到晚", "黑屏", "瘪了", "没动过", "半年没", "一年没",
)  # fmt: skip

# Asking how to get a service done.
INQUIRY_CUES = (
    "请问", "想问", "问一下", "问下", "咨询", "有谁知道", "谁知道", "怎么办理", "如何办理", "怎么申请",
    "如何申请", "想了解", "在哪里办", "在哪办", "去哪办", "哪里办", "需要什么材料", "要什么材料", "需要带什么",
    "什么手续", "办理流程", "电话多少", "联系方式", "在哪里", "在哪", "去哪", "怎么交", "怎么领", "怎么报名",
    "几点上班", "上班吗", "可以吗", "需要审批", "有规定吗", "怎么收费",
    "要带啥", "带什么", "找谁", "找哪个", "多少钱", "什么时候发", "啥时候", "怎么弄", "咋弄", "咋办理",
    "能办吗", "能不能办", "怎么预约", "有什么条件", "什么条件", "去哪个",
)  # fmt: skip

# A question (`...吗?`, `怎么...`) about one of these is an inquiry even without an inquiry cue.
SERVICE_TERMS = (
    "低保", "医保", "社保", "养老金", "养老保险", "居住证", "残疾证", "廉租房", "公租房", "就业",
    "户口", "证明", "老年证", "补贴", "津贴", "办证", "盖章",
)  # fmt: skip
QUESTION_CUES = ("?", "吗", "么", "呢", "怎么", "如何", "哪里", "哪儿", "多少", "几点", "几号", "什么时候", "啥时候")

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
    ("黑烟", "parking_fire"), ("烟好大", "parking_fire"), ("火好大", "parking_fire"), ("烧着了", "parking_fire"),
    ("着起来", "parking_fire"), ("液化气味", "parking_fire"), ("液化气的味", "parking_fire"),
    ("煤气的味", "parking_fire"), ("燃气的味", "parking_fire"), ("天然气的味", "parking_fire"),
    ("燃气管漏", "parking_fire"), ("煤气管漏", "parking_fire"), ("气管漏了", "parking_fire"),
    ("电线着火", "power"),
    ("困在里面", "facilities"), ("关在里面", "facilities"), ("在里面出不来", "facilities"), ("里面有人", "facilities"),
    ("倒下", "elderly_care"), ("叫不醒", "elderly_care"), ("昏迷", "elderly_care"),
    ("没气了", "elderly_care"), ("抽搐", "elderly_care"), ("头破", "elderly_care"), ("骨折", "elderly_care"),
    ("吐血", "elderly_care"), ("大出血", "elderly_care"), ("打120", "elderly_care"), ("滚下去", "elderly_care"),
    ("跳楼", "security"), ("轻生", "security"), ("动刀", "security"), ("砍人", "security"), ("打起来了", "security"),
    ("打人了", "security"), ("抢劫", "security"), ("抢包", "security"), ("砸伤", "security"), ("砸中人", "security"),
    ("砸到路人", "security"), ("砸到行人", "security"), ("砸到小孩", "security"), ("坠楼", "security"),
    ("掉进去", "security"), ("倒在地上", "elderly_care"),
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
# A message opening like this is a notice pasted or forwarded into the group (`【通知】`, `转：`,
# `关于...的通知`): the problems it names (`每天`, `冒充`) are not a resident's report.
NOTICE_OPENERS = ("【", "转发", "转:", "公告", "温馨提示", "友情提示", "特别提醒", "接上级通知", "接通知")
# An opener within the first `NOTICE_HEAD` characters (`search` with that end: the whole opener inside them).
_NOTICE_OPENER = re.compile("|".join(map(re.escape, NOTICE_OPENERS)))
_NOTICE_TITLE = re.compile(r"关于.{1,30}的(?:通知|公告|提示|提醒|倡议)")

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
    return [] if is_forwarded_notice(text) else _problems(text, _PROBLEM.finditer(text), starts)


def _problems(text: str, matches: Iterable[re.Match[str]], starts: frozenset[int] | None) -> list[str]:
    """`problem_cues` of a text that is no forwarded notice, from the `matches` of the problem cues in it."""
    found = []
    for match in matches:
        cue = match.group()
        if starts is not None and match.start() not in starts:
            continue
        if not cue.startswith(NEGATIONS) and clause_before(text, match.start(), NEGATION_WINDOW).endswith(NEGATIONS):
            continue
        found.append(cue)
    return found


def flags(text: str, tokens: Sequence[str]) -> tuple[bool, bool, bool, bool, bool]:
    """Whether `text` holds a problem cue (`problem_cues`, with the starts of its jieba `tokens`), is an inquiry
    (`is_inquiry`), an ack or notice (`is_ack_or_notice`), a forwarded notice (`is_forwarded_notice`) and a question
    (`is_question`): what the intent model reads of every message, each pattern searched at most once."""
    notice = is_forwarded_notice(text)
    question = _QUESTION.search(text) is not None
    matches = () if notice else list(_PROBLEM.finditer(text))
    problem = bool(matches) and bool(_problems(text, matches, token_starts(tokens)))  # the starts only when needed
    inquiry = _INQUIRY.search(text) is not None or (question and _SERVICE.search(text) is not None)
    if len(text) <= SHORT_MESSAGE:
        ack = _ACK.search(text) is not None or _NOTICE.search(text) is not None
    else:
        ack = _NOTICE.search(text[:NOTICE_HEAD]) is not None or notice
    return problem, inquiry, ack, notice, question


def is_inquiry(text: str) -> bool:
    """An explicit inquiry cue, or a question about a public service."""
    return bool(_INQUIRY.search(text)) or is_service_question(text)


def is_service_question(text: str) -> bool:
    """A question about a public service (`医保卡丢了能补办吗`): an inquiry even with a problem cue in it."""
    return bool(_SERVICE.search(text) and _QUESTION.search(text))


def is_question(text: str) -> bool:
    return _QUESTION.search(text) is not None


def is_forwarded_notice(text: str) -> bool:
    """A notice pasted into the group: it opens with a notice marker or a `关于...的通知` title."""
    return _NOTICE_OPENER.search(text, 0, NOTICE_HEAD) is not None or _NOTICE_TITLE.match(text) is not None


def is_ack_or_notice(text: str) -> bool:
    """A greeting, thanks, ack or notice in a short message, or a notice cue at the start of a long one."""
    if len(text) <= SHORT_MESSAGE:
        return bool(_ACK.search(text) or _NOTICE.search(text))
    return _NOTICE.search(text[:NOTICE_HEAD]) is not None or is_forwarded_notice(text)


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
