"""What the board, Open311 and the 台账 read: each asks the database for what it shows, never the whole ledger.

Every list is filtered, ordered and cut (`LIMIT`, keyset or batches) in SQL, and every count is an aggregate,
on indexes made for these paths (migration 0006_board_indexes). A query about some tickets binds at most
`BATCH` ids at a time. The rates are counted in SQL too (`rates_by_assignee`): tests/test_board_stats.py
checks that these counts agree with the definitions of `ledger.rates` on the same ledger; `rates_by_unit` and
`received_by_source` do the same for the partner units and the sources (tests/test_board_queries.py).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, DateTime, and_, case, func, or_, true, type_coerce
from sqlmodel import Session, col, select

from ledger.lifecycle import NOT_COUNTED, OPEN_STATES, Action, Status
from ledger.rates import SATISFIED_RATINGS, Period, Rates, UnitRates, judged_at
from storage.models import Member, OutboxMessage, Ticket, TicketEvent, TicketReporter
from storage.types import UTCDateTime

CATEGORY_LENGTH = 64
"""`Ticket.category`'s length."""
BATCH = 1000
"""The most ids one query binds, and the tickets an export reads at a time."""
DENSE = 2
"""An export's batch is read by the range of its numbers when they fill at least half of it: a community of a
街道, whose numbers are spread among the other communities', reads its batch by the list of its numbers."""
OPEN = sorted(s.value for s in OPEN_STATES)
_NOT_COUNTED = sorted(s.value for s in NOT_COUNTED)
NOTE_ACTIONS = (Action.PROGRESS.value, Action.RESOLVE.value, Action.RETURN.value)
"""The actions whose note residents were told: the latest one is a ticket's 办理情况."""


@dataclass(frozen=True)
class Note:
    """What a cadre wrote when reporting progress, resolving or returning a ticket (`NOTE_ACTIONS`)."""

    text: str
    at: dt.datetime


@dataclass(frozen=True)
class Announcement:
    text: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Details:
    """Of some tickets: the names of their active reporters (in the order they joined) and the latest note."""

    reporters: dict[int, list[str]]
    notes: dict[int, Note]


# Conditions ---------------------------------------------------------------------------------------------------

is_open = col(Ticket.status).in_(OPEN)

PATROL = "patrol"
is_public = or_(col(Ticket.source) != PATROL, col(Ticket.published_at).is_not(None))
"""What the public wall, its ticket pages and Open311 show: a cadre's patrol finding (上报) only once it was made
public (公开); residents' reports always. The cadre view and the 台账 show every ticket."""


def shown_publicly(ticket: Ticket) -> bool:
    """`is_public` of one loaded ticket."""
    return ticket.source != PATROL or ticket.published_at is not None


def overdue_at(now: dt.datetime) -> ColumnElement[bool]:
    """`ledger.rates.is_overdue` of an open ticket: past its resolution deadline, not resolved by then."""
    due, resolved = col(Ticket.resolution_due_at), col(Ticket.resolved_at)
    return and_(due.is_not(None), due < now, or_(resolved.is_(None), resolved > due))


def ended_since(since: dt.datetime) -> ColumnElement[bool]:
    """Resolved, or else closed, at or after `since` (each side on its own index)."""
    resolved, closed = col(Ticket.resolved_at), col(Ticket.closed_at)
    return or_(resolved >= since, and_(resolved.is_(None), closed >= since))


def _matching(grid: str, category: str) -> list[ColumnElement[bool]]:
    where = []
    if grid:
        where.append(col(Ticket.grid_id) == grid)
    if category:
        where.append(col(Ticket.category) == category)
    return where


# The wall -------------------------------------------------------------------------------------------------------


class Segment(IntEnum):
    """The wall's three runs, in the order shown: overdue open tickets, other open ones, recently ended ones."""

    OVERDUE = 0
    OPEN = 1
    ENDED = 2


