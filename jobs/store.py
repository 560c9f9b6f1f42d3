"""The jobs' I/O: a snapshot of the ledger for the pure job functions, and carrying an occurrence out.

An occurrence is carried out inside the caller's transaction: its ticket events through `apply_action`
(the only code that changes a ticket), the tickets it opens for undecided triage items, its replies into the
outbox and a `job_run` row. The row's unique
(job, period) key is checked first and enforced by the database, so an occurrence happens once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import replace

from sqlmodel import Session, select

from jobs.model import Occurrence, Pending, TriageOpening
from ledger.lifecycle import IllegalTransition, Status, next_status
from storage import job_queries
from storage.messages import enqueue
from storage.models import JobRun
from storage.tickets import BOT, Actor, apply_action, get_ticket, open_ticket
from storage.triage import Decision, decide, get_item

log = logging.getLogger(__name__)


def done_periods(session: Session, occurrences: Iterable[Occurrence | Pending]) -> set[tuple[str, str]]:
    """Which of `occurrences` were carried out before (a check runs every minute: no row is read for nothing)."""
    return job_queries.done_periods(session, ((o.job, o.period) for o in occurrences))


def job_run(session: Session, job: str, period: str) -> JobRun | None:
    return session.exec(select(JobRun).where(JobRun.job == job, JobRun.period == period)).first()


def carry_out(session: Session, occurrence: Occurrence, *, now: dt.datetime) -> bool:
    """Record the occurrence's events, queue its replies and mark it done; False if it was done before.

    An occurrence whose tickets all moved on in the meantime (the transition table refuses their events) is
    still marked done, with nothing sent: the moment it was for has passed. When only some moved on (a handover
    of several tickets, one accepted meanwhile), the others' events are recorded and the messages sent.
    """
    if job_run(session, occurrence.job, occurrence.period) is not None:
        return False
    replies = occurrence.replies
    applicable = []
    for change in occurrence.changes:
        ticket = get_ticket(session, change.ticket_id)
        try:
            if ticket is None:
                raise LookupError(f"ticket {change.ticket_id} is gone")
            next_status(change.action, Status(ticket.status))
        except (IllegalTransition, LookupError) as refused:
            job, period = occurrence.job, occurrence.period
            log.warning("%s %s no longer applies to #%s: %s", job, period, change.ticket_id, refused)
        else:
            applicable.append((change, ticket))
    if occurrence.changes and not applicable:
        replies = ()
    for change, ticket in applicable:
        apply_action(session, ticket, change.action, actor=BOT, now=now, note=change.note, changes=change.changes)
    for reply in replies:
        enqueue(session, reply, now=now)
    for opening in occurrence.openings:
        _open(session, occurrence, opening, now)
    session.add(
        JobRun(
            job=occurrence.job, period=occurrence.period, due_at=occurrence.due_at, ran_at=now, sent=len(replies),
            output=occurrence.output,
        )
    )
    session.flush()
    return True


def _open(session: Session, occurrence: Occurrence, opening: TriageOpening, now: dt.datetime) -> None:
    """Open the triage item's ticket and tell its assignee; nothing when a cadre decided the item meanwhile."""
    item = get_item(session, opening.item_id)
    if item is None or item.decision is not None:
        log.warning("%s %s no longer applies: P%s was decided", occurrence.job, occurrence.period, opening.item_id)
        return
    ticket = open_ticket(
        session, now=now, reporter=Actor(item.sender_id, item.sender_name), fields=opening.fields, note=opening.note,
        assignee_id=opening.assignee_id,
    )
    decide(session, item, Decision.TIMED_OUT, by=BOT.id, now=now, ticket_id=ticket.id)
    text = opening.notice.text.format(**opening.notice_fields, number=ticket.id)
    enqueue(session, replace(opening.notice, text=text, ticket_id=ticket.id), now=now)
