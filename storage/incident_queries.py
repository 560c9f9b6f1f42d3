"""What the board, Open311 and the 台账 read of known incidents (`通知`): read-only, each list cut in SQL.

Like `storage.board_queries`: every list is filtered, ordered and cut with `LIMIT` (or read `BATCH` at a time),
every count is an aggregate, and a query about some incidents binds at most `BATCH` ids. `storage.incidents`
is the only writer of these tables; nothing here changes them.

A wall's incidents are the `active` ones (as `storage.incidents.active_incidents` reads them: started, not
ended, expected end still ahead) and the `recent` ones: ended (恢复) since a day, or never ended but past their
expected end since then (`lapsed`: the notice said when it would be back, nobody confirmed that it is).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, literal, or_, true, union_all
from sqlmodel import Session, col, select

from ledger.incidents import ScopeKind
from storage.board_queries import BATCH, CATEGORY_LENGTH, is_open, is_public
from storage.incidents import IncidentAction, IncidentStatus
from storage.models import Incident, IncidentEvent, IncidentReporter, Ticket

ACTIVE = IncidentStatus.ACTIVE.value
ENDED = IncidentStatus.ENDED.value
JOINING = (IncidentAction.JOIN.value, IncidentAction.ATTACH.value)
"""The events that add a reporter: one per resident, so an incident may have very many."""


@dataclass(frozen=True)
class Range:
    """Which incidents a filtered view shows: of `category` (empty: any) and touching `grid` (empty: any) —
    a notice for the whole community, for the grid, or for one of the grid's `buildings`."""

    grid: str = ""
    buildings: tuple[str, ...] = ()
    category: str = ""

    def condition(self) -> ColumnElement[bool]:
        where: list[ColumnElement[bool]] = []
        if self.category:
            where.append(col(Incident.category) == self.category)
        if self.grid:
            kind, value = col(Incident.scope_kind), col(Incident.scope_value)
            where.append(
                or_(
                    kind == ScopeKind.ALL.value,
                    and_(kind == ScopeKind.GRID.value, value == self.grid),
                    and_(kind == ScopeKind.BUILDING.value, value.in_(sorted(self.buildings)))
                    if self.buildings
                    else literal(False),
                )
            )
        return and_(true(), *where)


def lasting_at(now: dt.datetime) -> ColumnElement[bool]:
    """`storage.incidents.active_incidents`' condition."""
    end = col(Incident.expected_end_at)
    return and_(col(Incident.status) == ACTIVE, col(Incident.starts_at) <= now, or_(end.is_(None), end > now))


def over_since(since: dt.datetime, now: dt.datetime) -> ColumnElement[bool]:
    """Ended since `since`, or never ended and past its expected end since then."""
    end = col(Incident.expected_end_at)
    return or_(
        and_(col(Incident.status) == ENDED, col(Incident.ended_at) >= since),
        and_(col(Incident.status) == ACTIVE, end.is_not(None), end >= since, end <= now),
    )


def active_page(session: Session, now: dt.datetime, scope: Range, *, limit: int) -> list[Incident]:
    """Up to `limit` incidents lasting at `now`, newest first."""
    query = select(Incident).where(lasting_at(now), scope.condition()).order_by(col(Incident.id).desc())
    return list(session.exec(query.limit(limit)))


def recent_page(session: Session, now: dt.datetime, since: dt.datetime, scope: Range, *, limit: int) -> list[Incident]:
    """Up to `limit` incidents over since `since` (ended, or past their expected end), newest first."""
    query = select(Incident).where(over_since(since, now), scope.condition()).order_by(col(Incident.id).desc())
    return list(session.exec(query.limit(limit)))


def reporter_counts(session: Session, ids: Collection[int]) -> dict[int, int]:
    """How many residents reported each of the incidents `ids` (`BATCH` ids a query)."""
    counts: dict[int, int] = {}
    for chunk in _chunks(sorted(set(ids))):
        query = select(IncidentReporter.incident_id, func.count()).where(col(IncidentReporter.incident_id).in_(chunk))
        counts.update(
            (number, int(count)) for number, count in session.exec(query.group_by(col(IncidentReporter.incident_id)))
        )
    return counts


def last_changes(session: Session, ids: Collection[int]) -> dict[int, dt.datetime]:
    """When each of the incidents `ids` last changed (its latest event)."""
    found: dict[int, dt.datetime] = {}
    for chunk in _chunks(sorted(set(ids))):
        query = select(IncidentEvent.incident_id, func.max(IncidentEvent.at)).where(
            col(IncidentEvent.incident_id).in_(chunk)
        )
        found.update((number, at) for number, at in session.exec(query.group_by(col(IncidentEvent.incident_id))))
    return found


def end_notes(session: Session, ids: Collection[int]) -> dict[int, str]:
    """What the cadre wrote when ending each of the ended incidents `ids` (恢复 3 已恢复供水), if anything."""
    found: dict[int, str] = {}
    for chunk in _chunks(sorted(set(ids))):
        query = select(IncidentEvent.incident_id, IncidentEvent.note).where(
            col(IncidentEvent.incident_id).in_(chunk), IncidentEvent.action == IncidentAction.END.value
        )
        found.update((number, note) for number, note in session.exec(query.order_by(col(IncidentEvent.id))))
    return found