@dataclass(frozen=True)
class Wall:
    """Which tickets a wall lists: `now`, tickets ended since `since`, and the filters (empty: any)."""

    now: dt.datetime
    since: dt.datetime
    segments: tuple[Segment, ...] = tuple(Segment)
    grid: str = ""
    category: str = ""
    assignee_id: str = ""
    public: bool = True
    """Leave out patrol findings not made public yet (`is_public`); the cadre view shows them."""

    def condition(self, segment: Segment) -> ColumnElement[bool]:
        where = _matching(self.grid, self.category)
        if self.public:
            where.append(is_public)
        if self.assignee_id:
            where.append(col(Ticket.assignee_id) == self.assignee_id)
        if segment is Segment.OVERDUE:
            where += [is_open, overdue_at(self.now)]
        elif segment is Segment.OPEN:
            where += [is_open, ~overdue_at(self.now)]
        else:
            ended = col(Ticket.status).not_in([*OPEN, *_NOT_COUNTED])
            where += [ended, ended_since(self.since)]
        return and_(true(), *where)


def wall_page(session: Session, wall: Wall, *, after: int | None, limit: int) -> list[Ticket]:
    """Up to `limit` tickets of the wall after ticket `after` (None: from the top): overdue and open ones oldest
    first, ended ones newest first, ties by number. `after` need not be on the wall any more: its place in that
    order is where the page starts."""
    start: tuple[Segment, dt.datetime, int] | None = None
    if after is not None:
        segment = case((and_(is_open, overdue_at(wall.now)), 0), (is_open, 1), else_=2)
        found = session.exec(select(segment, Ticket.created_at).where(Ticket.id == after)).first()
        if found is not None:
            start = (Segment(found[0]), found[1], after)
    tickets: list[Ticket] = []
    for segment in wall.segments:
        if start is not None and segment < start[0]:
            continue
        query = select(Ticket).where(wall.condition(segment))
        created = col(Ticket.created_at)
        if start is not None and segment == start[0]:
            _, at, number = start
            later = created < at if segment is Segment.ENDED else created > at
            query = query.where(or_(later, and_(created == at, col(Ticket.id) > number)))
        order = created.desc() if segment is Segment.ENDED else created
        tickets += session.exec(query.order_by(order, col(Ticket.id)).limit(limit - len(tickets)))
        if len(tickets) >= limit:
            break
    return tickets


def wall_counts(session: Session, wall: Wall) -> dict[Segment, int]:
    return {
        segment: session.exec(select(func.count()).select_from(Ticket).where(wall.condition(segment))).one()
        for segment in wall.segments
    }


# Tickets and what goes with them ------------------------------------------------------------------------------


def tickets_by_id(session: Session, ids: Collection[int]) -> dict[int, Ticket]:
    found: dict[int, Ticket] = {}
    for chunk in _chunks(sorted(set(ids))):
        found.update((t.id, t) for t in session.exec(select(Ticket).where(col(Ticket.id).in_(chunk))))
    return found


def existing_ids(session: Session, ids: Collection[int], *, public: bool = False) -> set[int]:
    """Which of `ids` are tickets (`public`: shown publicly, see `is_public`)."""
    found: set[int] = set()
    for chunk in _chunks(sorted(set(ids))):
        query = select(Ticket.id).where(col(Ticket.id).in_(chunk))
        found.update(session.exec(query.where(is_public) if public else query))
    return found


def details(session: Session, ids: Collection[int]) -> Details:
    """Active reporters and latest notes of the tickets `ids` (read `BATCH` at a time)."""
    found = Details({}, {})
    for chunk in _chunks(sorted(set(ids))):
        _read_details(session, found, lambda ticket_id, chunk=chunk: ticket_id.in_(chunk))
    return found


def _read_details(session: Session, into: Details, which: Callable[[ColumnElement[int]], ColumnElement[bool]]) -> None:
    """Add to `into` the active reporters and latest notes of the tickets whose id column `which` accepts."""
    query = select(TicketReporter.ticket_id, TicketReporter.member_name).where(
        which(col(TicketReporter.ticket_id)), TicketReporter.active
    )
    for ticket_id, name in session.exec(query.order_by(col(TicketReporter.id))):
        into.reporters.setdefault(ticket_id, []).append(name)
    query = select(TicketEvent.ticket_id, TicketEvent.note, TicketEvent.at).where(
        which(col(TicketEvent.ticket_id)), col(TicketEvent.action).in_(NOTE_ACTIONS), TicketEvent.note != ""
    )
    for ticket_id, note, at in session.exec(query.order_by(col(TicketEvent.id))):
        into.notes[ticket_id] = Note(note, at)


