"""The jobs' I/O: a snapshot of the ledger for the pure job functions, and carrying an occurrence out.

An occurrence is carried out inside the caller's transaction: its ticket events through `apply_action`
(the only code that changes a ticket), its replies into the outbox and a `job_run` row. The row's unique
(job, period) key is checked first and enforced by the database, so an occurrence happens once.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlmodel import Session, col, select

from jobs.model import Occurrence, TicketView
from ledger.lifecycle import Action, IllegalTransition, Status, next_status
from storage.messages import enqueue
from storage.models import JobRun, Ticket, TicketEvent, TicketReporter
from storage.tickets import BOT, apply_action, get_ticket

log = logging.getLogger(__name__)

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
            rating=t.rating, agenda=t.agenda, reporters=tuple(reporters.get(t.id, ())),
        )
        for t in tickets
    ]


def done_periods(session: Session, occurrences: list[Occurrence]) -> set[tuple[str, str]]:
    """Which of `occurrences` were carried out before, in one query (a check runs every minute)."""
    if not occurrences:
        return set()
    jobs = {o.job for o in occurrences}
    earliest = min(o.due_at for o in occurrences)
    rows = session.exec(
        select(JobRun.job, JobRun.period).where(col(JobRun.job).in_(jobs), col(JobRun.due_at) >= earliest)
    )
    return {(job, period) for job, period in rows}


def job_run(session: Session, job: str, period: str) -> JobRun | None:
    return session.exec(select(JobRun).where(JobRun.job == job, JobRun.period == period)).first()


def carry_out(session: Session, occurrence: Occurrence, *, now: dt.datetime) -> bool:
    """Record the occurrence's events, queue its replies and mark it done; False if it was done before.

    An occurrence whose ticket moved on in the meantime (the transition table refuses the event) is
    still marked done, with nothing sent: the moment it was for has passed.
    """
    if job_run(session, occurrence.job, occurrence.period) is not None:
        return False
    replies = occurrence.replies
    tickets = [get_ticket(session, change.ticket_id) for change in occurrence.changes]
    try:
        for change, ticket in zip(occurrence.changes, tickets, strict=True):
            if ticket is None:
                raise LookupError(f"ticket {change.ticket_id} is gone")
            next_status(change.action, Status(ticket.status))
    except (IllegalTransition, LookupError) as refused:
        log.warning("%s %s no longer applies: %s", occurrence.job, occurrence.period, refused)
        replies = ()
    else:
        for change, ticket in zip(occurrence.changes, tickets, strict=True):
            apply_action(session, ticket, change.action, actor=BOT, now=now, note=change.note, changes=change.changes)
    for reply in replies:
        enqueue(session, reply, now=now)
    session.add(
        JobRun(
            job=occurrence.job, period=occurrence.period, due_at=occurrence.due_at, ran_at=now, sent=len(replies),
            output=occurrence.output,
        )
    )
    session.flush()
    return True
