"""Opening and changing tickets. `apply_action` is the only code that changes a ticket's fields.

It checks the transition table, records a `TicketEvent` carrying the exact values it set, and sets
them. `rebuild_ticket` folds those events back into a ticket, which proves the audit trail complete.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from ledger.lifecycle import CADRE_RESPONSES, CLOSED_STATES, OPEN_STATES, Action, Status, next_status
from ledger.rates import TicketFacts
from storage.models import Ticket, TicketEvent, TicketReporter

_DATETIME_FIELDS = frozenset(
    {
        "created_at", "first_response_at", "resolved_at", "closed_at", "response_due_at", "resolution_due_at",
        "dispatched_at", "unit_response_due_at", "unit_resolution_due_at", "unit_first_response_at", "published_at",
    }
)
_DATE_FIELDS = frozenset({"commitment_date"})
LEDGER_FIELDS = (
    "status", "category", "description", "location", "grid_id", "chat_id", "chat_name", "chat_is_private",
    "assignee_id", "urgent", "confidence", "created_at", "first_response_at", "resolved_at", "closed_at",
    "response_due_at",
    "resolution_due_at", "commitment_date", "rating", "agenda", "unit_id", "dispatched_at",
    "unit_response_due_at", "unit_resolution_due_at", "unit_first_response_at", "source", "published_at",
)  # fmt: skip


@dataclass(frozen=True)
class Actor:
    id: str
    name: str


BOT = Actor("huiyin", "回音")


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _decode(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field in _DATETIME_FIELDS:
        return dt.datetime.fromisoformat(value)
    if field in _DATE_FIELDS:
        return dt.date.fromisoformat(value)
    return value


def _record(
    session: Session, ticket: Ticket, action: Action, actor: Actor, now: dt.datetime, changes: dict[str, Any],
    note: str, from_status: str | None,
) -> TicketEvent:
    for field, value in changes.items():
        setattr(ticket, field, value)
    ticket.updated_at = now
    session.add(ticket)
    session.flush()
    event = TicketEvent(
        ticket_id=ticket.id, at=now, actor_id=actor.id, actor_name=actor.name, action=action.value,
        from_status=from_status, to_status=ticket.status,
        changes={field: _encode(value) for field, value in changes.items()}, note=note,
    )
    session.add(event)
    return event


def open_ticket(
    session: Session, *, now: dt.datetime, reporter: Actor, fields: dict[str, Any], note: str = "",
    assignee_id: str | None = None,
) -> Ticket:
    """Create a ticket in state `new` with `reporter` as its first reporter; with `assignee_id`, the bot assigns it
    at once (an `assign` event), as every report and opened triage item is."""
    ticket = Ticket(status=Status.NEW, created_at=now, updated_at=now, description="", category="", chat_id="")
    changes = {"status": Status.NEW.value, "created_at": now, "source": "resident", **fields}
    _record(session, ticket, Action.CREATE, reporter, now, changes, note, None)
    add_reporter(session, ticket, reporter, now=now, record_event=False)
    if assignee_id is not None:
        apply_action(session, ticket, Action.ASSIGN, actor=BOT, now=now, changes={"assignee_id": assignee_id})
    return ticket


def apply_action(
    session: Session, ticket: Ticket, action: Action, *, actor: Actor, now: dt.datetime, note: str = "",
    changes: dict[str, Any] | None = None, responding: bool = False,
) -> TicketEvent:
    """Move `ticket` by `action` (IllegalTransition if the table forbids it) and set `changes` with it.

    `responding` marks an action taken by a cadre, which stamps the first public response once.
    """
    target = next_status(action, Status(ticket.status))
    all_changes: dict[str, Any] = dict(changes or {})
    if target != ticket.status:  # updates (rate, follow-up, …) keep the state and its timestamps
        all_changes["status"] = target.value
        if target is Status.RESOLVED:
            all_changes["resolved_at"] = now
        if target in CLOSED_STATES:
            all_changes["closed_at"] = now
        if target is Status.REOPENED:
            all_changes.update(resolved_at=None, closed_at=None, rating=None)
    if responding and action in CADRE_RESPONSES and ticket.first_response_at is None:
        all_changes["first_response_at"] = now
    return _record(session, ticket, action, actor, now, all_changes, note, ticket.status)


def add_reporter(
    session: Session, ticket: Ticket, reporter: Actor, *, now: dt.datetime, record_event: bool = True, note: str = ""
) -> bool:
    """Add a co-reporter (or re-activate one who withdrew). False if already an active reporter.

    `note` is kept on the `join` event: the co-reporter's own words, which the cadre (`查`) and, masked, the
    ticket's public page show."""
    existing = session.exec(
        select(TicketReporter).where(TicketReporter.ticket_id == ticket.id, TicketReporter.member_id == reporter.id)
    ).first()
    if existing is not None and existing.active:
        return False
    if record_event:
        apply_action(session, ticket, Action.JOIN, actor=reporter, now=now, note=note)
    if existing is None:
        existing = TicketReporter(ticket_id=ticket.id, member_id=reporter.id, member_name=reporter.name, joined_at=now)
    existing.active = True
    session.add(existing)
    return True


def remove_reporter(session: Session, ticket: Ticket, reporter: Actor, *, now: dt.datetime) -> None:
    row = session.exec(
        select(TicketReporter).where(TicketReporter.ticket_id == ticket.id, TicketReporter.member_id == reporter.id)
    ).one()
    apply_action(session, ticket, Action.LEAVE, actor=reporter, now=now)
    row.active = False
    session.add(row)


def get_ticket(session: Session, number: int) -> Ticket | None:
    return session.get(Ticket, number)


