"""What problem a message is about, finer than its category: a blocked drain and a water cut are both 给排水,
a fire lane blocked by cars and a scooter charged on a flying lead are both 停车与消防.

Each problem is a handful of the words residents use for its *thing* or its *symptom* (`地漏`, `返水`,
`冒上来`), matched as substrings of the normalised text, so `下水道堵了`, `地漏往上冒水` and `厕所反味`
all name the drain without sharing a jieba token. Words that several problems share (`堵`, `车`, `黑`,
`味道`) name none: they would make two different problems look alike. Duplicate detection
(`nlp.similarity`) and matching a follow-up to a ticket (`handlers.followup`) compare these sets.
"""

from __future__ import annotations

import re
from functools import lru_cache

from nlp.classification import normalise_message

PROBLEMS: dict[str, tuple[str, ...]] = {
    "drain": (
        "下水", "地漏", "排水", "返水", "反水", "冒水", "冒上来", "往上冒", "倒灌", "溢出", "化粪池", "污水", "粪水",
        "马桶", "窨井", "检查井", "疏通", "堵塞", "堵住", "堵了", "反味", "返味", "厕所", "洗菜池", "水槽",
    ),
    "leak": ("漏水", "渗水", "滴水", "渗漏", "漏到", "水渍", "爆管", "跑水", "水管", "管子", "漏了", "阀门"),
    "water_supply": (
        "停水", "没水", "断水", "无水", "莫得水", "冇水", "没有水", "水压", "水小", "水流", "来水", "供水", "水箱",
        "二次供水", "黄水", "水质", "锈水", "浑", "自来水", "水龙头",
    ),
    "power_cut": ("停电", "没电", "断电", "跳闸", "掉电", "电闸", "没有电", "电表"),
    "lighting": ("灯", "不亮", "漆黑", "摸黑", "黑乎乎", "黑漆漆", "黑咕隆咚", "照明", "一闪一闪", "忽明忽暗"),
    "lift": ("电梯", "电悌", "轿厢", "直梯", "升降梯"),
    "heating": ("暖气", "暧气", "供暖", "采暖", "地暖", "不热", "冰凉", "冻死", "冷死"),
    "gas": ("煤气", "燃气", "天然气", "液化气", "漏气", "煤气罐", "燃气罐"),
    "fire": ("着火", "起火", "失火", "冒烟", "浓烟", "烧起来", "火灾", "火苗", "烧焦", "焦味", "糊味"),
    "fire_lane": ("消防通道", "消防车道", "生命通道", "安全出口", "疏散通道", "逃生通道", "消防栓", "消火栓", "灭火器"),
    "charging": ("飞线", "充电", "拉线", "拉电线", "插线板", "电瓶", "电动车", "电驴", "锂电池", "私拉"),
    "clutter": ("堆物", "杂物", "纸箱", "纸壳", "堆放", "堆满", "破烂", "废品", "堆着", "堆了"),
    "parking": ("乱停", "停车", "车位", "地锁", "僵尸车", "外来车", "占道", "挡路", "挡道", "停在"),
    "garbage": ("垃圾", "拉圾", "清运", "满出来", "冒尖", "厨余", "泔水"),
    "pests": ("老鼠", "耗子", "蟑螂", "苍蝇", "蚊子", "跳蚤", "臭虫", "生蛆", "白蚁"),
    "droppings": ("狗屎", "狗粪", "粪便", "便便", "粑粑", "鸟屎", "猫砂"),
    "noise": ("吵", "噪音", "噪声", "扰民", "广场舞", "音响", "喇叭", "电钻", "电锯", "砸墙", "睡不着", "大声"),
    "renovation": ("装修",),
    "door": ("门禁", "单元门", "防盗门", "楼道门", "刷不开", "对讲", "闭门器", "门锁", "关不上", "打不开"),
    "pavement": ("路面", "坑", "井盖", "塌陷", "下陷", "地砖", "路不平", "结冰", "路滑"),
    "building": ("墙皮", "外墙", "脱落", "裂缝", "开裂", "瓷砖", "漏雨", "渗雨", "屋顶", "发霉", "鼓包"),
    "equipment": ("健身器材", "器材", "滑梯", "秋千", "座椅", "长椅", "凳子", "篮球架", "栏杆", "护栏", "扶手"),
    "trees": ("树", "断枝", "枯枝", "修剪", "杂草", "草坪", "绿化", "花坛", "马蜂窝", "蜂窝", "飞絮", "杨絮"),
    "theft": ("偷", "盗", "撬", "失窃", "被拿走", "不见了", "顺走"),
    "falling_objects": ("高空抛物", "往下扔", "往下丢", "砸下来", "掉下来", "花盆"),
    "suspicious": ("陌生人", "可疑", "鬼鬼祟祟", "尾随", "跟踪", "踩点", "推销", "诈骗", "骗子", "冒充"),
    "animals": ("狗咬", "咬人", "没拴绳", "不牵绳", "恶犬", "流浪狗", "流浪猫", "大狗"),
    "illegal_build": ("违建", "搭建", "加盖", "棚子", "彩钢", "阳光房", "私搭", "乱建", "承重墙", "打通"),
    "welfare": ("低保", "医保", "社保", "养老金", "退休金", "补贴", "补助", "残疾证", "救助", "到账"),
    "elderly": ("独居", "空巢", "孤寡", "助餐", "送餐", "老年食堂", "护理", "陪护", "走失", "走丢"),
    "fees": ("物业费", "收费", "乱收费", "涨价", "停车费", "维修基金", "公共收益", "发票"),
    "service": ("态度", "推诿", "扯皮", "不作为", "不办事", "不管事", "挂电话"),
}


@lru_cache(maxsize=1)
def _pattern() -> tuple[re.Pattern[str], dict[str, tuple[str, ...]]]:
    owners: dict[str, list[str]] = {}
    for problem, words in PROBLEMS.items():
        for word in words:
            owners.setdefault(word, []).append(problem)
    ordered = sorted(owners, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))), {w: tuple(p) for w, p in owners.items()}


def problems_in(text: str) -> frozenset[str]:
    """The problems `text` names (possibly none)."""
    pattern, owners = _pattern()
    folded = normalise_message(text).casefold()
    return frozenset(problem for match in pattern.finditer(folded) for problem in owners[match.group()])


def problem_overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """1 when the smaller set lies inside the other, 0 when they share nothing (or either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))