def incidents_by_id(session: Session, ids: Collection[int]) -> dict[int, Incident]:
    found: dict[int, Incident] = {}
    for chunk in _chunks(sorted(set(ids))):
        found.update((i.id, i) for i in session.exec(select(Incident).where(col(Incident.id).in_(chunk))))
    return found


# One incident's page ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """An incident's events as its page shows them: all but the joins, and the first `limit` joins (`JOINING`);
    `joins` is how many there are in all."""

    events: list[IncidentEvent]
    joins: int
    shown_joins: int


def history(session: Session, incident_id: int, *, limit: int) -> History:
    where = IncidentEvent.incident_id == incident_id
    joining = col(IncidentEvent.action).in_(JOINING)
    others = list(session.exec(select(IncidentEvent).where(where, ~joining).order_by(col(IncidentEvent.id))))
    joins = list(session.exec(select(IncidentEvent).where(where, joining).order_by(col(IncidentEvent.id)).limit(limit)))
    total = session.exec(select(func.count()).select_from(IncidentEvent).where(where, joining)).one()
    events = sorted([*others, *joins], key=lambda e: e.id or 0)
    return History(events, int(total), len(joins))


# Open311 --------------------------------------------------------------------------------------------------------

TICKET, INCIDENT = 0, 1
"""The kinds of service request, in the order they sort at the same instant."""


def requests_page(
    session: Session, *, start: dt.datetime, end: dt.datetime, states: Collection[str], codes: Collection[str],
    offset: int, limit: int,
) -> list[tuple[int, int]]:  # fmt: skip
    """`storage.board_queries.requests_page` with incidents among the tickets: `(kind, number)` of the requests
    made from `start` to `end` (a ticket's creation, an incident's start), newest first, tickets before
    incidents at the same instant, ties by number. An incident is open until it is ended (恢复)."""
    tickets = select(literal(TICKET).label("kind"), col(Ticket.id).label("number"), col(Ticket.created_at).label("at"))
    # A patrol finding (上报) is not a request residents see before 公开 (`is_public`).
    tickets = tickets.where(col(Ticket.created_at) >= start, col(Ticket.created_at) <= end, is_public)
    incidents = select(
        literal(INCIDENT).label("kind"), col(Incident.id).label("number"), col(Incident.starts_at).label("at")
    ).where(col(Incident.starts_at) >= start, col(Incident.starts_at) <= end)
    if set(states) == {"open"}:
        tickets, incidents = tickets.where(is_open), incidents.where(col(Incident.status) == ACTIVE)
    elif set(states) == {"closed"}:
        tickets, incidents = tickets.where(~is_open), incidents.where(col(Incident.status) != ACTIVE)
    if codes:  # as many as the request line holds; one longer than a category's id matches nothing
        wanted = sorted({c for c in codes if len(c) <= CATEGORY_LENGTH})
        tickets, incidents = (
            tickets.where(col(Ticket.category).in_(wanted)),
            incidents.where(col(Incident.category).in_(wanted)),
        )
    both = union_all(tickets, incidents).subquery()
    query = (
        select(both.c.kind, both.c.number)
        .order_by(both.c.at.desc(), both.c.kind, both.c.number)
        .offset(offset)
        .limit(limit)
    )
    return [(int(kind), int(number)) for kind, number in session.exec(query)]


def existing_incident_ids(session: Session, ids: Collection[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(sorted(set(ids))):
        found.update(session.exec(select(Incident.id).where(col(Incident.id).in_(chunk))))
    return found


# The 台账 ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentDetails:
    """Of some incidents: how many residents reported each, and the cadre's note on ending the ended ones."""

    reporters: dict[int, int]
    end_notes: dict[int, str]


def export_batches(
    session: Session, *, start: dt.datetime | None = None, end: dt.datetime | None = None, scope: Range = Range(),
    status: str = "",
) -> Iterator[tuple[list[Incident], IncidentDetails]]:  # fmt: skip
    """Incidents started in [start, end) in `scope`, by number, `BATCH` at a time with their details.

    `status` as the board's filter reads it: open (not ended), overdue (none: a notice has no deadline), or
    resolved (ended)."""
    if status == "overdue":
        return
    where = [scope.condition()]
    if start is not None:
        where.append(col(Incident.starts_at) >= start)
    if end is not None:
        where.append(col(Incident.starts_at) < end)
    if status == "open":
        where.append(col(Incident.status) == ACTIVE)
    elif status == "resolved":
        where.append(col(Incident.status) == ENDED)
    last = 0
    while True:
        query = select(Incident).where(col(Incident.id) > last, *where).order_by(col(Incident.id)).limit(BATCH)
        incidents = list(session.exec(query))
        if not incidents:
            return
        ids = [i.id for i in incidents if i.id is not None]
        yield incidents, IncidentDetails(reporter_counts(session, ids), end_notes(session, ids))
        last = incidents[-1].id or last


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for index in range(0, len(ids), BATCH):
        yield ids[index : index + BATCH]