def active_reporters(session: Session, ticket_id: int) -> list[TicketReporter]:
    return list(
        session.exec(
            select(TicketReporter)
            .where(TicketReporter.ticket_id == ticket_id, TicketReporter.active)
            .order_by(col(TicketReporter.id))
        )
    )


def is_reporter(session: Session, ticket_id: int, member_id: str) -> bool:
    return any(r.member_id == member_id for r in active_reporters(session, ticket_id))


def open_tickets_since(session: Session, *, since: dt.datetime, limit: int = 200) -> list[Ticket]:
    """Open tickets created after `since`, the newest `limit` of them: what a new report may duplicate."""
    return list(
        session.exec(
            select(Ticket)
            .where(
                col(Ticket.status).in_([s.value for s in OPEN_STATES]), col(Ticket.created_at) >= since,
                _seen_by_residents(),
            )
            .order_by(col(Ticket.id).desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class MergeCandidate:
    """What duplicate detection compares of an open ticket."""

    id: int
    description: str
    category: str
    location: str | None
    grid_id: str | None


def _seen_by_residents() -> ColumnElement[bool]:
    """Not a patrol finding the residents have not been told of (`公开`): a resident's report never disappears
    into one (they would hear nothing more); a cadre can still `合并` it."""
    return or_(col(Ticket.source) != "patrol", col(Ticket.published_at).is_not(None))


def merge_candidates(
    session: Session, *, since: dt.datetime, grid_id: str | None, limit: int = 200
) -> list[MergeCandidate]:
    """Open tickets created after `since` that a report of `grid_id` may duplicate, newest first: those of that grid
    or of none; when the report's grid is unknown, only tickets without a place. Reads only the compared columns."""
    where = [
        col(Ticket.status).in_([s.value for s in OPEN_STATES]), col(Ticket.created_at) >= since, _seen_by_residents()
    ]
    if grid_id is None:
        where.append(col(Ticket.location).is_(None))
    else:
        where.append(or_(col(Ticket.grid_id) == grid_id, col(Ticket.grid_id).is_(None)))
    query = (
        select(Ticket.id, Ticket.description, Ticket.category, Ticket.location, Ticket.grid_id)
        .where(*where)
        .order_by(col(Ticket.id).desc())
        .limit(limit)
    )
    return [MergeCandidate(*row) for row in session.exec(query)]


def recently_resolved(session: Session, *, since: dt.datetime, limit: int = 200) -> list[Ticket]:
    """Tickets resolved (or since closed) at or after `since`, newest first: what "still not fixed" may mean."""
    return list(
        session.exec(
            select(Ticket)
            .where(
                col(Ticket.status).in_([Status.RESOLVED.value, Status.CLOSED.value]),
                col(Ticket.resolved_at) >= since,
            )
            .order_by(col(Ticket.id).desc())
            .limit(limit)
        )
    )


def open_tickets_assigned_to(session: Session, cadre_id: str) -> list[Ticket]:
    return list(
        session.exec(
            select(Ticket)
            .where(Ticket.assignee_id == cadre_id, col(Ticket.status).in_([s.value for s in OPEN_STATES]))
            .order_by(col(Ticket.id))
        )
    )


def tickets_reported_by(session: Session, member_id: str, limit: int = 10) -> list[Ticket]:
    return list(
        session.exec(
            select(Ticket)
            .join(TicketReporter, col(TicketReporter.ticket_id) == col(Ticket.id))
            .where(TicketReporter.member_id == member_id, TicketReporter.active)
            .order_by(col(Ticket.id).desc())
            .limit(limit)
        )
    )


def all_tickets(session: Session) -> list[Ticket]:
    return list(session.exec(select(Ticket).order_by(col(Ticket.id))))


def ticket_events(session: Session, ticket_id: int) -> list[TicketEvent]:
    return list(
        session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(col(TicketEvent.id)))
    )


def rebuild_ticket(events: Sequence[TicketEvent]) -> dict[str, Any]:
    """The ledger fields of a ticket as its events say they are."""
    state: dict[str, Any] = dict.fromkeys(LEDGER_FIELDS)
    state.update(urgent=False, confidence=1.0, chat_is_private=False, agenda=False)
    for event in events:
        for field, value in event.changes.items():
            state[field] = _decode(field, value)
    return state


def ledger_fields(ticket: Ticket) -> dict[str, Any]:
    return {field: getattr(ticket, field) for field in LEDGER_FIELDS}


def ticket_facts(session: Session, *, created_before: dt.datetime | None = None) -> list[TicketFacts]:
    """Every ticket as the rates see it, with all the ratings its events recorded."""
    query = select(Ticket).order_by(col(Ticket.id))
    if created_before is not None:
        query = query.where(col(Ticket.created_at) < created_before)
    ratings: dict[int, list[tuple[dt.datetime, str]]] = {}
    for event in session.exec(select(TicketEvent).where(TicketEvent.action == Action.RATE.value)):
        ratings.setdefault(event.ticket_id, []).append((event.at, event.changes["rating"]))
    return [
        TicketFacts(
            number=t.id, category=t.category, grid_id=t.grid_id, location=t.location, assignee_id=t.assignee_id,
            status=Status(t.status), created_at=t.created_at, response_due_at=t.response_due_at,
            first_response_at=t.first_response_at, resolution_due_at=t.resolution_due_at, resolved_at=t.resolved_at,
            ratings=tuple(sorted(ratings.get(t.id, []))), unit_id=t.unit_id, dispatched_at=t.dispatched_at,
            unit_response_due_at=t.unit_response_due_at, unit_first_response_at=t.unit_first_response_at,
            unit_resolution_due_at=t.unit_resolution_due_at, source=t.source,
        )
        for t in session.exec(query)
    ]
