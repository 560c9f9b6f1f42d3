"""What is due at an instant, and carrying it out: the one place both APScheduler and the replay call.

`run(now)` carries out every occurrence due at `now`, each in its own transaction (its events, outbox rows
and job run together). Ticket jobs (sla, follow_up), triage timeouts and the question to a notice's author
when its expected end passes (incident) are state-based: whatever came due since the last check is found at
the next one. Calendar jobs (handover, daily, digest) take their latest fire
time at or before `now` that is still within its grace (see `jobs.calendar`); the job-run key makes each
happen once.

Each job reads what it may show, not the whole ledger (storage/job_queries.py): a check the open tickets, or
those awaiting a rating, and it composes the messages of the steps not carried out before only (`Pending`); a
calendar job reads nothing unless it fires, and then its day's, shift's or week's tickets.

One bad row never stops a whole job: a ticket whose data makes a job fail is logged with its number and
left out of that job (the others go ahead), and an occurrence that fails to be carried out is logged,
rolled back and tried again at the next run, while the other occurrences are carried out.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from jobs import calendar, follow_up, incidents, sla, triage
from jobs.digest import JOB as JOB_DIGEST
from jobs.digest import Week, digest, parse_week, render, week_before
from jobs.digest import period_of as digest_period
from jobs.handover import changes_between, handover
from jobs.handover import period_of as handover_period
from jobs.model import Occurrence, Pending
from jobs.reports import daily_report
from jobs.reports import period_of as daily_period
from jobs.store import carry_out, done_periods, job_run
from ledger.clock import ManualClock
from ledger.rates import TicketFacts
from ledger.views import TicketView
from settings.models import Settings
from storage import job_queries
from storage.db import new_session
from storage.directory import swaps
from storage.incidents import incidents_started_in, unended_incidents
from storage.triage import pending_items

log = logging.getLogger(__name__)

JOBS = ("sla", "follow_up", "triage", "incident", "handover", "daily", "digest")
T = TypeVar("T")


@dataclass
class JobRunner:
    settings: Settings
    engine: Engine
    _sla: sla.Planner = field(init=False, repr=False)
    _open: job_queries.OpenViews = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._sla = sla.Planner(self.settings)
        self._open = job_queries.OpenViews()

    def run(self, now: dt.datetime, jobs: Iterable[str] = JOBS, *, since: dt.datetime | None = None) -> int:
        """Carry out every occurrence of `jobs` due at `now`; return how many were new.

        `since` (the replay's start) leaves out calendar fire times at or before it: a replay starting on a
        Monday afternoon does not post that morning's digest."""
        return sum(self._carry_out(o, now) for o in self.occurrences(now, jobs, since=since))

    def occurrences(
        self, now: dt.datetime, jobs: Iterable[str] = JOBS, *, since: dt.datetime | None = None
    ) -> list[Occurrence]:
        """The occurrences of `jobs` due at `now` and not carried out before: what `run` carries out."""
        with new_session(self.engine, self.settings.community.id) as session:
            found = [o for job in jobs for o in self.due(session, job, now, since)]
            done_before = done_periods(session, found)
        return [o for o in found if (o.job, o.period) not in done_before]

    def _carry_out(self, occurrence: Occurrence, now: dt.datetime) -> bool:
        """Carry `occurrence` out in a transaction of its own; False when it was done before or failed."""
        try:
            with new_session(self.engine, self.settings.community.id) as session:
                if occurrence.job == incidents.JOB:
                    occurrence = incidents.still_due(session, occurrence)
                done = carry_out(session, occurrence, now=now)
                if done and occurrence.job == incidents.JOB:
                    incidents.record(session, occurrence, self.settings, now)
                session.commit()
        except IntegrityError:  # another process carried out the same occurrence first
            log.warning("%s %s was carried out concurrently; left to the other run", occurrence.job, occurrence.period)
            self._in_ledger(occurrence)
            return False
        except Exception:
            tickets = ", ".join(f"#{change.ticket_id}" for change in occurrence.changes) or "none"
            log.exception(
                "%s %s (tickets: %s) failed; rolled back and tried again at the next run, the others go ahead",
                occurrence.job, occurrence.period, tickets,
            )  # fmt: skip
            return False
        self._in_ledger(occurrence)
        return done

    def _in_ledger(self, occurrence: Occurrence) -> None:
        """`occurrence` is now in `job_run` (carried out here, before or by another process): an SLA step is not
        looked up again next minute. After a catch-up of 9,761 steps, that lookup was a fifth of the next minute's
        check."""
        if occurrence.job == sla.JOB:
            self._sla.carried_out((occurrence.period,))

    def _triage_due(self, session: Session, now: dt.datetime) -> list[Occurrence]:
        """The triage timeouts due at `now`, item by item: one whose data makes the job fail is logged and left out."""
        overrides = swaps(session, since=(now - dt.timedelta(days=1)).date())
        occurrences = []
        for item in pending_items(session):
            try:
                occurrences += triage.due(self.settings, [item], now, overrides)
            except Exception:
                log.exception("job triage fails on P%s; left out of the job until its data is fixed", item.id)
        return occurrences

    def _incidents_due(self, session: Session, now: dt.datetime) -> list[Occurrence]:
        """The questions to notices' authors due at `now`; an incident whose data makes the job fail is left out."""
        occurrences = []
        for incident in incidents.pending(session, now):
            try:
                occurrences += incidents.due(self.settings, [incident], now)
            except Exception:
                log.exception("job incident fails on 通知%s; left out until its data is fixed", incident.number)
        return occurrences

    def due(self, session: Session, job: str, now: dt.datetime, since: dt.datetime | None = None) -> list[Occurrence]:
        """The occurrences of `job` due at `now`, from what the job reads of the ledger (storage/job_queries.py).

        The per-minute checks compose only the steps not carried out before; a calendar job reads the ledger
        only when it fires. Tickets (triage items, incidents) whose data makes the job fail are left out."""
        settings = self.settings

        def window(grace: dt.timedelta) -> dt.datetime:
            return now - grace if since is None else max(now - grace, since)

        if job == triage.JOB:
            return self._triage_due(session, now)
        if job == incidents.JOB:
            return self._incidents_due(session, now)
        if job == sla.JOB:
            views = self._open.read(session)
            return _leaving_out_failing(job, views, lambda some: self._sla_not_done(session, some, now), [])
        if job == follow_up.JOB:
            views = _check_views(session, job)
            return _leaving_out_failing(
                job, views, lambda some: _not_done(session, follow_up.pending(settings, some, now)), []
            )
        if job == "handover":
            changes = changes_between(settings, window(calendar.handover_grace(settings)), now)
            changes = [at for at in changes if not _ran(session, job, at, settings)]
            if not changes:
                return []
            overrides = swaps(session, since=(now - dt.timedelta(days=2)).date())
            views = job_queries.views(session, job_queries.is_open, reporters=False)
            return _leaving_out_failing(
                job, views, lambda some: [handover(settings, some, at, overrides) for at in changes], []
            )
        if job == "daily":
            fires = calendar.fires_between(calendar.daily_trigger(settings), window(calendar.DAILY_GRACE), now)
            if not fires or _ran(session, job, fires[-1], settings):
                return []
            at = fires[-1]
            start = dt.datetime.combine(at.astimezone(settings.tz).date(), dt.time(0), tzinfo=settings.tz)
            views = job_queries.views(session, job_queries.daily_condition(start, at), reporters=False)
            unended = _unended(session)
            return _leaving_out_failing(job, views, lambda some: [daily_report(settings, some, at, unended)], [])
        if job == "digest":
            fires = calendar.fires_between(calendar.digest_trigger(settings), window(calendar.DIGEST_GRACE), now)
            if not fires or _ran(session, job, fires[-1], settings):
                return []
            at = fires[-1]
            week = week_before(at, settings.tz)
            facts, views = _week(session, settings, week, at)
            announced = _incidents_in(session, week)
            return _leaving_out_failing(job, views, lambda some: [digest(settings, facts, some, at, announced)], [])
        raise ValueError(f"unknown job {job!r}")

    def _sla_not_done(self, session: Session, views: list[TicketView], now: dt.datetime) -> list[Occurrence]:
        """The SLA steps of `views` due at `now` and not carried out before, composed; the planner remembers those
        found carried out, so that the next minute does not look them up again."""
        pending = self._sla.pending(views, now)
        done = done_periods(session, pending)
        self._sla.carried_out(period for _, period in done)
        return [p.compose() for p in pending if (p.job, p.period) not in done]

    def digest_text(self, now: dt.datetime, week_key: str | None = None) -> str:
        """The digest of `week_key` (default: the last complete week) exactly as posted, or as it would be
        posted now if it has not been. ValueError for a malformed week."""
        week = parse_week(week_key, self.settings.tz) if week_key else week_before(now, self.settings.tz)
        with new_session(self.engine, self.settings.community.id) as session:
            posted = job_run(session, JOB_DIGEST, week.key)
            if posted is not None and posted.output is not None:
                return posted.output
            facts, views = _week(session, self.settings, week, now)
            return render(self.settings, facts, views, week, now, _incidents_in(session, week))

    def next_at(self, after: dt.datetime) -> dt.datetime | None:
        """The first instant strictly after `after` at which some job comes due."""
        settings = self.settings
        with new_session(self.engine, self.settings.community.id) as session:
            open_views = _check_views(session, sla.JOB)
            resolved_views = _check_views(session, follow_up.JOB)
            held = pending_items(session)
            asking = incidents.pending(session)
        shift_changes = changes_between(settings, after, after + dt.timedelta(days=8))
        candidates = [
            _leaving_out_failing("sla", open_views, lambda vs: sla.next_at(settings, vs, after), None),
            _leaving_out_failing("follow_up", resolved_views, lambda vs: follow_up.next_at(settings, vs, after), None),
            triage.next_at(held, after),
            incidents.next_at(asking, after),
            shift_changes[0] if shift_changes else None,
            calendar.next_fire(calendar.daily_trigger(settings), after),
            calendar.next_fire(calendar.digest_trigger(settings), after),
        ]
        return min((c for c in candidates if c is not None), default=None)

    def run_until(
        self, clock: ManualClock, since: dt.datetime, target: dt.datetime, after_each: Callable[[], object]
    ) -> None:
        """Move `clock` from `since` to `target`, stopping at every instant a job comes due, in time order,
        and calling `after_each` (e.g. drain the outbox) after each stop that carried something out."""
        start = since
        while (at := self.next_at(since)) is not None and at <= target:
            if at > clock.now():
                clock.set(at)
            if self.run(clock.now(), since=start):
                after_each()
            since = at
        if target > clock.now():
            clock.set(target)


def _check_views(session: Session, job: str) -> list[TicketView]:
    """What a per-minute check reads: the open tickets with their deadlines' starts (sla), or the resolved ones
    awaiting a rating with their reporters (follow-up)."""
    if job == sla.JOB:
        return job_queries.views(session, job_queries.is_open, reporters=False, deadlines=True)
    return job_queries.views(session, job_queries.awaits_rating)


def _not_done(session: Session, pending: list[Pending]) -> list[Occurrence]:
    """The occurrences of `pending` not carried out before, composed."""
    done = done_periods(session, pending)
    return [p.compose() for p in pending if (p.job, p.period) not in done]


def _week(
    session: Session, settings: Settings, week: Week, now: dt.datetime
) -> tuple[list[TicketFacts], list[TicketView]]:
    """The tickets the digest of `week` composed at `now` may show, as facts and as views."""
    where = job_queries.digest_condition(week.period, now, settings.schedule.agenda_window_days)
    return job_queries.snapshot(session, where, rated=job_queries.rated_in(week.period))


def _unended(session: Session) -> list[incidents.IncidentFacts]:
    return incidents.facts_of(session, unended_incidents(session))


def _incidents_in(session: Session, week: Week) -> list[incidents.IncidentFacts]:
    """The incidents announced in `week`, with their reporters (the digest's line)."""
    return incidents.facts_of(session, incidents_started_in(session, week.period.start, week.period.end))


def _ran(session: Session, job: str, at: dt.datetime, settings: Settings) -> bool:
    """Whether the calendar occurrence of `job` firing at `at` was carried out (checked before composing it)."""
    period_of = {"handover": handover_period, "daily": daily_period, "digest": digest_period}[job]
    return job_run(session, job, period_of(settings, at)) is not None


def _leaving_out_failing(job: str, views: list[TicketView], compute: Callable[[list[TicketView]], T], failed: T) -> T:
    """`compute(views)`; if it raises, the tickets on which it raises alone are logged with their numbers and
    left out, and it is computed again on the others. `failed` when it raises even so (logged)."""
    try:
        return compute(views)
    except Exception:
        pass
    healthy = []
    for view in views:
        try:
            compute([view])
        except Exception:
            log.exception("job %s fails on ticket #%s; left out of the job until its data is fixed", job, view.number)
        else:
            healthy.append(view)
    try:
        return compute(healthy)
    except Exception:
        log.exception("job %s failed (not on one ticket's data); skipped until the next run", job)
        return failed