@dataclass(frozen=True)
class Voice:
    """A co-reporter's own words on a ticket (the note of their `join` event)."""

    name: str
    text: str
    at: dt.datetime


def voices(session: Session, ticket: Ticket) -> list[Voice]:
    """What each co-reporter wrote, in the order they joined."""
    query = select(TicketEvent.actor_name, TicketEvent.note, TicketEvent.at).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == Action.JOIN.value, TicketEvent.note != ""
    )
    return [Voice(name, note, at) for name, note, at in session.exec(query.order_by(col(TicketEvent.id)))]


def announcements(session: Session, ticket: Ticket) -> list[Announcement]:
    """What the ticket's own group saw, in order: outbox rows that are not private and went to the chat where
    the problem was raised (a cadres' group alert is not what residents saw)."""
    query = select(OutboxMessage.text, OutboxMessage.created_at).where(
        OutboxMessage.ticket_id == ticket.id, OutboxMessage.chat_id == ticket.chat_id, ~col(OutboxMessage.is_private)
    )
    return [Announcement(text, at) for text, at in session.exec(query.order_by(col(OutboxMessage.id)))]


def member_names(session: Session) -> list[str]:
    """The names residents go by, each once (many share one: a third as many rows to read and compare)."""
    return list(session.exec(select(Member.name).distinct()))


def reporter_names_after(session: Session, after_id: int) -> tuple[int, set[str]]:
    """The names on reporter rows added after row `after_id`, and the newest row's id. Reporter rows keep the name
    they were written with, so the names seen once stay valid and only new rows need reading."""
    last = session.exec(select(func.max(TicketReporter.id))).one() or 0
    if last <= after_id:
        return after_id, set()
    query = select(TicketReporter.member_name).where(col(TicketReporter.id) > after_id, col(TicketReporter.id) <= last)
    return last, set(session.exec(query.distinct()))


# Open311 --------------------------------------------------------------------------------------------------------


def requests_page(
    session: Session, *, start: dt.datetime, end: dt.datetime, states: Collection[str], codes: Collection[str],
    offset: int, limit: int,
) -> list[Ticket]:  # fmt: skip
    """Tickets created from `start` to `end` (inclusive), newest first (ties by number), in `states` ("open",
    "closed"; none: both) and of the categories `codes` (none: any); `limit` of them after `offset`."""
    query = select(Ticket).where(col(Ticket.created_at) >= start, col(Ticket.created_at) <= end, is_public)
    if set(states) == {"open"}:
        query = query.where(is_open)
    elif set(states) == {"closed"}:
        query = query.where(~is_open)
    if codes:  # as many as the request line holds; one longer than a category's id matches nothing
        query = query.where(col(Ticket.category).in_(sorted({c for c in codes if len(c) <= CATEGORY_LENGTH})))
    query = query.order_by(col(Ticket.created_at).desc(), col(Ticket.id)).offset(offset).limit(limit)
    return list(session.exec(query))


# The 台账 ------------------------------------------------------------------------------------------------------


class ExportRow(NamedTuple):
    """A ticket as the 台账 reads it (like a `Ticket`'s attributes)."""

    id: int
    status: str
    category: str
    description: str
    location: str | None
    grid_id: str | None
    chat_is_private: bool
    assignee_id: str | None
    created_at: dt.datetime
    resolution_due_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    commitment_date: dt.date | None
    rating: str | None
    unit_id: str | None
    source: str
    community_id: str


EXPORT_FIELDS = ExportRow._fields


def naive_columns(fields: Sequence[str]) -> tuple[list[Any], tuple[bool, ...]]:
    """`Ticket`'s `fields` to select, its instants read as the naive UTC the ledger keeps, and which they are: made
    aware in bulk (`aware`), they cost a third of what `UTCDateTime`'s processor costs per value, which was most of
    the time of reading many rows."""
    instants = tuple(isinstance(getattr(Ticket, f).type, UTCDateTime) for f in fields)
    columns = [
        type_coerce(getattr(Ticket, f), DateTime()).label(f) if instant else getattr(Ticket, f)
        for f, instant in zip(fields, instants, strict=True)
    ]
    return columns, instants


