"""The jobs ask the database for what they show (storage/job_queries.py): on a generated ledger of a few thousand
tickets (SQLite, and PostgreSQL with HUIYIN_TEST_DATABASE_URL) they compose exactly what they composed from every
ticket, the references being `storage.views.ticket_views` and `storage.tickets.ticket_facts` of the whole ledger."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from jobs import follow_up, sla
from jobs.digest import render, week_of
from jobs.handover import changes_between, handover
from jobs.reports import daily_report
from ledger.lifecycle import OPEN_STATES, RESOLVED_STATES, is_open
from settings.models import Settings
from storage import job_queries
from storage.db import make_engine, new_session
from storage.models import JobRun, Ticket
from storage.tickets import ticket_facts
from storage.views import ticket_views
from tests.board_ledger import GENERATED_NOW, replay, seed_generated

TICKETS = 2500
COMMUNITY = "main"
"""The community the generated ledger's rows belong to."""


@pytest.fixture
def ledger(settings: Settings, engine: Engine) -> Engine:
    seed_generated(settings, engine, TICKETS, days=60)
    return engine


def _session(engine: Engine) -> Session:
    return new_session(engine, COMMUNITY)


def test_the_digest_is_composed_from_the_weeks_tickets_as_from_every_ticket(settings: Settings, ledger: Engine) -> None:
    this_week = week_of(GENERATED_NOW.astimezone(settings.tz).date(), settings.tz)
    weeks = [week_of(this_week.period.start.date() - dt.timedelta(weeks=back), settings.tz) for back in range(9)]
    with _session(ledger) as session:
        every = ticket_facts(session), ticket_views(session)
        for week in weeks:
            now = min(week.period.end + dt.timedelta(hours=9), GENERATED_NOW)  # posted on Monday, or running
            where = job_queries.digest_condition(week.period, now, settings.schedule.agenda_window_days)
            facts, views = job_queries.snapshot(session, where, rated=job_queries.rated_in(week.period))
            assert len(views) < TICKETS
            assert render(settings, facts, views, week, now) == render(settings, *every, week, now), week.key


def test_the_daily_report_reads_the_open_tickets_and_the_days(settings: Settings, ledger: Engine) -> None:
    with _session(ledger) as session:
        every = ticket_views(session)
        for back in range(6):
            day = GENERATED_NOW.astimezone(settings.tz).date() - dt.timedelta(days=back)
            start = dt.datetime.combine(day, dt.time(0), tzinfo=settings.tz)
            at = min(start + dt.timedelta(hours=18), GENERATED_NOW)
            views = job_queries.views(session, job_queries.daily_condition(start, at), reporters=False)
            assert daily_report(settings, views, at) == daily_report(settings, every, at), day


def test_a_handover_reads_the_open_tickets(settings: Settings, ledger: Engine) -> None:
    with _session(ledger) as session:
        every = ticket_views(session)
        views = job_queries.views(session, job_queries.is_open, reporters=False)
        for at in changes_between(settings, GENERATED_NOW - dt.timedelta(days=3), GENERATED_NOW):
            assert handover(settings, views, at) == handover(settings, every, at), at


def test_the_checks_read_the_open_tickets_and_those_awaiting_a_rating(settings: Settings, ledger: Engine) -> None:
    with _session(ledger) as session:
        every = ticket_views(session, OPEN_STATES | RESOLVED_STATES)
        opened = job_queries.views(session, job_queries.is_open, reporters=False, deadlines=True)
        awaiting = job_queries.views(session, job_queries.awaits_rating)
    for now in (GENERATED_NOW, GENERATED_NOW + dt.timedelta(days=2)):
        assert sla.due(settings, opened, now) == sla.due(settings, every, now)
        assert follow_up.due(settings, awaiting, now) == follow_up.due(settings, every, now)
        composed = [o.period for o in sla.due(settings, every, now)]
        assert [p.period for p in sla.pending(settings, opened, now)] == composed
    assert sla.due(settings, opened, GENERATED_NOW)  # the generated backlog has overdue tickets to chase


def test_the_starts_of_deadlines_are_those_the_events_set(settings: Settings, tmp_path: Path) -> None:
    """A replayed week: a commitment (承诺), a reopening (没修好) and ratings, read as the whole ledger reads them."""
    url = f"sqlite:///{tmp_path / 'week.db'}"
    replay(settings, url)
    with new_session(make_engine(url), COMMUNITY) as session:
        every = ticket_views(session)
        assert job_queries.views(session, col(Ticket.id).is_not(None), deadlines=True) == every
        opened = job_queries.views(session, job_queries.is_open, deadlines=True)
        assert opened == [v for v in every if is_open(v.status)]
        assert any(v.committed_at for v in every) and any(v.resolution_since != v.created_at for v in every)


def test_another_communitys_session_reads_none_of_these_tickets(settings: Settings, ledger: Engine) -> None:
    with new_session(ledger, "elsewhere") as session:
        assert job_queries.views(session, job_queries.is_open) == []
        week = week_of(GENERATED_NOW.astimezone(settings.tz).date() - dt.timedelta(weeks=1), settings.tz)
        where = job_queries.digest_condition(week.period, GENERATED_NOW, settings.schedule.agenda_window_days)
        assert job_queries.snapshot(session, where, rated=job_queries.rated_in(week.period)) == ([], [])


def test_done_periods_are_looked_up_a_batch_at_a_time(settings: Settings, ledger: Engine) -> None:
    keys = [("sla", f"#{n} resolution 2026-11-20T00:00Z leader") for n in range(job_queries.BATCH * 2 + 5)]
    with _session(ledger) as session:
        assert job_queries.done_periods(session, keys) == set()
        for job, period in (keys[3], keys[job_queries.BATCH + 7], ("follow_up", keys[9][1])):
            session.add(JobRun(job=job, period=period, due_at=GENERATED_NOW, ran_at=GENERATED_NOW))
        session.flush()
        assert job_queries.done_periods(session, keys) == {keys[3], keys[job_queries.BATCH + 7]}
