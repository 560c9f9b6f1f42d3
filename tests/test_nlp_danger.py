"""The danger detector: concepts in phrasings no list holds, negations, hypotheticals and everyday idioms."""

from __future__ import annotations

import itertools

import pytest

from nlp.danger import CONCEPTS, detect, read

# Phrasings built from parts (subject × words in between × state), so what is tested is the
# combination, not a sentence on a list.
COMBINATIONS = {
    "gas": (("煤气", "燃气", "天然气", "液化气"), ("", "那个", "好像有点", "的那股"),
            ("味道", "味儿", "泄漏了", "在漏")),
    "trapped": (("困了", "关了", "卡了"), ("个", "两个", "好几个"), ("人在里面", "小孩", "老人")),
    "missing": (("我家孩子", "小孙女", "我们家老爷子", "娃儿"), ("", "刚才", "一下午"),
                ("找不着了", "不见了", "联系不上")),
    "bitten": (("被", "刚刚被"), ("楼下的狗", "一条大黑狗", "野狗"), ("咬了", "咬伤了")),
    "fire": (("楼道里", "车棚那边", "五楼"), ("", "突然"), ("着火了", "冒黑烟了", "烧起来了")),
    # The parts may sit in different words of a message written with spaces for commas.
    "fallen": (("我妈", "楼下一个大爷", "阿婆"), ("摔了一下 ", "跌了一跤 ", "滑了 "),
               ("起不来了", "爬不起来", "扶不起来")),
    "water": (("有个孩子", "小孩", "一个老人"), ("掉进了", "掉到"), ("小区的水池里", "河里", "鱼池里")),
    "bitten_by_a_dog": (("楼下那条大狗", "一只野狗"), (" 刚才", " 冲过来"), ("追着小孩咬", "见人就扑")),
    "not_back": (("我家老人", "我儿子", "闺女"), ("出去玩", "早上出门"), ("到现在还没回来", "到现在没回家")),
    "fire_spreading": (("那火", "火"), ("", "一下子"), ("烧到隔壁了", "蔓延到楼上了", "窜到三楼了")),
    "fire_in_an_appliance": (("楼下", "隔壁家"), ("空调外机", "插座", "充电器"), ("着了", "着了 快来")),
    "water_at_the_electrics": (("水", "雨水"), ("淹到了", "泡着"), ("配电箱", "电闸", "插座")),
    "struck": (("老人", "小孩", "骑车的"), ("", "刚才"), ("被车撞了", "被电动车撞倒了")),
    "scalded": (("孩子", "老人"), ("被开水", "被热水"), ("烫伤了", "烫伤")),
    "fumes": (("隔壁", "楼下"), ("", "好像"), ("在烧炭", "一氧化碳报警了", "有人煤气中毒了")),
    "choking": (("我爸", "孩子"), ("吃东西", "吃饭"), ("噎住了", "喘不过气了")),
    "break_in": (("有人", "小偷"), ("", "刚刚"), ("翻墙进了院子", "拿着棍子", "在踹门")),
    "at_the_edge": (("楼顶", "天台"), ("上有个人", "上一个小伙子"), ("站在边上", "坐在边沿上")),
    "swallowed": (("孩子", "宝宝"), ("", "刚才"), ("误吃了药", "误喝了洗衣液")),
    "taken_ill": (("我爷爷", "隔壁大爷"), ("", "突然"), ("胸口疼得厉害", "中风了", "吐血了")),
}
CONCEPT_OF = {
    "bitten_by_a_dog": "bitten", "not_back": "missing", "fire_spreading": "fire", "fire_in_an_appliance": "fire",
    "water_at_the_electrics": "live_wire", "fumes": "gas", "choking": "fallen", "break_in": "violence",
    "at_the_edge": "at_height", "swallowed": "poisoned", "taken_ill": "medical",
}  # fmt: skip


def _phrasings(concept: str) -> list[str]:
    return ["".join(parts) for parts in itertools.product(*COMBINATIONS[concept])]


@pytest.mark.parametrize("concept", sorted(COMBINATIONS))
def test_every_combination_of_a_concepts_parts_is_a_live_danger(concept: str) -> None:
    expected = CONCEPT_OF.get(concept, concept)
    missed = [text for text in _phrasings(concept) if (found := detect(text)) is None or found.concept != expected]
    assert missed == []


