"""APScheduler wiring: jobs persist in the ledger's database; after downtime a missed digest is posted once,
overdue escalations fire once, and a second restart sends nothing again.

APScheduler reads the system time, so these tests move it with time-machine (never sleep), and run the
scheduler's own job processing (`BaseScheduler._process_jobs`: misfire grace, coalescing) in the test's
thread with APScheduler's DebugExecutor instead of its background thread.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections import Counter

import pytest
import time_machine
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import inspect, text
from sqlmodel import col, select

from bot.app import Huiyin
from jobs.runner import JobRunner
from jobs.scheduler import new_scheduler, start_jobs
from ledger.clock import SystemClock
from storage.db import make_engine
from storage.models import JobRun, OutboxMessage
from tests.chat import Chat
from tests.conftest import MONDAY_9AM, REPO, SHANGHAI

DOWN_UNTIL = dt.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)  # Tuesday: Monday's digest and report were missed


class SteppedScheduler(BaseScheduler):
    """APScheduler's scheduler, stepped by the test instead of a background thread."""

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        """Nothing to wake: the test calls `step`."""

    def step(self) -> None:
        self._process_jobs()


class Restart:
    """One start of the bot's scheduler on the shared database, recording what APScheduler did."""

    def __init__(self, app: Huiyin) -> None:
        self.events: Counter[tuple[str, int]] = Counter()
        self.scheduler = new_scheduler(app.settings, app.engine, SteppedScheduler, executor=DebugExecutor())
        self.scheduler.add_listener(self._record, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
        start_jobs(self.scheduler, app.settings, JobRunner(app.settings, app.engine), SystemClock(app.settings.tz))

    def _record(self, event: JobExecutionEvent) -> None:
        self.events[(event.job_id, event.code)] += 1

    def executed(self, job: str) -> int:
        return self.events[(job, EVENT_JOB_EXECUTED)]

    def missed(self, job: str) -> int:
        return self.events[(job, EVENT_JOB_MISSED)]

    def step(self) -> None:
        self.scheduler.step()

    def stop(self) -> None:
        self.scheduler.shutdown(wait=False)


def outbox(app: Huiyin, word: str) -> list[OutboxMessage]:
    with Chat(app).session() as session:
        return [r for r in session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))) if word in r.text]


def job_runs(app: Huiyin, job: str) -> list[str]:
    with Chat(app).session() as session:
        return [r.period for r in session.exec(select(JobRun).where(JobRun.job == job))]


@pytest.fixture
def traveller():
    """System time at Monday 09:01, a minute after the default digest time."""
    with time_machine.travel(MONDAY_9AM + dt.timedelta(minutes=1), tick=False) as traveller:
        yield traveller


def test_a_fresh_start_posts_nothing_that_was_due_before_it(app: Huiyin, traveller) -> None:
    start = Restart(app)
    start.step()
    assert sum(start.events.values()) == 0  # this morning's digest was due before the jobs existed
    assert outbox(app, "回音周报") == []
    assert start.scheduler.get_job("digest").next_run_time == MONDAY_9AM + dt.timedelta(days=7)
    start.stop()