def aware(row: Sequence[Any], instants: Sequence[bool]) -> list[Any]:
    """`row`'s values, the `instants` among them made aware (UTC) as `UTCDateTime` returns them."""
    return [
        value.replace(tzinfo=dt.UTC) if instant and value is not None else value
        for instant, value in zip(instants, row, strict=True)
    ]


_EXPORT_COLUMNS, _EXPORT_INSTANTS = naive_columns(EXPORT_FIELDS)


def export_batches(
    session: Session, *, start: dt.datetime | None = None, end: dt.datetime | None = None, grid: str = "",
    category: str = "", status: str = "", now: dt.datetime, after: int = 0, up_to: int | None = None,
) -> Iterator[tuple[list[ExportRow], Details]]:  # fmt: skip
    """Tickets created in [start, end) that match the filters, by number, `BATCH` at a time with their details;
    only those numbered above `after` and up to `up_to` (a part of the export: `export_middle`).

    `status` as the board's filter reads it for a download: open, overdue at `now`, or resolved (any ended).
    Each ticket is an `ExportRow` (read like a `Ticket`'s attributes): a fraction of the time of loading ORM
    objects, which is most of an export's."""
    where = _export_where(start, end, grid, category, status, now)
    if up_to is not None:
        where.append(col(Ticket.id) <= up_to)
    last = after
    while True:
        query = select(*_EXPORT_COLUMNS).where(col(Ticket.id) > last, *where)
        query = query.order_by(col(Ticket.id)).limit(BATCH)
        tickets = [ExportRow._make(aware(row, _EXPORT_INSTANTS)) for row in session.exec(query)]
        if not tickets:
            return
        if tickets[-1].id - last <= DENSE * len(tickets):
            yield tickets, _batch_details(session, last, tickets[-1].id, where)
        else:
            yield tickets, details(session, [t.id for t in tickets])
        last = tickets[-1].id


def export_middle(
    session: Session, *, start: dt.datetime | None = None, end: dt.datetime | None = None, now: dt.datetime,
    least: int,
) -> tuple[int, int] | None:  # fmt: skip
    """Where an export of `export_batches`' tickets (of these filters) splits in two halves: the number of the last
    ticket of the first half and how many tickets it holds; None when there are fewer than `least`, or than two."""
    where = _export_where(start, end, "", "", "", now)
    total = session.exec(select(func.count()).select_from(Ticket).where(*where)).one()
    if total < max(least, 2):
        return None
    half = total // 2
    middle = select(Ticket.id).where(*where).order_by(col(Ticket.id)).offset(half - 1).limit(1)
    return session.exec(middle).one(), half


def _export_where(
    start: dt.datetime | None, end: dt.datetime | None, grid: str, category: str, status: str, now: dt.datetime
) -> list[ColumnElement[bool]]:
    """`export_batches`' filters."""
    where = _matching(grid, category)
    if start is not None:
        where.append(col(Ticket.created_at) >= start)
    if end is not None:
        where.append(col(Ticket.created_at) < end)
    if status == "open":
        where.append(is_open)
    elif status == "overdue":
        where += [is_open, overdue_at(now)]
    elif status == "resolved":
        where.append(~is_open)
    return where


def _batch_details(session: Session, after: int, last: int, where: list[ColumnElement[bool]]) -> Details:
    """`details` of the tickets numbered (after, last] that match `where`: an export's batch, read by the range of
    its numbers (on the index of each table's ticket id) rather than a list of a thousand of them."""

    def which(ticket_id: ColumnElement[int]) -> ColumnElement[bool]:
        in_range = and_(ticket_id > after, ticket_id <= last)
        if not where:
            return in_range
        matching = select(Ticket.id).where(col(Ticket.id) > after, col(Ticket.id) <= last, *where)
        return and_(in_range, ticket_id.in_(matching.scalar_subquery()))

    found = Details({}, {})
    _read_details(session, found, which)
    return found


# The rates ------------------------------------------------------------------------------------------------------


