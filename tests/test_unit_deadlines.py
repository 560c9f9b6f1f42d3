"""Partner units are measured: their own limits set at 派单/改派, cleared at 退单, stamped at their first answer, and
chased by jobs/sla.py — the unit reminded in its group, the responsible cadre (督办) told at due, then the secretary.

The chat tests run on SQLite and PostgreSQL (conftest's `engine`). The sample config's 幸福里供水所 (short 供水,
group 幸福里供水抢修群, member 刘工) answers within 30 minutes and resolves within 24 hours; 幸福里物业 (short 物业,
group 幸福里物业维修群, member 张师傅) within 30 minutes and 48 hours. 王芳 is the assignee in grid g1, 陈洁 the
secretary, 幸福里社区工作群 the cadres' group; reminders come at 75% of a limit and the secretary at twice it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy.engine import Engine

from bot.app import Huiyin
from jobs.sla import Step, chases
from ledger.clock import ManualClock
from ledger.deadlines import unit_due
from ledger.messages import Outgoing
from ledger.wording import format_time
from nlp.trained import configured_classifier
from settings import load_settings_text
from settings.models import Settings, WorkingHours
from storage.models import Ticket
from storage.tickets import ledger_fields, rebuild_ticket, ticket_events
from tests.chat import Chat
from tests.conftest import MONDAY_9AM, SHANGHAI
from tests.test_config import problems_of
from tests.test_jobs_support import check_every, view
from tests.test_units import units_edit

WATER_GROUP = "幸福里供水抢修群"
PROPERTY_GROUP = "幸福里物业维修群"
CADRES_GROUP = "幸福里社区工作群"
LEAK = "3号楼2单元楼道的水管漏水了，地上全是水"
MINUTE = dt.timedelta(minutes=1)
OFFICE = WorkingHours(days=["mon", "tue", "wed", "thu", "fri"], start="08:30", end="17:30")


def at(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, second, tzinfo=SHANGHAI)


def unit_messages(sent: list[tuple[dt.datetime, Outgoing]]) -> list[tuple[dt.datetime, Outgoing]]:
    """The chase of the units' own limits (not the cadres': those say 时限 without 单位 or 派单)."""
    return [(when, o) for when, o in sent if "时限" in o.text and ("派单 #" in o.text or "单位" in o.text)]


def _ticket(chat: Chat, number: int = 1) -> Ticket:
    with chat.session() as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None
        return ticket


def _dispatched(chat: Chat, unit: str = "供水") -> dt.datetime:
    """A leak reported in g1, signed by 王芳 (so the cadre's own response limit is met) and dispatched to `unit`."""
    chat.say("张阿姨", LEAK)
    chat.say("王芳", "接单 1")
    chat.say("王芳", f"派单 1 {unit}")
    return chat.clock.now()


def test_dispatch_sets_the_units_limits_and_the_order_states_them(chat: Chat) -> None:
    chat.say("张阿姨", LEAK)
    chat.say("王芳", "接单 1")
    _public, order = chat.say("王芳", "派单 1 供水")
    dispatched = chat.clock.now()
    ticket = _ticket(chat)
    assert ticket.unit_response_due_at == dispatched + dt.timedelta(minutes=30)
    assert ticket.unit_resolution_due_at == dispatched + dt.timedelta(hours=24)
    assert ticket.unit_first_response_at is None
    assert order.chat_name == WATER_GROUP and order.mention_ids == ("wxid_liugong",)
    due = format_time(dispatched + dt.timedelta(minutes=30), SHANGHAI)
    assert f"请于 {due} 前接单，{format_time(dispatched + dt.timedelta(hours=24), SHANGHAI)} 前办结" in order.text
    with chat.session() as session:
        event = ticket_events(session, 1)[-1]
        assert event.action == "dispatch" and "unit_response_due_at" in event.changes
        assert rebuild_ticket(ticket_events(session, 1)) == ledger_fields(session.get(Ticket, 1))


def test_the_unit_is_reminded_in_its_group_then_the_cadre_then_the_secretary_once_each(chat: Chat) -> None:
    dispatched = _dispatched(chat)
    sent = unit_messages(check_every(chat, dispatched + dt.timedelta(hours=2)))
    # The response limit (30 minutes): reminder at 22.5, the cadre at 30 (privately and in the cadres' group),
    # the secretary at 60; checked every minute, each step once.
    times = [when for when, _ in sent]
    assert times[0] - dispatched == dt.timedelta(minutes=23)  # the first check after 22.5 minutes
    assert times[1:] == [dispatched + dt.timedelta(minutes=30)] * 2 + [dispatched + dt.timedelta(minutes=60)]
    reminder, private, group, secretary = (o for _, o in sent)
    assert (reminder.chat_name, reminder.mention_ids) == (WATER_GROUP, ("wxid_liugong",))
    assert reminder.text.startswith("@刘工 ⏰ 提醒：派单 #1【给排水】3号楼2单元的接单时限是 ")
    assert "还剩 7分钟" in reminder.text and "接单 1" in reminder.text
    assert (private.chat_id, private.is_private) == ("wxid_wangfang", True)
    assert "已派 幸福里供水所，单位接单时限" in private.text and "请负责人 王芳 督办" in private.text
    assert (group.chat_name, group.text) == (CADRES_GROUP, "@王芳 " + private.text)
    assert secretary.chat_name == CADRES_GROUP and secretary.text.startswith("@陈洁 @王芳 ")
    assert "已升级至书记 陈洁" in secretary.text
    with chat.session() as session:
        events = [e for e in ticket_events(session, 1) if e.action in ("remind", "escalate")]
    assert [(e.action, e.note) for e in events] == [
        ("remind", f"单位接单时限 {format_time(dispatched + 30 * MINUTE, SHANGHAI)} 提醒 幸福里供水所"),
        ("escalate", f"幸福里供水所 单位接单时限 {format_time(dispatched + 30 * MINUTE, SHANGHAI)} 升级至 王芳"),
        ("escalate", f"幸福里供水所 单位接单时限 {format_time(dispatched + 30 * MINUTE, SHANGHAI)} 升级至 陈洁"),
    ]
    assert unit_messages(check_every(chat, dispatched + dt.timedelta(hours=3), 10 * MINUTE)) == []  # never again


def test_the_units_answer_stops_the_response_chase_but_not_the_resolution_chase(chat: Chat) -> None:
    dispatched = _dispatched(chat)
    chat.say("刘工", "接单 1", group=WATER_GROUP, advance=10 * MINUTE)
    assert _ticket(chat).unit_first_response_at == chat.clock.now()
    assert unit_messages(check_every(chat, dispatched + dt.timedelta(hours=2))) == []
    chat.say("刘工", "进度 1 已关阀", group=WATER_GROUP)
    assert _ticket(chat).unit_first_response_at == dispatched + 10 * MINUTE  # once
    sent = unit_messages(check_every(chat, dispatched + dt.timedelta(hours=25), 10 * MINUTE))
    assert [o.chat_name for _, o in sent] == [WATER_GROUP, "王芳", CADRES_GROUP]
    assert "办结时限" in sent[0][1].text and "单位办结时限" in sent[1][1].text


def test_the_unit_resolving_ends_its_chase(chat: Chat) -> None:
    dispatched = _dispatched(chat)
    chat.say("刘工", "办结 1 已换管", group=WATER_GROUP, advance=5 * MINUTE)
    assert _ticket(chat).unit_first_response_at == dispatched + 5 * MINUTE
    assert unit_messages(check_every(chat, dispatched + dt.timedelta(hours=30), 10 * MINUTE)) == []


def test_a_return_stops_the_chase(chat: Chat) -> None:
    dispatched = _dispatched(chat)
    chat.say("刘工", "退单 1 是物业的管子", group=WATER_GROUP, advance=5 * MINUTE)
    ticket = _ticket(chat)
    assert (ticket.unit_id, ticket.unit_response_due_at, ticket.unit_resolution_due_at) == (None, None, None)
    assert ticket.unit_first_response_at == dispatched + 5 * MINUTE  # the unit did answer
    assert unit_messages(check_every(chat, dispatched + dt.timedelta(hours=2))) == []
    with chat.session() as session:
        assert rebuild_ticket(ticket_events(session, 1)) == ledger_fields(session.get(Ticket, 1))


def test_a_redispatch_restarts_the_chase_for_the_new_unit(chat: Chat) -> None:
    dispatched = _dispatched(chat, "物业")
    first = unit_messages(check_every(chat, dispatched + 25 * MINUTE))
    assert [o.chat_name for _, o in first] == [PROPERTY_GROUP]  # 物业 reminded at 22.5 minutes
    chat.say("张师傅", "接单 1", group=PROPERTY_GROUP)  # 物业 answered; then the cadre moves it to 供水
    redispatched_at = chat.clock.now()
    chat.say("王芳", "改派 1 供水", advance=dt.timedelta(0))
    ticket = _ticket(chat)
    assert (ticket.unit_id, ticket.unit_first_response_at) == ("gongshui", None)
    assert ticket.unit_response_due_at == redispatched_at + 30 * MINUTE
    sent = unit_messages(check_every(chat, redispatched_at + dt.timedelta(hours=2)))
    assert [o.chat_name for _, o in sent] == [WATER_GROUP, "王芳", CADRES_GROUP, CADRES_GROUP]
    assert all("幸福里物业" not in o.text for _, o in sent[1:])  # the first unit's limits are never chased
    assert sent[1][0] == redispatched_at + 30 * MINUTE and "幸福里供水所" in sent[1][1].text


def test_the_chase_in_steps(settings: Settings) -> None:
    dispatched = MONDAY_9AM + dt.timedelta(hours=1)
    dispatched_view = view(
        first_response_at=dispatched, unit_id="gongshui", dispatched_at=dispatched,
        unit_response_due_at=dispatched + 30 * MINUTE, unit_resolution_due_at=dispatched + dt.timedelta(hours=24),
    )  # fmt: skip
    steps = [(c.deadline.kind, c.step, c.target.name, c.at - dispatched) for c in chases(settings, dispatched_view)]
    unit_steps = [s for s in steps if s[0].startswith("unit_")]
    assert unit_steps == [
        ("unit_response", Step.REMIND, "幸福里供水所", dt.timedelta(minutes=22, seconds=30)),
        ("unit_response", Step.CADRE, "王芳", 30 * MINUTE),
        ("unit_response", Step.SECRETARY, "陈洁", 60 * MINUTE),
        ("unit_resolution", Step.REMIND, "幸福里供水所", dt.timedelta(hours=18)),
        ("unit_resolution", Step.CADRE, "王芳", dt.timedelta(hours=24)),
        ("unit_resolution", Step.SECRETARY, "陈洁", dt.timedelta(hours=48)),
    ]
    answered = replace(dispatched_view, unit_first_response_at=dispatched + MINUTE)
    assert {c.deadline.kind for c in chases(settings, answered)} == {"resolution", "unit_resolution"}
    secretary_owns = replace(dispatched_view, assignee_id="chenjie")
    assert [c.target.name for c in chases(settings, secretary_owns) if c.deadline.kind == "unit_response"] == [
        "幸福里供水所", "陈洁",
    ]  # fmt: skip
    reopened = replace(dispatched_view, resolution_since=dispatched + dt.timedelta(hours=2))
    assert not any(c.deadline.kind.startswith("unit_") for c in chases(settings, reopened))


# Working hours: only working time counts, on the rota's working calendar (public holidays, 调休).


def _with_office_hours(settings: Settings) -> Settings:
    units = [u.model_copy(update={"working_hours": OFFICE}) if u.id == "gongshui" else u for u in settings.units]
    return settings.model_copy(update={"units": units})


def test_working_hours_skip_the_national_holiday_and_count_the_makeup_saturday(settings: Settings) -> None:
    office = _with_office_hours(settings)
    water = office.unit("gongshui")
    assert water is not None
    drainage = office.category("drainage")
    # Wednesday 30 September 17:00: 30 minutes of the day left; 国庆 1–7 October is off (its weekend too).
    response, resolution = unit_due(office, water, drainage, at(9, 30, 17))
    assert response == at(9, 30, 17, 30)
    # 24 working hours: 0.5 on 30 September, 9 on Thursday 8, 9 on Friday 9, 5.5 on the make-up Saturday 10.
    assert resolution == at(10, 10, 14)
    # Friday 9 October 17:15: the next working time is the make-up Saturday, not Monday.
    assert unit_due(office, water, drainage, at(10, 9, 17, 15))[0] == at(10, 10, 8, 45)
    # An ordinary Saturday is not worked: Friday 16 October 17:15 → Monday 19 October.
    assert unit_due(office, water, drainage, at(10, 16, 17, 15))[0] == at(10, 19, 8, 45)
    # Without working hours the clock never stops.
    assert unit_due(settings, settings.unit("gongshui"), drainage, at(9, 30, 17)) == (
        at(9, 30, 17, 30), at(10, 1, 17),
    )  # fmt: skip


def test_holidays_in_config_count_for_the_units_too(settings: Settings) -> None:
    office = _with_office_hours(settings)
    day_off = office.holidays.model_copy(update={"days_off": [dt.date(2026, 11, 24)]})
    local = office.model_copy(update={"holidays": day_off})
    water = local.unit("gongshui")
    assert water is not None
    # Monday 23 November 17:15, Tuesday 24 a local day off: due Wednesday 25 at 08:45.
    assert unit_due(local, water, local.category("drainage"), at(11, 23, 17, 15))[0] == at(11, 25, 8, 45)


def test_working_hours_crossing_midnight(settings: Settings) -> None:
    nights = WorkingHours(days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start="20:00", end="08:00")
    night_unit = settings.model_copy(
        update={"units": [u.model_copy(update={"working_hours": nights}) for u in settings.units]}
    )
    water = night_unit.unit("gongshui")
    assert water is not None
    assert unit_due(night_unit, water, None, at(11, 24, 7, 45))[0] == at(11, 24, 20, 15)


def test_a_dispatch_over_the_holiday_is_chased_on_working_time(
    settings: Settings, engine: Engine, clock: ManualClock
) -> None:
    office = _with_office_hours(settings)
    app = Huiyin(office, engine, configured_classifier(office), clock)
    app.prepare()
    chat = Chat(app)
    clock.set(at(9, 30, 17, 29, 57))
    chat.say("张阿姨", LEAK)
    chat.say("王芳", "接单 1")
    chat.say("王芳", "派单 1 供水")  # Wednesday 30 September 17:30:00, the end of the working day
    ticket = _ticket(chat)
    assert ticket.unit_response_due_at == at(10, 8, 9)  # after 国庆
    assert ticket.unit_resolution_due_at == at(10, 10, 14, 30)  # 9 + 9 hours, then 6 on the make-up Saturday
    # The reminder comes at 75% of the span (as every limit's), the cadre is told at the due time.
    sent = unit_messages(check_every(chat, at(10, 8, 9, 30), dt.timedelta(minutes=30)))
    response = [(when, o) for when, o in sent if "接单时限" in o.text]
    assert [o.chat_name for _, o in response] == [WATER_GROUP, "王芳", CADRES_GROUP]
    assert "单位接单时限（10月8日 09:00）" in response[1][1].text and response[1][0] == at(10, 8, 9)
    # The resolution limit's reminder came on 75% of its span too, in the unit's group.
    assert [o.chat_name for _, o in sent if "的办结时限是 10月10日 14:30" in o.text] == [WATER_GROUP]


# Config: working_hours are validated like the rest, every problem at its key and line.


@pytest.mark.parametrize(
    ("working_hours", "expected"),
    [
        pytest.param(
            "{start: '08:30', end: '25:00'}",
            "config.yaml:23: units[0].working_hours.end: '25:00' 不是时间（请写成 HH:MM，如 '08:00'）",
            id="bad-time",
        ),
        pytest.param(
            "{start: '08:30', end: '08:30'}",
            "config.yaml:23: units[0].working_hours.end: "
            "工作时间的开始和结束不能是同一时间（全天候的单位不写 working_hours）",
            id="empty",
        ),
        pytest.param(
            "{days: [mon, funday], start: '08:30', end: '17:30'}",
            "config.yaml:23: units[0].working_hours.days[1]: 'funday' 不是星期几"
            "（可写：mon, tue, wed, thu, fri, sat, sun）",
            id="bad-day",
        ),
        pytest.param(
            "{days: [mon, mon], start: '08:30', end: '17:30'}",
            "config.yaml:23: units[0].working_hours.days[1]: 'mon' 重复了",
            id="day-twice",
        ),
        pytest.param(
            "{days: [], start: '08:30', end: '17:30'}",
            "config.yaml:23: units[0].working_hours.days: 至少要有 1 项",
            id="no-days",
        ),
        pytest.param(
            "{start: '08:30'}",
            "config.yaml:23: units[0].working_hours.end: 必须填写",
            id="no-end",
        ),
    ],
)
def test_a_working_hours_mistake_is_a_located_error(working_hours: str, expected: str) -> None:
    edited = units_edit(("members: [{name: 张师傅", f"working_hours: {working_hours}, members: [{{name: 张师傅"))
    assert problems_of(edited) == [expected]


def test_working_hours_load() -> None:
    edited = units_edit(
        (
            "members: [{name: 张师傅",
            "working_hours: {days: [mon, sat], start: '20:00', end: '08:00'}, members: [{name: 张师傅",
        ),
    )
    wuye = load_settings_text(edited).unit("wuye")
    assert wuye is not None and wuye.working_hours is not None
    assert (wuye.working_hours.days, wuye.working_hours.start, wuye.working_hours.end) == (
        ["mon", "sat"], dt.time(20), dt.time(8),
    )  # fmt: skip
    assert load_settings_text(units_edit()).unit("wuye").working_hours is None  # type: ignore[union-attr]