def test_after_downtime_the_digest_is_posted_once_and_overdue_escalations_fire_once(app: Huiyin, traveller) -> None:
    chat = Chat(app)
    first = Restart(app)
    chat.say("张阿姨", "3号楼2单元下水道堵了")  # 09:00:01 by the app's clock; the ticket nobody answers
    traveller.move_to(MONDAY_9AM + dt.timedelta(minutes=46))
    first.step()
    assert first.executed("sla") == 1 and len(outbox(app, "⏰ 提醒")) == 1  # the 75% reminder, on time
    first.stop()

    traveller.move_to(DOWN_UNTIL)  # eight days down: ~11,000 sla checks, a digest, reports and handovers missed
    second = Restart(app)
    second.step()
    assert second.executed("sla") == 1  # coalesced: once, not once per missed minute
    assert second.executed("digest") == 1  # 25 h late, within its week of grace
    assert second.missed("daily") == 1 and second.executed("daily") == 0  # 16 h late: stale, skipped
    assert second.missed("handover") == 1 and second.executed("handover") == 0
    digests = outbox(app, "回音周报")
    # 4-6号楼 (g2) had nothing that week: its group hears nothing; the cadres' group hears the whole community
    assert {d.chat_name for d in digests} == {"1-3号楼业主群", "幸福里社区居民群", "幸福里社区工作群"}
    assert len(digests) == 3
    assert all("11月23日—11月29日" in d.text for d in digests)
    assert job_runs(app, "digest") == ["2026-W48"]
    escalations = outbox(app, "⚠️")
    # The response limit is far behind: only its last step (the secretary); the resolution limit (due Wed
    # 09:00, secretary at Fri 09:00) likewise.
    assert len(escalations) == 2 and all("已升级至书记 陈洁" in e.text for e in escalations)
    sent_before = len(outbox(app, ""))
    second.stop()

    traveller.move_to(DOWN_UNTIL + dt.timedelta(minutes=2))
    third = Restart(app)
    third.step()
    assert third.executed("sla") == 1 and third.executed("digest") == 0
    assert len(outbox(app, "")) == sent_before  # nothing sent twice after a second restart
    third.stop()


def test_a_double_fired_job_sends_nothing_the_second_time(app: Huiyin, traveller) -> None:
    runner = JobRunner(app.settings, app.engine)
    traveller.move_to(MONDAY_9AM + dt.timedelta(days=7))
    now = SystemClock(SHANGHAI).now()
    assert runner.run(now, ("digest",)) == 1
    assert runner.run(now, ("digest",)) == 0  # e.g. two processes, or a run replayed after a crash
    assert runner.run(now + dt.timedelta(hours=1), ("digest",)) == 0
    assert len(outbox(app, "回音周报")) == 1  # a quiet week: one line to the cadres, nothing to residents


def test_a_changed_cron_reschedules_the_stored_job(app: Huiyin, traveller) -> None:
    first = Restart(app)
    assert first.scheduler.get_job("digest").next_run_time == MONDAY_9AM + dt.timedelta(days=7)
    first.stop()
    app.settings = app.settings.model_copy(
        update={"schedule": app.settings.schedule.model_copy(update={"digest_cron": "30 8 * * sun"})}
    )
    second = Restart(app)
    assert second.scheduler.get_job("digest").next_run_time == dt.datetime(2026, 11, 29, 8, 30, tzinfo=SHANGHAI)
    second.stop()


def test_two_runners_racing_for_the_same_occurrence_post_it_once(app: Huiyin, monkeypatch) -> None:
    now = MONDAY_9AM + dt.timedelta(days=7)
    assert JobRunner(app.settings, app.engine).run(now, ("digest",)) == 1  # the other process won
    # This one looked before the other committed: every "was it done?" check came back empty.
    monkeypatch.setattr("jobs.runner.job_run", lambda session, job, period: None)
    monkeypatch.setattr("jobs.runner.done_periods", lambda session, occurrences: set())
    monkeypatch.setattr("jobs.store.job_run", lambda session, job, period: None)
    assert JobRunner(app.settings, app.engine).run(now, ("digest",)) == 0  # the unique key refused it
    assert len(outbox(app, "回音周报")) == 1 and job_runs(app, "digest") == ["2026-W48"]


def test_huiyin_run_keeps_its_jobs_in_the_ledger_database(tmp_path) -> None:
    database = f"sqlite:///{tmp_path / 'huiyin.db'}"
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "--config", str(REPO / "config.yaml"), "run"],
        input="/退出\n", capture_output=True, text=True, timeout=60, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "DATABASE_URL": database},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    engine = make_engine(database)
    assert "apscheduler_jobs" in inspect(engine).get_table_names()
    with engine.connect() as connection:
        ids = {row[0] for row in connection.execute(text("SELECT id FROM apscheduler_jobs"))}
    assert ids == {"sla", "follow_up", "triage", "incident", "handover", "daily", "digest"}