def _rate_figures(
    period: Period, as_of: dt.datetime, *, created: Any, responded: Any, response_due: Any, due: Any
) -> tuple[tuple[ColumnElement[bool], ...], ColumnElement[bool]]:
    """`ledger.rates.compute_rates`' ticket counts as SQL conditions (received, response_counted,
    responded_in_time, due, resolved, overdue) over the given columns, and the condition that narrows the rows to
    those that may count (each alternative on an index)."""
    start, end = period.start, period.end
    status, resolved = col(Ticket.status), col(Ticket.resolved_at)
    received = and_(created >= start, created < end)
    due_in_period = and_(due >= start, due < end)
    counted_due = and_(status != Status.RETURNED.value, due_in_period, or_(due < as_of, resolved.is_not(None)))
    late = and_(
        status != Status.RETURNED.value, due < as_of, or_(resolved.is_(None), resolved > due),
        or_(resolved.is_(None), resolved >= start),
    )  # fmt: skip
    figures = (
        received,
        and_(received, or_(responded.is_not(None), response_due < as_of)),
        and_(received, responded <= response_due),
        counted_due,
        and_(counted_due, resolved < as_of),
        late,
    )
    narrowed = or_(received, due_in_period, and_(resolved.is_(None), due < as_of), and_(resolved >= start, due < as_of))
    return figures, and_(status.not_in(_NOT_COUNTED), narrowed)


def may_count(period: Period, now: dt.datetime | None = None) -> ColumnElement[bool]:
    """The tickets that may count in `ledger.rates.compute_rates` or `compute_unit_rates` for `period` (judged as
    they judge), except those counted only by a rating given in the period: a superset the pure definitions can be
    run on instead of the whole ledger (the weekly digest, jobs/digest.py)."""
    as_of = judged_at(period, now)
    cadres = _rate_figures(
        period, as_of, created=col(Ticket.created_at), responded=col(Ticket.first_response_at),
        response_due=col(Ticket.response_due_at), due=col(Ticket.resolution_due_at),
    )[1]  # fmt: skip
    units = _rate_figures(
        period, as_of, created=col(Ticket.dispatched_at), responded=col(Ticket.unit_first_response_at),
        response_due=col(Ticket.unit_response_due_at), due=col(Ticket.unit_resolution_due_at),
    )[1]  # fmt: skip
    return or_(cadres, and_(col(Ticket.unit_id).is_not(None), col(Ticket.dispatched_at).is_not(None), units))


def rates_by_assignee(session: Session, period: Period, now: dt.datetime | None = None) -> dict[str | None, Rates]:
    """`ledger.rates.compute_rates` of each assignee's tickets (None: not assigned), counted in SQL.

    Each figure counts tickets (or their ratings), so the figures of all the assignees add up to the whole.
    Assignees without a figure are left out."""
    return _rates_by(session, period, now, col(Ticket.assignee_id))


def rates_by_community(session: Session, period: Period, now: dt.datetime | None = None) -> dict[str, Rates]:
    """`ledger.rates.compute_rates` of each community's tickets (the 街道's overview: a session of no community)."""
    return _rates_by(session, period, now, col(Ticket.community_id))


def _rates_by(session: Session, period: Period, now: dt.datetime | None, key: Any) -> dict[Any, Rates]:
    as_of = judged_at(period, now)
    start, end = period.start, period.end
    status = col(Ticket.status)
    figures, where = _rate_figures(
        period, as_of, created=col(Ticket.created_at), responded=col(Ticket.first_response_at),
        response_due=col(Ticket.response_due_at), due=col(Ticket.resolution_due_at),
    )  # fmt: skip
    # each alternative on an index: created_at, resolution_due_at, (resolved_at, resolution_due_at)
    query = select(key, *(func.sum(case((figure, 1), else_=0)) for figure in figures)).where(where)
    counts: dict[Any, list[int]] = {}
    for group, *sums in session.exec(query.group_by(key)):
        counts[group] = [int(s or 0) for s in sums] + [0, 0]
    rating = col(TicketEvent.changes)["rating"].as_string()
    query = (
        select(key, func.count(), func.sum(case((rating.in_(sorted(SATISFIED_RATINGS)), 1), else_=0)))
        .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
        .where(TicketEvent.action == Action.RATE.value, col(TicketEvent.at) >= start, col(TicketEvent.at) < end)
        .where(status.not_in(_NOT_COUNTED))
        .group_by(key)
    )
    for group, rated, satisfied in session.exec(query):
        counts.setdefault(group, [0] * 8)[6:] = [int(rated), int(satisfied or 0)]
    return {group: Rates(*figures) for group, figures in counts.items() if any(figures)}


