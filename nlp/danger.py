"""Danger to people right now, recognised by concept rather than by exact phrase.

Each concept (fire, gas, trapped, ...) is a few short patterns that combine the parts residents
use to say it: a subject (`煤气`, `电梯`, `孩子`), a state (`味`, `出不来`, `找不到`) and the
words between them, so `煤气那股味`, `困了个人在里面` or `娃儿找不着了` match without being
listed. A match is set aside when it is

- denied just before it (`没有着火`, `不是煤气味`; `是不是着火了` still alarms),
- hypothetical, warned about, imagined or habitual in its clause (`容易着火`, `万一起火`,
  `以为着火了`, `差点摔了`, `老人摔了好几个`: a hazard to report, not an emergency),
- over (`火已经灭了`, `孩子找到了`, `原来是…`), or in a forwarded notice (`【通知】消防演练…`),
- past or heard of (`上次电梯困人的事`, `听说隔壁小区着火了`),
- everyday usage of the concept's words (`没气了` about the bill: `欠费`; `抽烟` for smoke;
  `蚊子咬` for bitten; `手机掉水里` for water), unless the match itself is unmistakable: the barbecue stall's
  smoke is everyday, the barbecue stall on fire (`烧烤摊着火了`) is not.

Idioms such as `热死了`, `笑死`, `困死了` or `吓死我了` match no pattern at all. The detector is
tuned for recall (a missed emergency costs more than a false alarm): `nlp.learned` flags urgent
when either it or the intent model says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlp import cues
from nlp.prefilter import Prefiltered, led

# Characters that may sit between the parts of a pattern: anything but a clause break.
_GAP = r"[^,.;:!?、，。；：！？\s]"
# The same between a subject and a state that follows it, minus the words that deny the state (`燃气没漏`).
_GAPN = r"[^没不别未无,.;:!?、，。；：！？\s]"
# Across spaces too (residents often put a space where a comma would go), but not across a negation.
_NEAR = r"[^没不别未无,.;:!?、，。；：！？]"
_PERSON = (
    r"(?:人|孩子|孩|小孩|娃|娃儿|儿子|女儿|闺女|孙子|孙女|外孙|宝宝|老人|老爷子|老太太|老太|大爷|阿婆|奶奶|爷爷"
    r"|外婆|外公|我妈|我爸|老伴|阿姨|女孩|男孩|小女孩|小男孩|囡囡|细路|仔|老汉|婆婆|伯)"
)
_GAS = r"(?:煤气|燃气|天然气|液化气|瓦斯)"
_ELECTRICS = r"(?:电箱|配电箱|配电柜|配电房|电闸|电表箱|插座|插排|变压器|电机房)"
_FALLING_THING = r"(?:花盆|玻璃|瓷砖|砖|石头|水泥|外机|窗|酒瓶|板|牌|块|墙皮|东西|招牌|广告牌)"


@dataclass(frozen=True)
class Concept:
    """One kind of danger: its patterns, the category it is ticketed under, and everyday words that excuse it,
    unless the match holds one of the `unexcused` words (a fire at the barbecue stall is still a fire)."""

    name: str
    category: str
    patterns: tuple[str, ...]
    everyday: tuple[str, ...] = ()
    unexcused: tuple[str, ...] = ()


CONCEPTS = (
    Concept("fire", "parking_fire", (
        r"着火|起火|失火|火灾|火警|火光|火苗|火势|明火|大火|有火|自燃|着起来|纵火"
        r"|(?:烧|点|车|房|火|桶|箱|柜|锅|线|床|草)着了|(?:外机|空调|电视|冰箱|洗衣机|插座|插排|电池|电瓶|充电器)着了",
        rf"火{_GAPN}{{0,3}}(?:烧到|烧过|烧上|烧进|蔓延|窜)|烧到{_GAP}{{0,4}}(?:楼|窗|屋|家|房|门|阳台|隔壁)",
        r"烟雾(?:弥漫|很大|好大|腾腾)|浓烟|滚滚",
        rf"烧(?:起来|着|焦|糊|黑)|冒{_GAP}{{0,2}}烟|(?:黑|浓)烟|烟{_GAP}{{0,2}}(?:大|浓|呛)|(?:全|都|满)是烟|有烟|烟味",
        rf"(?:焦|糊|烧焦|烧糊)的?(?:味|臭)|烧{_GAP}{{0,4}}(?:电线|塑料|橡胶)|(?:电线|塑料){_GAP}{{0,2}}烧",
        rf"冒火|火花|火星|打火(?!机)|(?:电池|电瓶|电动车|充电宝|煤气罐|高压锅){_GAPN}{{0,6}}(?:爆|炸)|爆炸",
    ), everyday=("抽烟", "吸烟", "二手烟", "烟头", "香烟", "烟花", "烟火", "烧烤", "油烟", "熏", "烤"),
       unexcused=("着火", "起火", "失火", "火灾", "火警", "火苗", "火势", "明火", "大火", "爆", "炸", "蔓延", "烧到")),
    Concept("gas", "parking_fire", (
        rf"{_GAS}{_GAPN}{{0,6}}(?:味|泄漏|泄露|漏|嘶|臭|报警)|{_GAS}{_NEAR}{{0,12}}(?:泄漏|泄露|漏|冒气|嘶嘶|呲呲|嗤嗤|咝咝)",
        rf"(?:闻到|闻着|一股|有股){_GAP}{{0,4}}(?:煤气|燃气|天然气|液化气)|臭鸡蛋{_GAP}{{0,2}}味|漏气",
        rf"烧炭|一氧化碳|{_PERSON}{_GAP}{{0,4}}(?:煤气|燃气)中毒|(?:浓|冲|重|大)的?(?:汽油|柴油)味|(?:汽油|柴油){_GAPN}{{0,4}}(?:漏|泄)",
    ), everyday=("欠费", "交费", "缴费", "充值", "没钱", "气费", "停气", "燃气表", "轮胎", "车胎", "气球", "安检"),
       unexcused=("泄漏", "泄露", "中毒", "烧炭", "一氧化碳", "嘶", "嗤", "咝", "呲")),
    Concept("trapped", "facilities", (
        rf"(?:困|关|卡|锁)(?:在|住|了|牢了|牢)?(?:个|一个|几个|好几个|俩|两个)?{_PERSON}",
        rf"电梯{_NEAR}{{0,16}}(?:里面|里头|里厢|在里)(?:有|还有)?(?:几个|三个|两个|一个|个)?(?:人|我|{_PERSON})",
        rf"被(?:困|关|卡|锁|夹)|(?:夹|卡)(?:住|到)(?:人|了人)|(?:电梯|里面|地下室|车里|屋里){_GAP}{{0,8}}(?:出不来|拍门|喊救命)",
        r"出(?:唔|勿)(?:到|嚟|来)",
        rf"电梯{_GAP}{{0,8}}(?:困|关着)|里面有人|出不来了|{_PERSON}{_GAP}{{0,3}}(?:困|关|卡|锁)在",
        r"还有人在(?:里面|车里|电梯里|屋里)|(?:里面|车里|电梯里|屋里)还有人",
        rf"(?:困|关|锁)在{_GAP}{{0,4}}(?:电梯|里面|屋里|车里|地下室|家里)",
    )),
    Concept("fallen", "elderly_care", (
        r"摔倒|跌倒|滑倒|摔伤|跌伤|摔下|跌下|摔在|倒在|倒地|晕倒|昏倒|晕过去|昏过去|晕了|昏迷|不省人事|休克",
        r"抽搐|抽筋|口吐白沫|喘不上气|喘不过气|透不过气|上不来气|噎住|卡住喉咙|呼吸困难|没了?呼吸|说不出话|不能动|动不了"
        r"|一动不动|叫不醒|叫不应|摔了一跤",
        rf"(?:跌|摔|倒|躺)(?:在|勒|喺|到|落)地(?:上|下|浪)|(?:躺|倒)在{_GAP}{{0,2}}(?:路中间|马路|路上|车道)",
        r"(?:摔|跌)了?[,，\s]{1,2}(?:起不来|爬不起来|起不了身|扶不起来)",
        rf"(?:摔|跌|倒|滑|栽){_NEAR}{{0,10}}(?:起不来|爬不起来|起唔到身|起不了身|扶不起来)",
        rf"(?:叫|喊|拍|敲|推|摇){_GAP}{{0,5}}(?:没反应|不应|不答应|没人应|没动静|没声|敲不开|不醒)",
        rf"{_PERSON}{_GAP}{{0,6}}(?:几|两|三|四)天没(?:见|出门|开门|露面|动静)|没(?:声音|动静)了",
        rf"{_PERSON}{_GAP}{{0,3}}躺{_GAP}{{0,4}}(?:不动|没反应|叫不醒|没动静)",
        rf"流{_GAP}{{0,3}}血|出血|头破|骨折",
        rf"(?:腿|胳膊|手|骨头){_GAP}{{0,3}}断|{_PERSON}(?:摔了|倒了|晕了)|从{_GAP}{{0,4}}(?:上|楼梯){_GAP}{{0,2}}(?:摔|掉|滚)",
    )),
    Concept("water", "security", (
        rf"落水|溺水|呛水|掉(?:进|到|入|下)?{_GAP}{{0,2}}(?:河|湖|水|池|塘|沟|井|海)",
        rf"掉(?:进|到|入|下){_GAP}{{0,4}}(?:河|湖|水池|池塘|鱼池|泳池|水塘|水沟|井)",
        rf"(?:河|湖|池|塘|江|水)边{_NEAR}{{0,8}}掉(?:下去|进去|水里)",
        rf"(?:河|湖|水|池|塘)子?(?:里|中){_GAP}{{0,4}}(?:扑腾|漂|有人|喊)",
        rf"(?:河|湖|水池|池塘|鱼池|泳池|水塘|井){_GAP}{{0,8}}掉(?:进|下)去",
        rf"{_PERSON}{_GAP}{{0,4}}(?:走到|掉|滑|落){_GAP}{{0,2}}(?:河|湖|水|池|塘)|淹(?:着|到|死)?(?:人|了人|孩子)",
    ), everyday=("手机", "钥匙", "衣服", "东西", "杯子", "钓鱼", "鱼竿")),
    Concept("bitten", "security", (
        rf"(?:被|遭|叫|让|给){_GAP}{{0,5}}咬|咬(?:伤|了一口|了一下|破|到人|出血|人|咗)",
        rf"把{_GAP}{{0,6}}{_PERSON}{_GAP}{{0,2}}咬|狗{_NEAR}{{0,8}}(?:咬|扑)(?!牙)",
    ), everyday=("蚊子", "虫", "蚂蚁", "跳蚤", "臭虫", "拖鞋", "咬牙", "别摸")),
    Concept("missing", "security", (
        rf"{_PERSON}{_GAP}{{0,8}}(?:找不到|找不着|寻不着|找不见|不见了|唔见|走丢|走失|走散|丢了|跑丢|没回来|没回家"
        r"|联系不上|失联)",
        rf"{_PERSON}{_NEAR}{{0,14}}(?:到现在|还)没回(?:来|家)",
        r"走失|走丢|跑丢|走散",
    ), everyday=("猫", "狗", "泰迪", "宠物", "鹦鹉", "钥匙", "钱包", "快递")),
    Concept("struck", "security", (
        rf"(?:{_PERSON}|骑车的|行人|路人){_GAP}{{0,8}}被{_GAP}{{0,4}}(?:车|货车|汽车|轿车|电动车|摩托车|三轮车|公交车)"
        r"(?:撞|压|碾|轧|刮倒|碰倒|碰伤)",
        rf"撞(?:倒|飞)了?(?:人|{_PERSON})",
    )),
    Concept("poisoned", "other", (
        r"误(?:吃|食|服|喝|吞)|(?:喝|服)了?(?:农药|老鼠药|敌敌畏|百草枯)",
    )),
    Concept("medical", "elderly_care", (
        r"胸口(?:疼|痛|闷)|胸痛|心梗|心脏病(?:犯|发)|脑梗|中风|吐血|大出血|心脏骤停",
    )),
    Concept("falling", "security", (
        rf"高空(?:坠物|抛物)|(?:往下|从楼上|楼上){_GAP}{{0,4}}(?:扔|丢|砸|掉){_GAP}{{0,4}}(?:砸|到人|下来)|坠楼|坠落",
        rf"往下{_GAP}{{0,6}}(?:扔|丢|砸){_GAP}{{0,2}}(?:{_FALLING_THING}|瓶|砖|刀|椅|凳)",
        rf"{_FALLING_THING}{_GAP}{{0,4}}(?:掉|砸|飞)下|{_FALLING_THING}{_GAPN}{{0,6}}往下(?:掉|落|砸)",
        rf"砸(?:到|中|伤|在)(?:人|了人|路人|行人|小孩|头|一个|我)|往下{_GAP}{{0,2}}(?:扔|丢)",
    )),
    Concept("manhole", "facilities", (
        rf"井盖{_GAP}{{0,4}}(?:没了|不见|丢|偷|掀|翻|开着|敞|塌|碎|缺|移位|掉)|井{_GAP}{{0,6}}没有?盖",
        rf"井口{_GAP}{{0,3}}(?:敞|开着)|(?:窨井|下水井|污水井|雨水井|井盖){_GAP}{{0,3}}(?:敞|大洞|黑洞)",
    )),
    Concept("live_wire", "power", (
        rf"电线{_GAP}{{0,6}}(?:掉|垂|耷拉|拖|断|裸露|露|泡|火花|火星|冒火|打火|落地|滋滋)|漏电|触电|被电(?!动|瓶|车)|电(?:到|着)(?:人|了)",
        rf"带电|通着电|高压线{_GAP}{{0,4}}(?:断|掉|落)|电线杆{_GAP}{{0,3}}(?:倒|歪|断)",
        rf"(?:淹|泡|浸|漫)(?:到|着|了|进|过)?{_GAP}{{0,3}}{_ELECTRICS}|{_ELECTRICS}{_GAP}{{0,3}}(?:进水|泡水|泡在水|被淹|淹了)"
        rf"|水(?:往|流|灌|渗|进)(?:到|进|向)?{_GAP}{{0,2}}{_ELECTRICS}",
    )),
    Concept("scalded", "facilities", (
        rf"烫伤|烧伤|烫(?:到|着)了?{_PERSON}",
    )),
    Concept("collapse", "facilities", (
        r"倒塌|坍塌|塌方|塌(?:了|下来|掉|一块|一截|一角)|垮(?:了|下来|掉)|摇摇欲坠",
        rf"(?:要|快|随时|马上|眼看){_GAP}{{0,3}}(?:倒|塌|垮|断|掉|砸|飞)|裂缝{_GAP}{{0,4}}(?:越来越大|变大|扩大)",
        rf"树倒了|(?:树|墙|杆)(?:倒|断)了|压(?:到|着|住|倒)了?(?:人|{_PERSON})",
    )),
    Concept("violence", "security", (
        rf"拿刀|持刀|动刀|刀子|砍人|打起来了|打人了|斗殴|跳楼|轻生|要跳|撬{_GAP}{{0,4}}门",
        rf"(?:拿|抄|提|举|持)(?:着|起)?{_GAP}{{0,2}}(?:刀|棍|棒|斧|锤|铁锹|砖头)|砸门|踹门|入室|翻(?:墙|窗|阳台|栏杆)进",
        r"家暴|打(?:老婆|老公|媳妇|妻子|女的|女人|孩子|小孩|老人)",
        rf"爬{_GAP}{{0,4}}(?:窗|阳台){_GAP}{{0,3}}外",
    )),
    Concept("at_height", "security", (
        rf"(?:窗|阳台){_GAP}{{0,2}}外{_GAP}{{0,8}}{_PERSON}|(?:楼顶|天台|顶楼|窗台|楼边){_GAP}{{0,8}}(?:坐|站|蹲)在?{_GAP}{{0,3}}(?:边|沿)",
        rf"(?:孩子|孩|小孩|娃|娃儿|宝宝|小朋友){_GAP}{{0,4}}(?:坐|站|爬|趴|骑)(?:在|到|上)?{_GAP}{{0,2}}(?:窗台|窗户|窗沿|护栏|栏杆)",
    )),
    Concept("call_for_help", "other", (
        r"救命|快来人|快救人|快打(?:119|120|110)|叫救护车|打120|打119|呼救|哭喊|惨叫",
    )),
)  # fmt: skip

# Just before a match, these deny it.
NEGATIONS = ("没有", "没", "不是", "并非", "无人", "无", "未", "别", "不")
# In the clause before a match: a warning, a hypothesis, something imagined or seen elsewhere.
HEDGES_BEFORE = (
    "容易", "小心", "防止", "预防", "注意", "万一", "以免", "避免", "怕", "如果", "要是", "假如", "一旦",
    "以为", "梦到", "梦见", "新闻", "电影", "剧", "视频", "差点", "差一点", "险些", "迟早", "早晚", "不要", "不能",
    "遇到", "发生", "防", "上次", "上回", "上周", "上个月", "去年", "听说",
)  # fmt: skip
# In the clause after a match.
HEDGES_AFTER = (
    "隐患", "风险", "演练", "演习", "预防", "怎么办", "咋办", "的话", "安全", "视频", "新闻", "电影", "注意",
)  # fmt: skip
# Anywhere in the clause: the danger happens again and again (a hazard to report, not an emergency).
HABITUAL = ("好几个", "好几次", "经常", "老是", "总是", "几次", "多次", "每次", "天天")
# Anywhere in the message: it is over, or it was no danger.
OVER = (
    "灭了", "扑灭", "救出来", "已经出来", "人出来了", "找到了", "找到啦", "送医院", "送到医院", "出院", "没事了",
    "虚惊", "原来是", "演练", "演习", "误报", "安全知识", "须知", "宣传", "没大事", "没大碍", "没啥事", "没什么事",
    "不要紧", "说没事", "幸好", "幸亏",
)  # fmt: skip
QUESTIONS = ("是不是", "有没有")
# Things named with `防` that are not the hedge `防` (prevent): `消防通道里有车着火了` is a fire in the fire lane,
# `防盗窗外面有个小孩` a child outside the window bars.
NOT_HEDGES = ("消防", "防盗", "防护", "防滑", "防火门", "防水", "人防")
_LONGEST_NOT_HEDGE = max(map(len, NOT_HEDGES))
NEGATION_WINDOW = 3
HEDGE_WINDOW = 8

_CLAUSE = re.compile(r"[,.;:!?、，。；：！？\s]")
# Each concept's patterns, checked for their characters before the regex runs, and led by the characters a match
# starts with (`nlp.prefilter`).
_COMPILED = tuple(
    (concept, Prefiltered(led(re.compile("|".join(f"(?:{p})" for p in concept.patterns))))) for concept in CONCEPTS
)
# Concepts (by position in `_COMPILED`) without a trigger set: their regex always runs.
_UNFILTERED = frozenset(index for index, (_, pattern) in enumerate(_COMPILED) if pattern.triggers is None)
# Per trigger character, the concepts it lets through. Most messages name no danger at all: they hold none of them.
_BY_TRIGGER: dict[str, frozenset[int]] = {
    ch: frozenset(index for index, (_, pattern) in enumerate(_COMPILED) if pattern.triggers and ch in pattern.triggers)
    for ch in sorted(frozenset().union(*(pattern.triggers or () for _, pattern in _COMPILED)))
}
_TRIGGERS = frozenset(_BY_TRIGGER)


@dataclass(frozen=True)
class Danger:
    """A live danger found in a message: its concept, the matched text and the category to ticket it under."""

    concept: str
    match: str
    category: str


@dataclass(frozen=True)
class Reading:
    """Every concept the patterns found, live or set aside (the intent model weighs both)."""

    live: tuple[Danger, ...]
    defused: tuple[str, ...]

    @property
    def first(self) -> Danger | None:
        return self.live[0] if self.live else None


# What `read` finds in most messages.
_NOTHING = Reading((), ())


def detect(text: str) -> Danger | None:
    """The first live danger in a normalised, case-folded message, or None."""
    return read(text).first


def read(text: str) -> Reading:
    """All concept matches in a normalised, case-folded message, split into live and set aside."""
    matched = [(concept, pattern.pattern) for concept, pattern in map(_COMPILED.__getitem__, _candidates(text))
               if pattern.pattern.search(text)]  # fmt: skip
    if not matched:
        return _NOTHING
    if cues.is_forwarded_notice(text) or any(word in text for word in OVER):
        return Reading((), tuple(concept.name for concept, _ in matched))
    live: list[Danger] = []
    defused: list[str] = []
    for concept, pattern in matched:
        found = _first_live(text, concept, pattern)
        if found is not None:
            live.append(Danger(concept.name, found, concept.category))
        else:
            defused.append(concept.name)
    return Reading(tuple(live), tuple(defused))


def _candidates(text: str) -> list[int]:
    """The concepts, in order, whose pre-check `text` passes: one set intersection for all of them, where
    `Prefiltered.may_match` would take one call per concept."""
    return sorted(_UNFILTERED.union(*map(_BY_TRIGGER.__getitem__, _TRIGGERS.intersection(text))))


def _first_live(text: str, concept: Concept, pattern: re.Pattern[str]) -> str | None:
    """The first match of the concept that is not set aside, or None."""
    for match in pattern.finditer(text):
        if not _set_aside(text, match.start(), match.end(), concept):
            return match.group()
    return None


def _set_aside(text: str, start: int, end: int, concept: Concept) -> bool:
    wide = _clause_before(text, start, HEDGE_WINDOW + _LONGEST_NOT_HEDGE - 1)  # a compound cut at the window's edge
    before = wide[-HEDGE_WINDOW:]
    near = before[-NEGATION_WINDOW:]
    for question in QUESTIONS:
        near = near.replace(question, "")
    if near.endswith(NEGATIONS) or any(negation in near for negation in ("没有", "不是", "并非", "无人")):
        return True
    after = _clause_after(text, end)
    for thing in NOT_HEDGES:
        wide = wide.replace(thing, "")
    hedged = wide[-HEDGE_WINDOW:]
    if any(hedge in hedged for hedge in HEDGES_BEFORE) or any(hedge in after for hedge in HEDGES_AFTER):
        return True
    if any(word in before or word in after for word in HABITUAL):
        return True
    matched = text[start:end]
    if any(word in matched for word in concept.unexcused):
        return False
    return any(word in text for word in concept.everyday)


def _clause_before(text: str, start: int, width: int) -> str:
    window = text[max(start - width, 0) : start]
    breaks = list(_CLAUSE.finditer(window))
    return window[breaks[-1].end() :] if breaks else window


def _clause_after(text: str, end: int) -> str:
    following = _CLAUSE.search(text, end)
    return text[end : following.start() if following else len(text)]
