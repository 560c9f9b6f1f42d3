"""The SLA planner kept between the per-minute checks gives what a fresh computation gives, minute after minute,
while tickets change; it leaves out the steps it was told were carried out, and only while they are the latest."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from jobs import runner as job_runner
from jobs import sla
from jobs.runner import JobRunner
from ledger.lifecycle import Status
from ledger.views import TicketView
from settings.models import Settings
from tests.chat import Chat
from tests.conftest import MONDAY_9AM
from tests.test_jobs_sla import sla_messages
from tests.test_jobs_support import check_every, view

MINUTE = dt.timedelta(minutes=1)


def ledger_at(minute: int) -> list[TicketView]:
    """Three tickets as they stand `minute` minutes after Monday 09:00, each changing as a ledger's tickets do."""
    at = MONDAY_9AM + minute * MINUTE
    first = view(1)
    if minute >= 50:  # answered in the group
        first = dataclasses.replace(first, first_response_at=MONDAY_9AM + 50 * MINUTE)
    if minute >= 300:  # handed over to another cadre after its reminder
        first = dataclasses.replace(first, assignee_id="lijun", grid_id="g2")
    second = view(2, created_at=MONDAY_9AM + 10 * MINUTE, response_due_at=MONDAY_9AM + 70 * MINUTE)
    if minute >= 120:  # promised for Tuesday (承诺), then dispatched to the property company
        second = dataclasses.replace(
            second, first_response_at=MONDAY_9AM + 120 * MINUTE, commitment_date=dt.date(2026, 11, 24),
            committed_at=MONDAY_9AM + 120 * MINUTE,
        )  # fmt: skip
    if minute >= 200:
        second = dataclasses.replace(
            second, unit_id="wuye", dispatched_at=MONDAY_9AM + 200 * MINUTE,
            unit_response_due_at=MONDAY_9AM + 260 * MINUTE, unit_resolution_due_at=MONDAY_9AM + 1640 * MINUTE,
        )  # fmt: skip
    third = view(3, grid_id="g2", assignee_id="lijun")
    if minute >= 400:  # resolved, then reopened with a new resolution deadline
        third = dataclasses.replace(third, status=Status.RESOLVED, resolved_at=MONDAY_9AM + 400 * MINUTE)
    if minute >= 500:
        third = dataclasses.replace(
            third, status=Status.REOPENED, resolved_at=None, resolution_since=MONDAY_9AM + 500 * MINUTE,
            resolution_due_at=MONDAY_9AM + 500 * MINUTE + dt.timedelta(hours=48),
        )  # fmt: skip
    return [v for v in (first, second, third) if v.created_at <= at]


def composed(pending: list) -> list[tuple[str, dt.datetime, object]]:
    return [(p.period, p.due_at, p.compose()) for p in pending]


def test_a_kept_planner_gives_what_a_fresh_one_gives_as_tickets_change(settings: Settings) -> None:
    planner = sla.Planner(settings)
    seen = set()
    for minute in range(0, 60 * 40, 7):
        now = MONDAY_9AM + minute * MINUTE
        views = ledger_at(minute)
        found = composed(planner.pending(views, now))
        assert found == composed(sla.pending(settings, views, now)), minute
        assert [o for _, _, o in found] == sla.due(settings, views, now), minute
        seen.update(period for period, _, _ in found)
    kinds = {period.split()[1] for period in seen}
    assert {"response", "resolution", "commitment", "unit_response", "unit_resolution"} <= kinds
    assert any(period.endswith(" lijun") and period.startswith("#1 ") for period in seen)  # the new assignee's


def test_steps_told_carried_out_are_left_out_while_they_are_the_latest(settings: Settings) -> None:
    planner = sla.Planner(settings)
    reminder_time = MONDAY_9AM + 45 * MINUTE
    [reminder] = planner.pending([view(1)], reminder_time)
    assert reminder.period.endswith("remind wangfang")
    planner.carried_out([reminder.period])
    assert planner.pending([view(1)], reminder_time + MINUTE) == []
    [leader] = planner.pending([view(1)], MONDAY_9AM + 60 * MINUTE)  # the next step of the same deadline
    assert leader.period.endswith("response 2026-11-23T02:00Z leader")
    handed_over = view(1, assignee_id="lijun")  # a new assignee is reminded afresh, as a fresh planner would
    assert [p.period for p in planner.pending([handed_over], reminder_time + MINUTE)] == [
        p.period for p in sla.pending(settings, [handed_over], reminder_time + MINUTE)
    ]
    # Forgotten once it is no longer the latest step come due: a clock moved back looks it up again.
    assert [p.period for p in planner.pending([view(1)], reminder_time)] == [reminder.period]


@pytest.fixture
def looked_up(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many periods each check asked the database about."""
    sizes: list[int] = []

    def counting(session, keys):
        keys = list(keys)
        sizes.append(len(keys))
        return real(session, keys)

    real = job_runner.done_periods
    monkeypatch.setattr(job_runner, "done_periods", counting)
    return sizes


def test_a_kept_runner_sends_each_step_once_and_looks_each_up_once(chat: Chat, looked_up: list[int]) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    runner = JobRunner(chat.app.settings, chat.app.engine)
    sent = []
    while chat.clock.now() < MONDAY_9AM + dt.timedelta(hours=3):
        chat.clock.advance(MINUTE)
        before = len(chat.transport.sent)
        runner.run(chat.clock.now(), (sla.JOB,))
        chat.sender.drain()
        sent += [(chat.clock.now(), o) for o in chat.transport.sent[before:]]
    # Each of the 3 steps is looked up in the minute it comes due (by the check, and by `run` before carrying it
    # out); carried out, it is remembered, and not looked up in any minute after that (135 after the first).
    assert sum(looked_up) == 3 * 2
    kept = sla_messages(sent)
    assert [o.chat_name for _, o in kept] == ["王芳", "幸福里社区工作群", "幸福里社区工作群"]
    created = chat.clock.now() - dt.timedelta(hours=3)  # the report came at the start of the loop
    assert [at - created for at, _ in kept] == [dt.timedelta(minutes=m) for m in (45, 60, 120)]


def test_a_fresh_runner_finds_the_steps_a_kept_one_carried_out(chat: Chat) -> None:
    chat.say("张阿姨", "3号楼2单元下水道堵了")
    kept = JobRunner(chat.app.settings, chat.app.engine)
    chat.clock.set(MONDAY_9AM + 46 * MINUTE)
    assert kept.run(chat.clock.now(), (sla.JOB,)) == 1
    chat.sender.drain()
    assert JobRunner(chat.app.settings, chat.app.engine).run(chat.clock.now(), (sla.JOB,)) == 0  # a new leader
    assert sla_messages(check_every(chat, MONDAY_9AM + 59 * MINUTE)) == []
    assert len(sla_messages([(chat.clock.now(), o) for o in chat.transport.sent])) == 1
