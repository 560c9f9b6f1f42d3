"""What the scheduled jobs read: each asks the database for the tickets it may show, never the whole ledger.

The per-minute checks read the open tickets (sla) or those awaiting a rating (follow-up); the daily report the
open ones and those reported or resolved that day; the handover the open ones; the weekly digest the tickets that
may count in the week's figures, lists and agenda (`digest_condition`). Each is a superset of what the job's pure
functions (jobs/, `ledger.rates`, `ledger.agenda`) pick from, so they compose exactly what they would from every
ticket: tests/test_job_queries.py checks it against the whole ledger. The reporters and events of those tickets
are read through a subquery of the same condition (no list of ids is bound), and which occurrences were carried
out before through one array of periods (PostgreSQL) or lists of `BATCH` of them.

A session made for a community (`storage.db.new_session`) gives each of these its community's rows only.
"""

from __future__ import annotations

import datetime as dt
from collections import namedtuple
from collections.abc import Collection, Iterable
from dataclasses import fields
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    or_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, col, select

from ledger.lifecycle import Action, Status
from ledger.rates import Period, TicketFacts, judged_at
from ledger.views import TicketView
from storage.board_queries import BATCH, OPEN, aware, may_count, naive_columns
from storage.models import JobRun, Ticket, TicketEvent, TicketReporter

_DEADLINE_ACTIONS = (Action.CREATE.value, Action.REOPEN.value, Action.COMMIT.value)

_NOT_COLUMNS = frozenset({"number", "resolution_since", "committed_at", "reporters"})
"""`TicketView`'s fields that are no column of the ticket: its number is `id`, the rest come from its events and
reporters."""

_FIELDS = ("id", *(field.name for field in fields(TicketView) if field.name not in _NOT_COLUMNS))
_Row = namedtuple("_Row", _FIELDS)
"""The columns the views and facts are made of (rows, not ORM objects: a third of the time to load)."""
_COLUMNS, _INSTANTS = naive_columns(_FIELDS)

is_open = col(Ticket.status).in_(OPEN)
awaits_rating = and_(Ticket.status == Status.RESOLVED.value, col(Ticket.rating).is_(None))
"""`jobs.follow_up`'s tickets: resolved and not rated."""


def between(column: Any, start: dt.datetime, end: dt.datetime) -> ColumnElement[bool]:
    """`column` in [start, end)."""
    return and_(column >= start, column < end)


def daily_condition(start: dt.datetime, at: dt.datetime) -> ColumnElement[bool]:
    """`jobs.reports.daily_report`'s tickets at `at` for the day from `start`: open now (the overdue, the commitments
    and the partner units' overdue are among them), or reported or resolved in [start, at)."""
    return or_(is_open, between(col(Ticket.created_at), start, at), between(col(Ticket.resolved_at), start, at))


def digest_condition(period: Period, now: dt.datetime, agenda_window_days: int) -> ColumnElement[bool]:
    """The tickets that may show in the digest of `period` composed at `now`: open now (still open, flagged), reported
    in the period or the agenda's window before its end, resolved in the period, or counting in its rates
    (`storage.board_queries.may_count`); those rated in the period are added by `snapshot`'s `rated_in`."""
    since = min(period.start, judged_at(period, now) - dt.timedelta(days=agenda_window_days))
    return or_(
        is_open,
        between(col(Ticket.created_at), since, period.end),
        between(col(Ticket.resolved_at), period.start, period.end),
        may_count(period, now),
    )


def rated_in(period: Period) -> ColumnElement[bool]:
    """Tickets given a rating in `period` (the 满意率 counts every rating given in it)."""
    rated = select(TicketEvent.ticket_id).where(
        TicketEvent.action == Action.RATE.value, between(col(TicketEvent.at), period.start, period.end)
    )
    return col(Ticket.id).in_(rated.scalar_subquery())


def views(
    session: Session, where: ColumnElement[bool], *, reporters: bool = True, deadlines: bool = False
) -> list[TicketView]:
    """The tickets matching `where` as the jobs read them, by number: with their active reporters (`reporters`)
    and the start of their current deadlines (`deadlines`: only the SLA watch reads them)."""
    rows = _rows(session, where)
    if not rows:
        return []
    found_reporters = _reporters(session, where) if reporters else {}
    since, committed = _deadline_starts(session, where) if deadlines else ({}, {})
    return [_view(row, found_reporters.get(row.id, ()), since.get(row.id), committed.get(row.id)) for row in rows]


