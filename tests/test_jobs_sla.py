"""SLA watch through a week on a ManualClock: reminders, escalations up the chain, each exactly once."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from jobs.runner import JobRunner
from jobs.sla import Step, chases
from ledger.lifecycle import Action, Status
from ledger.messages import Outgoing
from ledger.wording import format_time
from storage.tickets import Actor, apply_action, get_ticket
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


def _steps_for(number: int, sent: list[tuple[dt.datetime, Outgoing]]) -> list[str]:
    """Which steps the ticket's messages were: remind, leader, secretary."""
    kinds = {"⏰ 提醒": "remind", "已升级至网格长": "leader", "已升级至书记": "secretary"}
    return [kind for _, o in sent if f"#{number}【" in o.text for cue, kind in kinds.items() if cue in o.text]


def _plant_commitment_of_9999(chat: Chat) -> None:
    """Ticket #1 promised for 9999-12-31, written into the ledger directly: no command accepts it any more,
    and the end of that day overflows the deadline arithmetic."""
    with chat.session() as session:
        ticket = get_ticket(session, 1)
        assert ticket is not None
        apply_action(
            session, ticket, Action.COMMIT, actor=Actor("wangfang", "王芳"), now=chat.clock.now(),
            changes={"commitment_date": dt.date(9999, 12, 31)},
        )  # fmt: skip
        session.commit()


def test_a_ticket_whose_data_breaks_the_sla_job_is_logged_and_skipped_and_the_others_are_chased(
    chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.say("孙大爷", "5号楼楼道灯不亮了", group=GROUP_G2)
    _plant_commitment_of_9999(chat)
    with caplog.at_level(logging.ERROR, logger="jobs.runner"):
        sent = sla_messages(check_every(chat, MONDAY_9AM + dt.timedelta(hours=3)))
    assert _steps_for(2, sent) == ["remind", "leader", "secretary"]
    assert _steps_for(1, sent) == []
    assert "job sla fails on ticket #1" in caplog.text and "OverflowError" in caplog.text
    assert "#2" not in caplog.text


def test_the_replay_clock_still_stops_for_the_other_tickets_when_one_breaks_the_sla_job(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.say("孙大爷", "5号楼楼道灯不亮了", group=GROUP_G2)
    _plant_commitment_of_9999(chat)
    sent = stops(chat, MONDAY_9AM + dt.timedelta(hours=3))
    assert _steps_for(2, sent) == ["remind", "leader", "secretary"]


def test_an_occurrence_that_fails_to_be_carried_out_is_retried_and_the_others_go_ahead(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    chat.say("孙大爷", "5号楼楼道灯不亮了", group=GROUP_G2)
    real_apply = apply_action

    def failing_on_ticket_1(session, ticket, action, **kwargs):
        if ticket.id == 1:
            raise RuntimeError("disk full")
        return real_apply(session, ticket, action, **kwargs)

    monkeypatch.setattr("jobs.store.apply_action", failing_on_ticket_1)
    with caplog.at_level(logging.ERROR, logger="jobs.runner"):
        sent = sla_messages([(chat.clock.now(), o) for o in tick(chat, MONDAY_9AM + dt.timedelta(minutes=50))])
    assert (_steps_for(1, sent), _steps_for(2, sent)) == ([], ["remind"])
    assert "sla #1 response" in caplog.text and "(tickets: #1) failed" in caplog.text
    assert actions(chat, 1).count(Action.REMIND.value) == 0  # rolled back: nothing half done
    monkeypatch.undo()
    retried = sla_messages([(chat.clock.now(), o) for o in tick(chat)])
    assert (_steps_for(1, retried), _steps_for(2, retried)) == (["remind"], [])
