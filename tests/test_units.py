"""Partner units (社区点单、部门响应): 派单 / 改派 by cadres, 接单 进度 办结 退单 by a unit's members, and the config.

The chat tests run on SQLite and PostgreSQL (conftest's `engine`). The sample config has one unit, 幸福里物业
(short 物业, id wuye, group 幸福里物业维修群, member 张师傅), the default unit of 给排水 and 公共设施, and 幸福里供水所
(short 供水, id gongshui, group 幸福里供水抢修群, member 刘工). WATER, added by some tests, has no group.
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from bot.app import Huiyin
from handlers import texts
from ledger.clock import ManualClock
from nlp.trained import configured_classifier
from settings import load_settings_text
from settings.models import Settings, Unit, UnitKind, UnitMember
from storage.models import Ticket
from storage.tickets import ledger_fields, rebuild_ticket, ticket_events
from tests.chat import GROUP_G1, GROUP_G2, Chat
from tests.test_config import problems_of
from tests.test_config_check import clean_edit

UNIT_GROUP = "幸福里物业维修群"
LEAK = "3号楼2单元楼道的水管漏水了，地上全是水，我电话13812345678"
WATER = Unit(
    id="water", name="城市供水公司", short="自来水", kind=UnitKind.WATER,
    members=[UnitMember(name="钱工", chat_id="wxid_qiangong")], categories=["drainage"],
    first_response_minutes=60, resolution_hours=24,
)  # fmt: skip


def _ticket(chat: Chat, number: int) -> Ticket:
    with chat.session() as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None
        return ticket


def _report_and_dispatch(chat: Chat, command: str = "派单 1 物业") -> list:
    chat.say("张阿姨", LEAK)
    return chat.say("王芳", command)


def test_a_dispatch_tells_the_residents_and_sends_the_unit_the_masked_order(chat: Chat) -> None:
    public, order = _report_and_dispatch(chat)
    assert (public.chat_name, public.text) == (GROUP_G1, "@张阿姨 #1 已派 幸福里物业 处理，王芳 督办。")
    assert order.chat_name == UNIT_GROUP and order.mention_ids == ("wxid_zhangshifu",)
    assert order.text == (
        "@张师傅 派单 #1【给排水】3号楼2单元\n"
        "居民反映：「3号楼2单元楼道的水管漏水了，地上全是水，我电话138****5678」\n"
        "请于 11月23日 09:30 前接单，11月25日 09:00 前办结（王芳 督办）。\n"
        "回复：接单 1 ／ 进度 1 说明 ／ 办结 1 处理结果 ／ 退单 1 原因"
    )
    assert "张阿姨" not in order.text and "13812345678" not in order.text
    ticket = _ticket(chat, 1)
    assert (ticket.status, ticket.assignee_id, ticket.unit_id) == ("assigned", "wangfang", "wuye")
    assert ticket.dispatched_at == chat.clock.now()
    with chat.session() as session:
        event = ticket_events(session, 1)[-1]
    assert (event.action, event.actor_name, event.from_status, event.to_status) == (
        "dispatch", "王芳", "assigned", "assigned",
    )  # fmt: skip
    assert event.changes["unit_id"] == "wuye"


def test_without_a_unit_the_category_default_unit_is_used(chat: Chat) -> None:
    public, order = _report_and_dispatch(chat, "派单 1")
    assert "已派 幸福里物业" in public.text and order.chat_name == UNIT_GROUP
    assert _ticket(chat, 1).unit_id == "wuye"


def test_a_category_without_default_unit_asks_which_unit(chat: Chat) -> None:
    chat.say("张阿姨", "1号楼东边垃圾桶满了没人清")
    [reply] = chat.say("王芳", "派单 1")
    expected = texts.UNIT_NO_DEFAULT.format(category="环境卫生", units="物业、供水", number=1, example="物业")
    assert reply.text == "@王芳 " + expected
    [unknown] = chat.say("王芳", "派单 1 燃气")
    assert "没有找到合作单位「燃气」" in unknown.text
    assert _ticket(chat, 1).unit_id is None


def test_who_may_dispatch(chat: Chat) -> None:
    chat.say("张阿姨", LEAK)
    [resident] = chat.say("张阿姨", "派单 1 物业")
    assert resident.text == "@张阿姨 " + texts.CADRE_ONLY.format(word="派单")
    [other_grid] = chat.say("李军", "派单 1 物业")  # 李军 is neither the assignee, on duty for g1, nor a leader
    assert "只有负责人、当班人员、网格长或书记可以派单" in other_grid.text
    assert _ticket(chat, 1).unit_id is None
    assert len(chat.say("赵敏", "派单 1 物业")) == 2  # the grid leader may
    [again] = chat.say("王芳", "派单 1 物业")
    assert again.text == "@王芳 " + texts.UNIT_ALREADY.format(number=1, unit="幸福里物业")


def test_the_unit_member_signs_progresses_and_resolves_naming_the_unit(chat: Chat) -> None:
    _report_and_dispatch(chat)
    public, confirm = chat.say("张师傅", "接单 1", group=UNIT_GROUP)
    assert (public.chat_name, public.text) == (GROUP_G1, "@张阿姨 #1 已由 幸福里物业 张师傅 签收，正在处理。")
    assert (confirm.chat_name, confirm.text) == (UNIT_GROUP, "@张师傅 #1 已在 1-3号楼业主群 告知居民。")
    ticket = _ticket(chat, 1)
    assert (ticket.status, ticket.assignee_id) == ("accepted", "wangfang")  # the cadre stays responsible
    assert ticket.first_response_at is not None
    [twice] = chat.texts("张师傅", "接单 1", group=UNIT_GROUP)
    assert "已经签收过了" in twice
    public, _ = chat.say("张师傅", "进度 1 已关闭总阀，正在换管", group=UNIT_GROUP)
    assert public.text == "@张阿姨 #1 进展（幸福里物业 张师傅）：已关闭总阀，正在换管"
    public, _, cadre = chat.say("张师傅", "办结 1 已更换水管接头", group=UNIT_GROUP)
    assert public.text.startswith("@张阿姨 #1 已办结（幸福里物业 张师傅）：已更换水管接头\n请回复「评价 1")
    assert (cadre.chat_id, cadre.is_private) == ("wxid_wangfang", True)
    assert cadre.text.startswith("#1 已由 幸福里物业 张师傅 办结：已更换水管接头")
    assert _ticket(chat, 1).status == "resolved"
    with chat.session() as session:
        events = ticket_events(session, 1)
        assert rebuild_ticket(events) == ledger_fields(session.get(Ticket, 1))
    assert [(e.action, e.actor_id, e.actor_name) for e in events[-3:]] == [
        ("accept", "wxid_zhangshifu", "幸福里物业 张师傅"),
        ("progress", "wxid_zhangshifu", "幸福里物业 张师傅"),
        ("resolve", "wxid_zhangshifu", "幸福里物业 张师傅"),
    ]


def test_a_unit_signing_a_ticket_the_cadre_already_signed_is_recorded_as_progress(chat: Chat) -> None:
    chat.say("张阿姨", LEAK)
    chat.say("王芳", "接单 1")
    chat.say("王芳", "派单 1 物业")
    public, _ = chat.say("张师傅", "接单 1", group=UNIT_GROUP)
    assert public.text == "@张阿姨 #1 已由 幸福里物业 张师傅 签收，正在处理。"
    ticket = _ticket(chat, 1)
    assert (ticket.status, ticket.assignee_id) == ("in_progress", "wangfang")


def test_a_unit_member_touches_only_the_tickets_dispatched_to_the_unit(chat: Chat) -> None:
    chat.say("张阿姨", LEAK)
    refusal = "@张师傅 " + texts.UNIT_NOT_DISPATCHED.format(number=1, unit="幸福里物业", verb="签收")
    assert chat.texts("张师傅", "接单 1", group=UNIT_GROUP) == [refusal]  # not dispatched
    missing = "@张师傅 " + texts.UNIT_NOT_DISPATCHED.format(number=9, unit="幸福里物业", verb="办结")
    assert chat.texts("张师傅", "办结 9 好了", group=UNIT_GROUP) == [missing]  # not even there: the same words
    [show] = chat.texts("张师傅", "查 1", group=UNIT_GROUP)
    assert show == "@张师傅 " + texts.UNIT_MAY_NOT.format(word="查", unit="幸福里物业")
    assert "是社区干部用的指令" in chat.texts("张师傅", "转派 1 @李军", group=UNIT_GROUP)[0]
    ticket = _ticket(chat, 1)
    assert (ticket.status, ticket.unit_id) == ("assigned", None)


def test_a_unit_member_cannot_touch_another_units_ticket(
    settings: Settings, engine: Engine, clock: ManualClock
) -> None:
    chat = _chat_with_water(settings, engine, clock)
    chat.say("张阿姨", LEAK)
    chat.say("王芳", "派单 1 自来水")
    assert _ticket(chat, 1).unit_id == "water"
    [refused] = chat.texts("张师傅", "办结 1 修好了", group=UNIT_GROUP)
    assert refused == "@张师傅 " + texts.UNIT_NOT_DISPATCHED.format(number=1, unit="幸福里物业", verb="办结")
    assert _ticket(chat, 1).status == "assigned"


def test_residents_and_cadres_cannot_use_the_units_words(chat: Chat) -> None:
    chat.say("张阿姨", LEAK)
    chat.say("王芳", "派单 1 物业")
    assert chat.texts("张阿姨", "退单 1 不想修") == ["@张阿姨 " + texts.UNIT_ONLY.format(word="退单")]
    assert chat.texts("王芳", "退单 1 派错了") == ["@王芳 " + texts.UNIT_ONLY.format(word="退单")]
    [accept] = chat.texts("张阿姨", "接单 1")
    assert accept == "@张阿姨 " + texts.CADRE_ONLY.format(word="接单")
    assert _ticket(chat, 1).unit_id == "wuye"


def test_the_unit_hands_a_ticket_back_and_the_assignee_is_told_privately(chat: Chat) -> None:
    _report_and_dispatch(chat)
    confirm, cadre = chat.say("张师傅", "退单 1 是市政管网的问题，不归物业", group=UNIT_GROUP)
    assert (confirm.chat_name, confirm.text) == (UNIT_GROUP, "@张师傅 #1 已退单，已告知负责人 王芳。")
    assert (cadre.chat_id, cadre.is_private) == ("wxid_wangfang", True)
    assert cadre.text.startswith(
        "#1【给排水】3号楼2单元 被 幸福里物业 张师傅 退单：是市政管网的问题，不归物业\n您仍是负责人"
    )
    ticket = _ticket(chat, 1)
    assert (ticket.status, ticket.assignee_id, ticket.unit_id, ticket.dispatched_at) == (
        "assigned", "wangfang", None, None,
    )  # fmt: skip
    assert "不是派给 幸福里物业" in chat.texts("张师傅", "进度 1 在修", group=UNIT_GROUP)[0]
    assert len(chat.say("王芳", "派单 1 物业")) == 2  # the cadre may dispatch it again


def test_redispatch_moves_the_ticket_and_tells_both_units(
    settings: Settings, engine: Engine, clock: ManualClock
) -> None:
    chat = _chat_with_water(settings, engine, clock)
    chat.say("张阿姨", LEAK)
    assert chat.texts("王芳", "改派 1 自来水") == ["@王芳 " + texts.UNIT_NOT_YET.format(number=1)]
    chat.say("王芳", "派单 1")
    assert chat.texts("王芳", "改派 1 物业") == ["@王芳 " + texts.UNIT_SAME.format(number=1, unit="幸福里物业")]
    public, order, withdrawn = chat.say("王芳", "改派 1 自来水")
    assert public.text == "@张阿姨 #1 已改派 城市供水公司 处理，王芳 督办。"
    assert (order.chat_id, order.is_private) == ("wxid_qiangong", True)  # no group: each member privately
    assert "请于 11月23日 10:00 前接单，11月24日 09:00 前办结" in order.text
    assert (withdrawn.chat_name, withdrawn.text) == (
        UNIT_GROUP, "@张师傅 #1 已改派 城市供水公司，幸福里物业 无需再处理，谢谢。",
    )  # fmt: skip
    assert _ticket(chat, 1).unit_id == "water"
    with chat.session() as session:
        assert ticket_events(session, 1)[-1].action == "redispatch"
    public, _ = chat.say("钱工", "接单 1", group="私聊")
    assert public.text == "@张阿姨 #1 已由 城市供水公司 钱工 签收，正在处理。"


def test_a_dispatch_from_another_chat_confirms_where_the_order_went(chat: Chat) -> None:
    chat.say("张阿姨", LEAK)
    public, order, confirm = chat.say("王芳", "派单 1 物业", group="幸福里社区工作群")
    assert public.chat_name == GROUP_G1 and order.chat_name == UNIT_GROUP
    assert confirm.text == "@王芳 #1 已派 幸福里物业 处理，王芳 督办。派单已发到：幸福里物业维修群。"


def test_chat_in_the_units_group_or_from_its_members_opens_nothing(chat: Chat) -> None:
    assert chat.say("张师傅", "5号楼水管漏水了我去看看", group=UNIT_GROUP) == []
    assert chat.say("小王", "3号楼水管又漏水了", group=UNIT_GROUP) == []  # not a member, but the unit's group
    assert chat.say("张师傅", "4号楼路灯不亮了", group=GROUP_G2) == []
    with chat.session() as session:
        assert session.get(Ticket, 1) is None


def test_help_for_a_unit_member_lists_the_units_commands(chat: Chat) -> None:
    [unit] = chat.texts("张师傅", "帮助", group=UNIT_GROUP)
    assert unit.startswith("@张师傅 幸福里物业 可用的指令（只限派给本单位的事项）：\n接单 编号")
    assert "退单 编号 原因" in unit and "派单" not in unit
    [cadre] = chat.texts("王芳", "帮助")
    assert "派单 编号 单位" in cadre and "改派 编号 单位" in cadre and "退单" not in cadre


def _chat_with_water(settings: Settings, engine: Engine, clock: ManualClock) -> Chat:
    with_water = settings.model_copy(update={"units": [*settings.units, WATER]})
    app = Huiyin(with_water, engine, configured_classifier(with_water), clock)
    app.prepare()
    return Chat(app)


# Config: units are validated like the rest, every problem at its key and line.

GROUPS = "  - {name: 干部群, kind: cadres}\n"
OTHER = "  - {id: other, name: Other}\n"
WUYE = (
    "{id: wuye, name: 物业公司, short: 物业, kind: property, group: 物业群, "
    "members: [{name: 张师傅, chat_id: wx_zhang}]}"
)
WATER_UNIT = "{id: water, name: 自来水公司, kind: water, members: [{name: 刘工, chat_id: wx_liu}]}"


def units_edit(*replacements: tuple[str, str]) -> str:
    """The clean base with a unit group (line 19), 'other' defaulting to wuye (21), units wuye (23) and water (24)."""
    base = clean_edit(
        (GROUPS, GROUPS + "  - {name: 物业群, kind: unit}\n"),
        (OTHER, "  - {id: other, name: Other, default_unit: wuye}\nunits:\n" + f"  - {WUYE}\n  - {WATER_UNIT}\n"),
    )
    for old, new in replacements:
        assert old in base, old
        base = base.replace(old, new, 1)
    return base


def test_the_units_base_loads() -> None:
    settings = load_settings_text(units_edit())
    assert [u.id for u in settings.units] == ["wuye", "water"]
    assert settings.unit_by_name("物业") is settings.unit_by_name("物业公司") is settings.unit("wuye")
    assert settings.unit_member("wx_liu") == (settings.units[1], settings.units[1].members[0])
    assert settings.categories[0].default_unit == "wuye"


@pytest.mark.parametrize(
    ("replacements", "expected"),
    [
        pytest.param(
            (("default_unit: wuye", "default_unit: gas"),),
            ["config.yaml:21: categories[0].default_unit: 没有 id 为 'gas' 的合作单位（units:）"],
            id="unknown-default-unit",
        ),
        pytest.param(
            (("{id: water,", "{id: wuye,"),),
            ["config.yaml:24: units[1].id: id 'wuye' 重复了"],
            id="duplicate-unit-id",
        ),
        pytest.param(
            (("chat_id: wx_liu", "chat_id: wx_ann"),),
            [
                "config.yaml:24: units[1].members[0].chat_id: chat_id 'wx_ann' 已经是干部 'Ann' 的了"
                "（一个微信号只能对应一个人）"
            ],
            id="member-chat-id-is-a-cadres",
        ),
        pytest.param(
            (("chat_id: wx_liu", "chat_id: wx_zhang"),),
            [
                "config.yaml:24: units[1].members[0].chat_id: chat_id 'wx_zhang' 已经是物业公司 的 '张师傅' 的了"
                "（一个微信号只能对应一个人）"
            ],
            id="member-chat-id-twice",
        ),
        pytest.param(
            (("kind: water", "kind: bank"),),
            [
                "config.yaml:24: units[1].kind: 'bank' 不是可选的值（可选：'property', 'water', 'power', 'gas', "
                "'heating', 'city_management', 'police', 'other'）"
            ],
            id="unknown-kind",
        ),
        pytest.param(
            (("group: 物业群", "group: 一网格群"),),
            [
                "config.yaml:23: units[0].group: 群 '一网格群' 在 groups: 里不是合作单位的群（请在那里写 kind: unit，"
                "居民群和干部群不能当作单位群）"
            ],
            id="residents-group-as-unit-group",
        ),
        pytest.param(
            (("group: 物业群", "group: 维修群"),),
            ["config.yaml:23: units[0].group: groups: 里没有群 '维修群'（合作单位的群也要写进 groups:，kind: unit）"],
            id="unit-group-not-in-groups",
        ),
        pytest.param(
            (("kind: water, members: [{name: 刘工, chat_id: wx_liu}]", "kind: water"),),
            ["config.yaml:24: units[1]: 合作单位 'water' 既没有 group 也没有 members，派单消息无处可发"],
            id="unreachable-unit",
        ),
        pytest.param(
            (("name: 自来水公司", "name: 物业"),),
            ["config.yaml:24: units[1].name: '物业' 已经是合作单位 'wuye' 的名字或简称（派单 时分不清是哪家）"],
            id="unit-name-is-another-units-short-name",
        ),
        pytest.param(
            (("{id: other, name: Other, default_unit: wuye}", "{id: other, name: Other, auto_dispatch: true}"),),
            [
                "config.yaml:21: categories[0].auto_dispatch: "
                "auto_dispatch: true 要配合 default_unit 使用：自动派给哪个合作单位？"
            ],
            id="auto-dispatch-without-a-unit",
        ),
    ],
)
def test_a_unit_mistake_is_a_located_error(replacements: tuple[tuple[str, str], ...], expected: list[str]) -> None:
    assert problems_of(units_edit(*replacements)) == expected


def auto_dispatching_chat(settings: Settings, engine: Engine, clock: ManualClock) -> Chat:
    """A chat with the bot of `settings` whose drainage category is dispatched to its unit at once."""
    categories = [
        c.model_copy(update={"auto_dispatch": True}) if c.id == "drainage" else c for c in settings.categories
    ]
    auto = settings.model_copy(update={"categories": categories})
    app = Huiyin(auto, engine, configured_classifier(auto), clock)
    app.prepare()
    return Chat(app)


def test_a_category_with_auto_dispatch_sends_a_new_report_to_its_unit_at_once(
    settings: Settings, engine: Engine, clock: ManualClock
) -> None:
    chat = auto_dispatching_chat(settings, engine, clock)
    replies = chat.say("张阿姨", "3号楼2单元下水道堵了，一楼返水")
    assert "已同时派 幸福里物业 处理。" in replies[0].text
    [order] = [o for o in replies if o.chat_name == "幸福里物业维修群"]
    assert "#1" in order.text and "王芳 督办" in order.text
    dispatched = _ticket(chat, 1)
    assert (dispatched.unit_id, dispatched.unit_response_due_at is not None) == ("wuye", True)
    assert [o.chat_name for o in chat.say("李叔", "5号楼门口路灯坏了", group="4-6号楼业主群")] == ["4-6号楼业主群"]