@pytest.mark.parametrize("concept", sorted(COMBINATIONS))
@pytest.mark.parametrize("hedge", ["容易", "万一", "小心", "以为"])
def test_a_hypothesis_or_a_warning_before_any_phrasing_is_no_emergency(concept: str, hedge: str) -> None:
    assert [text for text in _phrasings(concept) if detect(hedge + text)] == []


@pytest.mark.parametrize("concept", sorted(COMBINATIONS))
def test_a_danger_that_is_over_or_in_a_forwarded_notice_is_no_emergency(concept: str) -> None:
    for text in _phrasings(concept)[:6]:
        assert detect(f"{text} 原来是虚惊一场") is None
        assert detect(f"【通知】{text}") is None
        assert read(f"【通知】{text}").defused  # still visible to the intent model as a defused danger


@pytest.mark.parametrize("negation", ["没有", "不是", "没"])
def test_a_denied_danger_is_not_live(negation: str) -> None:
    for thing in ("着火", "煤气味", "漏电"):
        assert detect(f"放心 {negation}{thing}") is None
        assert detect(f"快来 {thing}了") is not None


def test_a_question_about_a_danger_still_alarms() -> None:
    assert detect("是不是着火了 好大的烟") is not None


@pytest.mark.parametrize(
    "text",
    ["热死了", "笑死我了", "困死了", "累死了", "气死我了", "吓死我了 原来是猫", "饿死了", "这首歌火了", "我困了"],
)
def test_idioms_with_danger_words_match_no_concept(text: str) -> None:
    assert read(text) == read("")


@pytest.mark.parametrize("fuel", ["天然气", "煤气", "燃气"])
@pytest.mark.parametrize("bill", ["欠费了吗", "卡里没钱了 去哪充值", "要去缴费吧"])
def test_gas_running_out_because_of_the_bill_is_no_emergency(fuel: str, bill: str) -> None:
    assert detect(f"{fuel}没气了 {bill}") is None
    assert detect(f"{fuel}漏了 味道好大") is not None


def test_a_hazard_that_happens_again_and_again_is_a_report_not_an_emergency() -> None:
    assert detect("路灯坏了 老人在那摔倒过好几次") is None
    assert detect("路灯坏了 有个老人刚在那摔倒了") is not None


def test_every_concept_names_a_category() -> None:
    assert all(concept.category for concept in CONCEPTS)


@pytest.mark.parametrize("text", ["燃气没漏 放心", "煤气不臭了", "那条大狗从来不咬人", "我家狗不扑人的"])
def test_a_state_denied_inside_the_phrase_is_not_live(text: str) -> None:
    assert detect(text) is None


@pytest.mark.parametrize("pet", ["我家猫", "寻狗 白色小泰迪", "鹦鹉"])
def test_a_lost_pet_is_no_missing_person(pet: str) -> None:
    assert detect(f"{pet}走丢了 看到的告诉我一声") is None


@pytest.mark.parametrize("text", ["有人喺电梯度出唔到", "阿拉困勒电梯里出勿来", "阿婆跌勒地上了", "有个人躺在马路上"])
def test_dialect_and_colloquial_phrasings_of_a_person_in_danger_alarm(text: str) -> None:
    assert detect(text) is not None


def test_a_fire_where_smoke_is_everyday_is_still_a_fire() -> None:
    assert detect("楼下烧烤摊着火了") is not None
    assert detect("楼下烧烤摊烟好大") is None
    assert detect("燃气表那里嘶嘶响 有味") is not None
    assert detect("燃气表一直在报警 是不是没钱了") is None


def test_things_named_with_the_hedge_are_no_hedge() -> None:
    assert detect("消防通道里有辆车着火了") is not None
    assert detect("防盗窗外面有个小孩") is not None
    assert detect("防护栏那边有人摔倒了") is not None
    assert detect("防止着火 别在楼道里充电") is None


@pytest.mark.parametrize(
    "text",
    ["上次电梯困人的事怎么处理的", "车库出口被堵了 出不去", "路灯杆被车撞歪了", "喜欢闻汽油味", "注意通风 防止煤气中毒",
     "小宝在幼儿园摔了一跤 医生说没事", "打火机点不着了", "孩子发烧烧到39度"],
)  # fmt: skip
def test_a_past_event_a_thing_or_a_warning_is_no_emergency(text: str) -> None:
    assert detect(text) is None
