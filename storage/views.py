"""Tickets as the pure job and agenda functions read them (`ledger.views.TicketView`)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from ledger.lifecycle import Action, Status
from ledger.views import TicketView
from storage.models import Ticket, TicketEvent, TicketReporter

_DEADLINE_ACTIONS = (Action.CREATE.value, Action.REOPEN.value, Action.COMMIT.value)


def ticket_views(session: Session, statuses: frozenset[Status] | None = None) -> list[TicketView]:
    """Every ticket (or those in `statuses`) with its active reporters and the start of its deadlines."""
    query = select(Ticket).order_by(col(Ticket.id))
    if statuses is not None:
        query = query.where(col(Ticket.status).in_([s.value for s in statuses]))
    tickets = list(session.exec(query))
    if not tickets:
        return []
    ids = [t.id for t in tickets]
    reporters: dict[int, list[tuple[str, str]]] = {}
    for row in session.exec(
        select(TicketReporter)
        .where(col(TicketReporter.ticket_id).in_(ids), TicketReporter.active)
        .order_by(col(TicketReporter.id))
    ):
        reporters.setdefault(row.ticket_id, []).append((row.member_id, row.member_name))
    resolution_since: dict[int, dt.datetime] = {}
    committed_at: dict[int, dt.datetime] = {}
    for event in session.exec(
        select(TicketEvent)
        .where(col(TicketEvent.ticket_id).in_(ids), col(TicketEvent.action).in_(_DEADLINE_ACTIONS))
        .order_by(col(TicketEvent.id))
    ):
        if "resolution_due_at" in event.changes:
            resolution_since[event.ticket_id] = event.at
        if "commitment_date" in event.changes:
            committed_at[event.ticket_id] = event.at
    return [
        TicketView(
            number=t.id, status=Status(t.status), category=t.category, location=t.location, grid_id=t.grid_id,
            chat_id=t.chat_id, chat_name=t.chat_name, chat_is_private=t.chat_is_private, assignee_id=t.assignee_id,
            created_at=t.created_at, response_due_at=t.response_due_at, first_response_at=t.first_response_at,
            resolution_due_at=t.resolution_due_at, resolution_since=resolution_since.get(t.id),
            resolved_at=t.resolved_at, commitment_date=t.commitment_date, committed_at=committed_at.get(t.id),
            rating=t.rating, agenda=t.agenda, reporters=tuple(reporters.get(t.id, ())), unit_id=t.unit_id,
            dispatched_at=t.dispatched_at, unit_response_due_at=t.unit_response_due_at,
            unit_resolution_due_at=t.unit_resolution_due_at, unit_first_response_at=t.unit_first_response_at,
            source=t.source, published_at=t.published_at,
        )
        for t in tickets
    ]
