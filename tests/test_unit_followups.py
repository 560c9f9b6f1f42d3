"""Partner units after the dispatch: a resident's reopen of a dispatched ticket gives the unit fresh limits and tells
it; the cadres' daily report lists each unit's overdue tickets.

The chat tests run on SQLite and PostgreSQL (conftest's `engine`). The sample config's 幸福里物业 (short 物业, id wuye,
group 幸福里物业维修群, member 张师傅) answers within 30 minutes and resolves within 48 hours; 幸福里供水所 (short 供水,
id gongshui, group 幸福里供水抢修群, member 刘工) within 30 minutes and 24 hours. 王芳 is the assignee in grid g1; the
daily report goes to 幸福里社区工作群 at 18:00.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine

from bot.app import Huiyin
from jobs.reports import daily_report
from jobs.runner import JobRunner
from ledger.clock import ManualClock
from ledger.lifecycle import Status
from ledger.messages import Outgoing
from ledger.views import TicketView
from nlp.trained import configured_classifier
from settings.models import Settings
from storage.models import Ticket
from storage.tickets import ledger_fields, rebuild_ticket, ticket_events
from tests.chat import GROUP_G1, Chat
from tests.conftest import MONDAY_9AM
from tests.test_jobs_support import check_every, view

PROPERTY_GROUP = "幸福里物业维修群"
WATER_GROUP = "幸福里供水抢修群"
CADRES_GROUP = "幸福里社区工作群"
UNIT_CHATS = {PROPERTY_GROUP, WATER_GROUP, "wxid_zhangshifu", "wxid_liugong"}
DRAIN = "3号楼2单元下水道堵了，一楼返水"
LAMP = "2号楼门口的路灯坏了，晚上很黑"
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
UNITS_HEADER = "合作单位超时："


def _ticket(chat: Chat, number: int = 1) -> Ticket:
    with chat.session() as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None
        return ticket


def _to_units(replies: list[Outgoing]) -> list[Outgoing]:
    return [o for o in replies if o.chat_name in UNIT_CHATS or o.chat_id in UNIT_CHATS]


def _resolved_by_the_unit(chat: Chat) -> None:
    """A blocked drain (09:00:01) dispatched to 物业 (09:00:02), signed and resolved by 张师傅 in time."""
    chat.say("张阿姨", DRAIN)
    chat.say("王芳", "派单 1 物业")
    chat.say("张师傅", "接单 1", group=PROPERTY_GROUP)
    chat.say("张师傅", "办结 1 已疏通", group=PROPERTY_GROUP)


# A reopen of a dispatched ticket: fresh unit limits from now, the unit told.


def test_a_reopen_gives_the_unit_fresh_limits_and_tells_it_in_its_group(chat: Chat) -> None:
    _resolved_by_the_unit(chat)
    replies = chat.say("张阿姨", "没修好 1 还是返水", advance=2 * HOUR)
    reopened_at = chat.clock.now()
    ticket = _ticket(chat)
    assert (ticket.status, ticket.unit_id, ticket.dispatched_at) == ("reopened", "wuye", reopened_at)
    assert ticket.unit_response_due_at == reopened_at + 30 * MINUTE
    assert ticket.unit_resolution_due_at == reopened_at + dt.timedelta(hours=48)
    assert ticket.unit_first_response_at is None  # the unit answers afresh
    public, to_unit = replies
    assert public.chat_name == GROUP_G1 and "#1 居民反映没有解决，已重新办理" in public.text
    assert (to_unit.chat_name, to_unit.mention_ids, to_unit.is_private) == (PROPERTY_GROUP, ("wxid_zhangshifu",), False)
    assert to_unit.text == (
        "@张师傅 派单 #1【给排水】3号楼2单元 居民反映没有解决，已重新办理。"
        "请于 11月23日 11:30 前接单，11月25日 11:00 前办结（王芳 督办）。\n"
        "回复：接单 1 ／ 进度 1 说明 ／ 办结 1 处理结果"
    )
    with chat.session() as session:
        events = ticket_events(session, 1)
        assert rebuild_ticket(events) == ledger_fields(session.get(Ticket, 1))  # apply_action wrote it all
    assert events[-1].action == "reopen"
    assert {"dispatched_at", "unit_response_due_at", "unit_resolution_due_at"} <= events[-1].changes.keys()
    assert events[-1].changes["unit_first_response_at"] is None
    # The unit signs again (its signing before the reopen does not count) and its first answer is stamped anew.
    public, _ = chat.say("张师傅", "接单 1", group=PROPERTY_GROUP, advance=5 * MINUTE)
    assert public.text == "@张阿姨 #1 已由 幸福里物业 张师傅 签收，正在处理。"
    assert _ticket(chat).unit_first_response_at == reopened_at + 5 * MINUTE


@pytest.mark.parametrize(
    "reopening",
    [
        pytest.param("没修好 1", id="not-fixed"),
        pytest.param("评价 1 不满意", id="dissatisfied"),
        pytest.param("通个屁 我家一楼又冒上来了 还是堵的", id="words"),
    ],
)
def test_every_way_of_reopening_renews_the_units_limits(chat: Chat, reopening: str) -> None:
    _resolved_by_the_unit(chat)
    replies = chat.say("张阿姨", reopening, advance=HOUR)
    reopened_at = chat.clock.now()
    ticket = _ticket(chat)
    assert ticket.status == Status.REOPENED
    assert (ticket.dispatched_at, ticket.unit_response_due_at) == (reopened_at, reopened_at + 30 * MINUTE)
    [to_unit] = _to_units(replies)
    assert to_unit.chat_name == PROPERTY_GROUP and "已重新办理。请于 11月23日 10:30 前接单" in to_unit.text


def test_the_new_limits_are_chased_not_the_old_ones(chat: Chat) -> None:
    _resolved_by_the_unit(chat)
    chat.say("张阿姨", "没修好 1", advance=2 * HOUR)
    reopened_at = chat.clock.now()
    sent = [
        (when, o) for when, o in check_every(chat, reopened_at + 35 * MINUTE) if "单位" in o.text or "派单" in o.text
    ]
    # The unit is reminded at 75% of its new 30 minutes, the responsible cadre told at the new due time.
    assert [(when - reopened_at, o.chat_name) for when, o in sent] == [
        (23 * MINUTE, PROPERTY_GROUP), (30 * MINUTE, "王芳"), (30 * MINUTE, CADRES_GROUP),
    ]  # fmt: skip
    assert "派单 #1【给排水】3号楼2单元的接单时限是 11月23日 11:30" in sent[0][1].text
    assert "单位接单时限（11月23日 11:30）已过仍未接单" in sent[1][1].text


def test_a_unit_without_a_group_hears_of_the_reopen_privately(
    settings: Settings, engine: Engine, clock: ManualClock
) -> None:
    no_group = [u.model_copy(update={"group": None}) if u.id == "wuye" else u for u in settings.units]
    local = settings.model_copy(update={"units": no_group})
    app = Huiyin(local, engine, configured_classifier(local), clock)
    app.prepare()
    chat = Chat(app)
    chat.say("张阿姨", DRAIN)
    chat.say("王芳", "派单 1 物业")
    chat.say("王芳", "办结 1 已疏通")  # the cadre resolved it
    replies = chat.say("张阿姨", "没修好 1", advance=HOUR)
    [to_member] = _to_units(replies)
    assert (to_member.chat_id, to_member.chat_name, to_member.is_private) == ("wxid_zhangshifu", "张师傅", True)
    assert to_member.text.startswith(
        "派单 #1【给排水】3号楼2单元 居民反映没有解决，已重新办理。请于 11月23日 10:30 前接单"
    )


def test_a_reopen_of_an_undispatched_ticket_tells_no_unit(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    chat.say("王芳", "接单 1")
    chat.say("王芳", "办结 1 已疏通")
    replies = chat.say("张阿姨", "没修好 1", advance=HOUR)
    assert [o.chat_name for o in replies] == [GROUP_G1]
    assert _to_units(replies) == []
    ticket = _ticket(chat)
    assert ticket.status == "reopened" and ticket.resolution_due_at == chat.clock.now() + dt.timedelta(hours=48)
    assert (ticket.unit_id, ticket.dispatched_at, ticket.unit_response_due_at, ticket.unit_resolution_due_at) == (
        None, None, None, None,
    )  # fmt: skip
    with chat.session() as session:
        changes = ticket_events(session, 1)[-1].changes
    assert not [key for key in changes if key.startswith("unit_") or key == "dispatched_at"]


def test_a_reopen_after_the_unit_handed_the_ticket_back_tells_no_unit(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    chat.say("王芳", "派单 1 物业")
    chat.say("张师傅", "退单 1 是自来水管网的问题", group=PROPERTY_GROUP)
    chat.say("王芳", "办结 1 已疏通")
    replies = chat.say("张阿姨", "没修好 1", advance=HOUR)
    assert _to_units(replies) == [] and _ticket(chat).unit_response_due_at is None


# The daily report: each unit's overdue tickets.


def _daily(chat: Chat, at: dt.datetime) -> list[str]:
    """The lines of the daily report posted to the cadres' group at `at`."""
    chat.clock.set(at)
    before = len(chat.transport.sent)
    JobRunner(chat.app.settings, chat.app.engine).run(at, ("daily",))
    chat.sender.drain()
    [report] = [o for o in chat.transport.sent[before:] if o.chat_name == CADRES_GROUP]
    return report.text.splitlines()


