"""Shift handovers, the daily ledger report and the calendar the scheduler shares with the replay."""

from __future__ import annotations

import datetime as dt

import pytest

from jobs import calendar
from jobs.handover import changes_between, handover
from jobs.reports import daily_report
from ledger.lifecycle import Action, Status
from settings import ConfigError, load_settings
from settings.models import RotaOverride
from tests.conftest import MONDAY_9AM, REPO, SHANGHAI
from tests.test_jobs_support import view

MONDAY = dt.datetime(2026, 11, 23, tzinfo=SHANGHAI)


def test_shift_changes_of_a_week_come_from_the_rota(settings) -> None:
    changes = changes_between(settings, MONDAY, MONDAY + dt.timedelta(days=7))
    assert [c.strftime("%a %H:%M") for c in changes[:4]] == ["Mon 08:30", "Mon 17:30", "Tue 08:30", "Tue 17:30"]
    assert len(changes) == 14  # 08:30 and 17:30 every day, weekends included
    trigger = calendar.handover_trigger(settings)
    assert calendar.fires_between(trigger, MONDAY, MONDAY + dt.timedelta(days=7)) == changes


def test_the_outgoing_and_incoming_cadres_get_the_open_tickets_of_their_grids(settings) -> None:
    views = [
        view(1, grid_id="g1", assignee_id="wangfang"),
        view(2, grid_id="g2", assignee_id="lijun", category="power", location="5号楼"),
        view(3, grid_id="g1", status=Status.CLOSED),
    ]
    evening = dt.datetime(2026, 11, 23, 17, 30, tzinfo=SHANGHAI)  # 王芳 (g1) and 李军 (g2) → 李军's night
    occurrence = handover(settings, views, evening)
    assert occurrence.period == "2026-11-23 17:30"
    by_cadre = {o.chat_name: o.text for o in occurrence.replies}
    assert set(by_cadre) == {"李军", "王芳"} and all(o.is_private for o in occurrence.replies)
    assert by_cadre["王芳"].splitlines()[:2] == [
        "交接班（11月23日 17:30）：您交班 第一网格（接班：李军），未办结 1 件：",
        "1 件未签收已转 李军 负责：#1",
    ]
    assert by_cadre["李军"].splitlines() == [
        "交接班（11月23日 17:30）：您接班 第一网格，未办结 1 件：",
        "接班后由您负责 1 件未签收：#1",
        "#1【给排水】3号楼 已分派，负责人 李军，办结时限 11月25日 09:00",
    ]  # closed tickets are not handed over; g2 stays with 李军: nothing to say
    [change] = occurrence.changes  # nobody accepted #1: it passes to the incoming cadre
    assert (change.ticket_id, change.action, change.changes) == (1, Action.ASSIGN, {"assignee_id": "lijun"})


def test_a_swap_changes_who_receives_the_handover(settings) -> None:
    swap = RotaOverride(date=dt.date(2026, 11, 24), cadre="wangfang", replacement="zhaomin")
    morning = dt.datetime(2026, 11, 24, 8, 30, tzinfo=SHANGHAI)
    replies = handover(settings, [view(1)], morning, [swap]).replies
    assert {o.chat_name for o in replies} == {"赵敏", "李军"}


def test_the_daily_report_counts_today_and_lists_overdue_and_tomorrows_commitments(settings) -> None:
    at = dt.datetime(2026, 11, 25, 18, 0, tzinfo=SHANGHAI)
    views = [
        view(1, created_at=at - dt.timedelta(hours=3), resolution_due_at=at + dt.timedelta(days=1)),
        view(2, resolution_due_at=at - dt.timedelta(minutes=1)),  # overdue
        view(3, status=Status.RESOLVED, resolved_at=at - dt.timedelta(hours=1)),
        view(4, commitment_date=dt.date(2026, 11, 26), resolution_due_at=at + dt.timedelta(days=2)),
    ]
    occurrence = daily_report(settings, views, at)
    [reply] = occurrence.replies
    assert (occurrence.period, reply.chat_name, reply.mention_ids) == ("2026-11-25", "幸福里社区工作群", ())
    assert reply.text.splitlines() == [
        "📒 台账日报 11月25日（周三）",
        "今日新增 1 件，办结 1 件，当前超期 1 件。",
        "超期：",
        "· #2【给排水】3号楼 负责人 王芳",
        "明天到期的承诺：",
        "· #4【给排水】3号楼 负责人 王芳",
    ]


def test_catch_up_windows_follow_the_grace_of_each_job(settings) -> None:
    trigger = calendar.digest_trigger(settings)
    tuesday = MONDAY_9AM + dt.timedelta(days=8)
    assert calendar.fires_between(trigger, tuesday - calendar.DIGEST_GRACE, tuesday) == [
        MONDAY_9AM + dt.timedelta(days=7)
    ]
    daily = calendar.daily_trigger(settings)
    assert calendar.fires_between(daily, tuesday - calendar.DAILY_GRACE, tuesday) == []  # last night's is stale


def test_a_bad_schedule_is_reported_with_its_key(tmp_path) -> None:
    config = (REPO / "config.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "config.yaml"
    bad.write_text(config.replace('digest_cron: "0 9 * * mon"', 'digest_cron: "every monday"'), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(bad)
    assert "schedule.digest_cron" in str(error.value) and "不是 cron 时间" in str(error.value)
    bad.write_text(config.replace("reminder_fraction: 0.75", "reminder_fraction: 1.5"), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(bad)
    assert "schedule.reminder_fraction" in str(error.value)