def rates_by_unit(session: Session, period: Period, now: dt.datetime | None = None) -> dict[str, UnitRates]:
    """`ledger.rates.compute_unit_rates`, counted in SQL: the cadres' figures over each unit's dispatched tickets,
    by dispatch time and the unit's own limits. Units without a figure are left out."""
    figures, where = _rate_figures(
        period, judged_at(period, now), created=col(Ticket.dispatched_at),
        responded=col(Ticket.unit_first_response_at), response_due=col(Ticket.unit_response_due_at),
        due=col(Ticket.unit_resolution_due_at),
    )  # fmt: skip
    query = select(Ticket.unit_id, *(func.sum(case((figure, 1), else_=0)) for figure in figures)).where(
        col(Ticket.unit_id).is_not(None), col(Ticket.dispatched_at).is_not(None), where
    )
    found = {}
    for unit, *sums in session.exec(query.group_by(col(Ticket.unit_id))):
        counts = [int(s or 0) for s in sums]
        if any(counts):
            found[unit] = UnitRates(*counts)
    return found


def received_by_source(session: Session, period: Period) -> Counter[str]:
    """`ledger.rates.by_source`: the period's received tickets by source (`resident`, `patrol`)."""
    query = select(Ticket.source, func.count()).where(*_received(period)).group_by(col(Ticket.source))
    return Counter({source: int(count) for source, count in session.exec(query)})


def received(session: Session, periods: Sequence[Period]) -> list[int]:
    """Each period's received tickets (`Rates.received`), in one pass over the time they span."""
    if not periods:
        return []
    created = col(Ticket.created_at)
    sums = [func.sum(case((and_(created >= p.start, created < p.end), 1), else_=0)) for p in periods]
    query = select(*sums).where(
        col(Ticket.status).not_in(_NOT_COUNTED),
        created >= min(p.start for p in periods),
        created < max(p.end for p in periods),
    )
    return [int(count or 0) for count in session.exec(query).one()]


def received_by(session: Session, period: Period) -> tuple[Counter[str], Counter[str | None]]:
    """The period's received tickets counted by category and by grid (None: no grid)."""
    categories: Counter[str] = Counter()
    grids: Counter[str | None] = Counter()
    query = select(Ticket.category, Ticket.grid_id, func.count()).where(*_received(period))
    for category, grid, count in session.exec(query.group_by(col(Ticket.category), col(Ticket.grid_id))):
        categories[category] += count
        grids[grid] += count
    return categories, grids


def median_first_response(session: Session, period: Period) -> dt.timedelta | None:
    """`ledger.rates.median_first_response`: the middle wait (or the mean of the two middle ones), ordered in SQL.

    Only the one or two middle rows are read; the wait itself is computed from their timestamps in Python."""
    where = [*_received(period), col(Ticket.first_response_at).is_not(None)]
    count = session.exec(select(func.count()).select_from(Ticket).where(*where)).one()
    if not count:
        return None
    if session.get_bind().dialect.name == "sqlite":
        wait = func.julianday(Ticket.first_response_at) - func.julianday(Ticket.created_at)
    else:
        wait = col(Ticket.first_response_at) - col(Ticket.created_at)
    query = select(Ticket.first_response_at, Ticket.created_at).where(*where).order_by(wait, col(Ticket.id))
    middle = [first - created for first, created in session.exec(query.offset((count - 1) // 2).limit(2 - count % 2))]
    return middle[0] if len(middle) == 1 else (middle[0] + middle[1]) / 2


def _received(period: Period) -> Sequence[ColumnElement[bool]]:
    created = col(Ticket.created_at)
    return (col(Ticket.status).not_in(_NOT_COUNTED), created >= period.start, created < period.end)


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for index in range(0, len(ids), BATCH):
        yield ids[index : index + BATCH]