class OpenViews:
    """The open tickets as the SLA check reads them (`views(session, is_open, reporters=False, deadlines=True)`),
    kept between its runs: each minute asks PostgreSQL for the open tickets' numbers and row versions only, and
    reads whole (row and deadline starts) just those new or changed since the last run.

    A row's version is PostgreSQL's `xmin`, the transaction that wrote it: every action on a ticket writes its row
    (`storage.tickets`: a change sets `updated_at` and is written even when no value differs, a join or a note
    touches it at commit), and every write gives the row a new `xmin`, even two changes at the same instant of a
    test's clock; the events that start deadlines (a report, a reopening, a 承诺) are such actions. A version read
    before a change and a row read after it only make the row be read again the next minute. SQLite has no row
    version; there every run reads every open ticket whole, as a single-process ledger of one community can
    afford."""

    def __init__(self) -> None:
        self._kept: dict[int, tuple[str, TicketView]] = {}

    def read(self, session: Session) -> list[TicketView]:
        """The open tickets' views, by number."""
        if session.get_bind().dialect.name != "postgresql":
            return views(session, is_open, reporters=False, deadlines=True)
        versions = session.exec(select(Ticket.id, _ROW_VERSION).where(is_open).order_by(col(Ticket.id))).all()
        kept, self._kept = self._kept, {}
        stale = [number for number, version in versions if kept.get(number, ("",))[0] != version]
        fresh = {}
        if stale:
            changed = and_(is_open, col(Ticket.id) == any_(bindparam("stale", stale, type_=ARRAY(Integer))))
            fresh = {view.number: view for view in views(session, changed, reporters=False, deadlines=True)}
        for number, version in versions:
            if number in fresh:
                self._kept[number] = (version, fresh[number])
            elif number in kept and kept[number][0] == version:
                self._kept[number] = kept[number]
        return [view for _, view in self._kept.values()]


_ROW_VERSION = cast(literal_column(f"{Ticket.__tablename__}.xmin"), Text)
"""PostgreSQL's version of a ticket's row (`OpenViews`)."""


def snapshot(
    session: Session, where: ColumnElement[bool], *, rated: ColumnElement[bool] | None = None
) -> tuple[list[TicketFacts], list[TicketView]]:
    """The tickets matching `where` (or `rated`) as the rates read them, with every rating they were given, and as
    the jobs read them, with their active reporters: what the digest composes from."""
    if rated is not None:
        where = or_(where, rated)
    rows = _rows(session, where)
    found_reporters = _reporters(session, where)
    ratings: dict[int, list[tuple[dt.datetime, str]]] = {}
    query = select(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.changes).where(
        TicketEvent.action == Action.RATE.value, col(TicketEvent.ticket_id).in_(_ids(where))
    )
    for ticket_id, at, changes in session.exec(query):
        ratings.setdefault(ticket_id, []).append((at, changes["rating"]))
    facts = [_facts(row, tuple(sorted(ratings.get(row.id, ())))) for row in rows]
    return facts, [_view(row, found_reporters.get(row.id, ()), None, None) for row in rows]


