"""SLA watch through a week on a ManualClock: reminders, escalations up the chain, each exactly once."""

from __future__ import annotations

import datetime as dt

from jobs.runner import JobRunner
from jobs.sla import Step, chases
from ledger.lifecycle import Action, Status
from ledger.messages import Outgoing
from ledger.wording import format_time
from storage.views import ticket_views
from tests.chat import GROUP_G2, Chat
from tests.conftest import MONDAY_9AM, SHANGHAI
from tests.test_jobs_support import actions, check_every, tick, view

CADRES_GROUP = "幸福里社区工作群"
TEN_MINUTES = dt.timedelta(minutes=10)


def sla_messages(sent: list[tuple[dt.datetime, Outgoing]]) -> list[tuple[dt.datetime, Outgoing]]:
    return [(at, o) for at, o in sent if "时限" in o.text and "交接班" not in o.text and "台账日报" not in o.text]


def test_first_response_is_reminded_then_escalated_to_leader_then_secretary_once_each(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    with chat.session() as session:
        [opened] = ticket_views(session)
    assert opened.response_due_at == opened.created_at + dt.timedelta(hours=1)
    sent = sla_messages(check_every(chat, MONDAY_9AM + dt.timedelta(hours=3)))
    # Checked every minute from 09:00:01 (in step with the ticket): each step at its time, never again.
    created = opened.created_at
    assert [at for at, _ in sent] == [created + dt.timedelta(minutes=m) for m in (45, 60, 120)]
    assert [o.chat_name for _, o in sent] == ["王芳", CADRES_GROUP, CADRES_GROUP]
    reminder, leader, secretary = (o for _, o in sent)
    assert reminder.is_private and "首次响应时限是 11月23日 10:00，还剩 15分钟" in reminder.text
    assert leader.text.startswith("@赵敏 @王芳 ") and "已升级至网格长 赵敏" in leader.text
    assert secretary.text.startswith("@陈洁 @王芳 ") and "已升级至书记 陈洁" in secretary.text
    assert actions(chat, 1).count(Action.REMIND.value) == 1
    assert actions(chat, 1).count(Action.ESCALATE.value) == 2


def test_a_cadre_acting_one_second_before_the_deadline_stops_the_escalation(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    with chat.session() as session:
        due = ticket_views(session)[0].response_due_at
    check_every(chat, due - dt.timedelta(minutes=1))
    chat.clock.set(due - dt.timedelta(seconds=2))
    chat.say("王芳", "接单 1")  # at due − 1 s
    assert sla_messages(check_every(chat, MONDAY_9AM + dt.timedelta(hours=4))) == []
    assert Action.ESCALATE.value not in actions(chat, 1)
    assert actions(chat, 1).count(Action.REMIND.value) == 1


def test_after_downtime_only_the_latest_step_is_sent_and_only_once(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    sent = tick(chat, MONDAY_9AM + dt.timedelta(hours=2, minutes=30))  # reminder, leader, secretary all past
    escalations = [o for o in sent if "首次响应" in o.text]
    assert len(escalations) == 1 and "已升级至书记 陈洁" in escalations[0].text
    assert [o for o in tick(chat) if "首次响应" in o.text] == []
    assert actions(chat, 1).count(Action.ESCALATE.value) == 1 and Action.REMIND.value not in actions(chat, 1)


def stops(chat: Chat, until: dt.datetime) -> list[tuple[dt.datetime, Outgoing]]:
    """Move the clock to `until` stopping at each instant a job comes due (as the replay does)."""
    sent: list[tuple[dt.datetime, Outgoing]] = []

    def record() -> None:
        before = len(chat.transport.sent)
        chat.sender.drain()
        sent.extend((chat.clock.now(), o) for o in chat.transport.sent[before:])

    JobRunner(chat.app.settings, chat.app.engine).run_until(chat.clock, chat.clock.now(), until, record)
    return sla_messages(sent)


def test_deadlines_across_midnight_and_the_weekend(chat: Chat) -> None:
    chat.clock.set(dt.datetime(2026, 11, 27, 23, 30, tzinfo=SHANGHAI))  # Friday night: 李军's night shift
    chat.say("孙大爷", "5号楼楼道里有人飞线充电", group=GROUP_G2)  # 停车与消防: resolution within 24 h
    opened_at = chat.clock.now()
    chat.say("李军", "接单 1", group=GROUP_G2)
    chat.say("李军", "承诺 1 周日", group=GROUP_G2)  # due at the end of Sunday, i.e. Monday 00:00
    committed_at = chat.clock.now()
    sent = stops(chat, dt.datetime(2026, 11, 30, 0, 30, tzinfo=SHANGHAI))
    resolution = [at for at, o in sent if "办结时限" in o.text and "承诺" not in o.text]
    commitment = [(at, o) for at, o in sent if "承诺办结时限" in o.text]
    # 24 h from Fri 23:30:01: reminded at 75% (Sat 17:30:01), leader at Sat 23:30:01, secretary at Sun 23:30:01.
    assert resolution == [opened_at + dt.timedelta(hours=h) for h in (18, 24, 48)]
    monday = dt.datetime(2026, 11, 30, tzinfo=SHANGHAI)
    reminder_at = committed_at + (monday - committed_at) * 0.75
    assert [at for at, _ in commitment] == [reminder_at.replace(microsecond=0) + dt.timedelta(seconds=1), monday]
    assert commitment[0][1].is_private and commitment[0][1].chat_name == "李军"
    assert "已超过承诺办结时限（11月30日 00:00）" in commitment[1][1].text and "网格长 赵敏" in commitment[1][1].text


def test_a_reopened_ticket_is_chased_against_its_new_deadline(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.say("王芳", "接单 1")
    old = [o.text for _, o in check_every(chat, MONDAY_9AM + dt.timedelta(hours=40), TEN_MINUTES)]
    assert any("办结时限是 11月25日 09:00" in t for t in old)  # reminded of the first deadline
    chat.say("王芳", "办结 1 已疏通")
    chat.say("张阿姨", "没修好 1", advance=dt.timedelta(hours=2))
    reopened_at = chat.clock.now()
    with chat.session() as session:
        [reopened] = ticket_views(session)
    assert reopened.resolution_since == reopened_at
    assert reopened.resolution_due_at == reopened_at + dt.timedelta(hours=48)
    new = [o.text for _, o in sla_messages(check_every(chat, reopened_at + dt.timedelta(hours=49), TEN_MINUTES))]
    due = format_time(reopened.resolution_due_at, SHANGHAI)
    assert len(new) == 2 and f"办结时限是 {due}" in new[0] and f"超过办结时限（{due}）" in new[1]  # remind, leader
    assert not any("11月25日 09:00" in t for t in new)  # the replaced deadline is never chased


def test_a_grid_leader_who_owns_a_ticket_escalates_straight_to_the_secretary(settings) -> None:
    steps = chases(settings, view(assignee_id="zhaomin"))
    assert [(c.deadline.kind, c.step, c.target.name) for c in steps] == [
        ("response", Step.REMIND, "赵敏"), ("response", Step.LEADER, "陈洁"),
        ("resolution", Step.REMIND, "赵敏"), ("resolution", Step.LEADER, "陈洁"),
    ]  # fmt: skip


def test_met_deadlines_drop_out(settings) -> None:
    responded = view(first_response_at=MONDAY_9AM + dt.timedelta(minutes=5))
    assert {c.deadline.kind for c in chases(settings, responded)} == {"resolution"}
    assert chases(settings, view(status=Status.RESOLVED)) == []