def test_the_daily_report_lists_the_units_overdue_tickets(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    chat.say("王芳", "派单 1 物业")  # 09:00:02, never answered by the unit
    chat.say("张阿姨", LAMP)
    chat.say("王芳", "派单 2 物业")  # 09:00:04
    chat.say("张师傅", "接单 2", group=PROPERTY_GROUP)  # answered in time
    monday = _daily(chat, MONDAY_9AM.replace(hour=18))
    assert monday[-3:] == [UNITS_HEADER, "幸福里物业 1 件", "· #1【给排水】3号楼2单元 接单超时 8 小时"]
    # Wednesday: both past the unit's 48 hours (from 09:00:02 and 09:00:04), the oldest first.
    wednesday = _daily(chat, MONDAY_9AM.replace(hour=18) + dt.timedelta(days=2))
    assert wednesday[wednesday.index(UNITS_HEADER) :] == [
        UNITS_HEADER, "幸福里物业 2 件", "· #1【给排水】3号楼2单元 办结超时 8 小时",
        f"· #2【{_category_name(chat, 2)}】2号楼 办结超时 8 小时",
    ]  # fmt: skip


def _category_name(chat: Chat, number: int) -> str:
    category = chat.app.settings.category(_ticket(chat, number).category)
    assert category is not None
    return category.name


def test_the_daily_report_has_no_units_section_when_none_is_overdue(chat: Chat) -> None:
    chat.say("张阿姨", DRAIN)
    chat.say("王芳", "派单 1 物业")
    chat.say("张师傅", "接单 1", group=PROPERTY_GROUP, advance=10 * MINUTE)  # in time
    chat.say("张阿姨", LAMP)
    chat.say("王芳", "派单 2 物业")
    chat.say("张师傅", "进度 2 明天来换灯", group=PROPERTY_GROUP, advance=HOUR)  # late, but answered
    chat.say("张阿姨", "1号楼东边垃圾桶满了没人清")
    chat.say("王芳", "派单 3 物业")
    chat.say("张师傅", "退单 3 不归物业管", group=PROPERTY_GROUP, advance=2 * HOUR)  # handed back: no unit's
    assert _daily(chat, MONDAY_9AM.replace(hour=18)) == [
        "📒 台账日报 11月23日（周一）",
        "今日新增 3 件，办结 0 件，当前超期 0 件。",
    ]


def test_the_units_section_goes_unit_by_unit_in_config_order_with_the_three_most_overdue(settings: Settings) -> None:
    at = MONDAY_9AM.replace(hour=18)

    def dispatched(number: int, unit_id: str, response_late: dt.timedelta, **fields: object) -> TicketView:
        values: dict[str, object] = {
            "unit_id": unit_id, "dispatched_at": MONDAY_9AM, "unit_response_due_at": at - response_late,
            "unit_resolution_due_at": at + dt.timedelta(days=1), **fields,
        }  # fmt: skip
        return view(number, **values)

    answered = MONDAY_9AM + MINUTE
    views = [
        dispatched(1, "gongshui", 10 * MINUTE),
        dispatched(2, "wuye", 2 * HOUR),
        dispatched(3, "wuye", 0 * HOUR, unit_first_response_at=answered, unit_resolution_due_at=at - 26 * HOUR),
        dispatched(4, "wuye", dt.timedelta(seconds=30)),
        dispatched(5, "wuye", 5 * HOUR, status=Status.RESOLVED, resolved_at=at - HOUR),  # resolved: not overdue
        dispatched(6, "wuye", 4 * HOUR),
        dispatched(7, "wuye", 3 * HOUR, unit_first_response_at=answered),  # answered, resolution not due
        dispatched(8, "gone", HOUR),  # a unit no longer in config: named by its id, last
        view(9, resolution_due_at=at - HOUR),  # not dispatched: the cadres' overdue only
    ]
    [reply] = daily_report(settings, views, at).replies
    lines = reply.text.splitlines()
    assert lines[lines.index(UNITS_HEADER) :] == [
        UNITS_HEADER,
        "幸福里物业 4 件",
        "· #3【给排水】3号楼 办结超时 1 天",
        "· #6【给排水】3号楼 接单超时 4 小时",
        "· #2【给排水】3号楼 接单超时 2 小时",
        "幸福里供水所 1 件",
        "· #1【给排水】3号楼 接单超时 10 分钟",
        "gone 1 件",
        "· #8【给排水】3号楼 接单超时 1 小时",
    ]
    just_late = daily_report(settings, [views[3]], at).replies[0].text.splitlines()
    assert just_late[-1] == "· #4【给排水】3号楼 接单超时 1 分钟"  # never "0 分钟"