def done_periods(session: Session, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (job, period) of `keys` were carried out before, looked up on the job run's unique key: on PostgreSQL
    all of a job's periods as one array parameter (a list of ten thousand binds costs more to build than to look
    up), elsewhere `BATCH` of them at a time."""
    by_job: dict[str, set[str]] = {}
    for job, period in keys:
        by_job.setdefault(job, set()).add(period)
    postgresql = session.get_bind().dialect.name == "postgresql"
    done: set[tuple[str, str]] = set()
    for job, periods in by_job.items():
        ordered = sorted(periods)
        if postgresql:
            lookups = [col(JobRun.period) == any_(bindparam("periods", ordered, type_=ARRAY(String)))]
        else:
            lookups = [col(JobRun.period).in_(ordered[i : i + BATCH]) for i in range(0, len(ordered), BATCH)]
        for where in lookups:
            done.update((job, period) for period in session.exec(select(JobRun.period).where(JobRun.job == job, where)))
    return done


def _ids(where: ColumnElement[bool]) -> Any:
    return select(Ticket.id).where(where).scalar_subquery()


def _rows(session: Session, where: ColumnElement[bool]) -> list[_Row]:
    """The `_FIELDS` of the tickets matching `where`, by number, instants aware (UTC) as `UTCDateTime` gives them."""
    query = select(*_COLUMNS).where(where).order_by(col(Ticket.id))
    return [_Row._make(aware(row, _INSTANTS)) for row in session.exec(query)]


def _reporters(session: Session, where: ColumnElement[bool]) -> dict[int, tuple[tuple[str, str], ...]]:
    found: dict[int, list[tuple[str, str]]] = {}
    query = (
        select(TicketReporter.ticket_id, TicketReporter.member_id, TicketReporter.member_name)
        .where(col(TicketReporter.ticket_id).in_(_ids(where)), TicketReporter.active)
        .order_by(col(TicketReporter.id))
    )
    for ticket_id, member_id, name in session.exec(query):
        found.setdefault(ticket_id, []).append((member_id, name))
    return {ticket_id: tuple(names) for ticket_id, names in found.items()}


def _deadline_starts(
    session: Session, where: ColumnElement[bool]
) -> tuple[dict[int, dt.datetime], dict[int, dt.datetime]]:
    """When each ticket's current resolution deadline and commitment were set: its latest event that set them (whose
    changes name them: asked of the database, rather than reading every event's changes)."""
    since: dict[int, dt.datetime] = {}
    committed: dict[int, dt.datetime] = {}
    postgresql = session.get_bind().dialect.name == "postgresql"
    changes = col(TicketEvent.changes)
    query = (
        select(
            TicketEvent.ticket_id, TicketEvent.at, _names(changes, "resolution_due_at", postgresql=postgresql),
            _names(changes, "commitment_date", postgresql=postgresql),
        )
        .where(col(TicketEvent.ticket_id).in_(_ids(where)), col(TicketEvent.action).in_(_DEADLINE_ACTIONS))
        .order_by(col(TicketEvent.id))
    )  # fmt: skip
    for ticket_id, at, sets_resolution, sets_commitment in session.exec(query):
        if sets_resolution:
            since[ticket_id] = at
        if sets_commitment:
            committed[ticket_id] = at
    return since, committed


def _names(changes: Any, key: str, *, postgresql: bool) -> ColumnElement[bool]:
    """Whether the JSON object `changes` has `key` (its value may be null): `->` is SQL NULL only for a missing key
    on PostgreSQL, as `json_type` is on SQLite."""
    if postgresql:
        return changes.op("->")(literal(key)).is_not(None)
    return func.json_type(changes, f'$."{key}"').is_not(None)


def _view(
    t: _Row, reporters: Collection[tuple[str, str]], since: dt.datetime | None, committed: dt.datetime | None
) -> TicketView:
    """The view of a row, its fields named one by one: built from a dict of the row, a view took 12 µs instead of 7
    (the digest builds thousands)."""
    return TicketView(
        number=t.id, status=Status(t.status), category=t.category, location=t.location, grid_id=t.grid_id,
        chat_id=t.chat_id, chat_name=t.chat_name, chat_is_private=t.chat_is_private, assignee_id=t.assignee_id,
        created_at=t.created_at, response_due_at=t.response_due_at, first_response_at=t.first_response_at,
        resolution_due_at=t.resolution_due_at, resolution_since=since, resolved_at=t.resolved_at,
        commitment_date=t.commitment_date, committed_at=committed, rating=t.rating, agenda=t.agenda,
        reporters=tuple(reporters), unit_id=t.unit_id, dispatched_at=t.dispatched_at,
        unit_response_due_at=t.unit_response_due_at, unit_resolution_due_at=t.unit_resolution_due_at,
        unit_first_response_at=t.unit_first_response_at, source=t.source, published_at=t.published_at,
    )  # fmt: skip


def _facts(t: _Row, ratings: tuple[tuple[dt.datetime, str], ...]) -> TicketFacts:
    return TicketFacts(
        number=t.id, category=t.category, grid_id=t.grid_id, location=t.location, assignee_id=t.assignee_id,
        status=Status(t.status), created_at=t.created_at, response_due_at=t.response_due_at,
        first_response_at=t.first_response_at, resolution_due_at=t.resolution_due_at, resolved_at=t.resolved_at,
        ratings=ratings, unit_id=t.unit_id, dispatched_at=t.dispatched_at,
        unit_response_due_at=t.unit_response_due_at, unit_first_response_at=t.unit_first_response_at,
        unit_resolution_due_at=t.unit_resolution_due_at, source=t.source,
    )  # fmt: skip
