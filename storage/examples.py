"""Labelled examples for `huiyin train`: every decision a cadre made about a message, read back from the ledger.

- 改类: a `ticket_event` with action `recategorise` whose changes hold the new `category` and whose note holds
  the old one; the ticket's description is the resident's text. A later 改类 of the same ticket supersedes the
  earlier one. Its intent is the ticket's: urgent, else report.
- 登记 P7: the triage item's text, labelled with its ticket's category (as it is now, after any 改类) and the
  intent the classifier guessed (report or inquiry); 忽略 P7: the text as chatter (label `none`).

So the examples need no table of their own and cannot drift from the ledger. Items the job opened because
nobody answered are no one's decision and are left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from ledger.lifecycle import Action
from storage.models import Ticket, TicketEvent, TriageItem
from storage.triage import Decision

NO_LABEL = "none"  # the label of chatter, as `huiyin train` reads it


@dataclass(frozen=True)
class LabelledExample:
    ticket_id: int
    text: str
    label: str
    previous: str
    actor_id: str
    at: dt.datetime


def recategorised_examples(session: Session) -> list[LabelledExample]:
    """One example per recategorised ticket (its latest 改类), oldest ticket first."""
    rows = session.exec(
        select(TicketEvent, Ticket)
        .where(TicketEvent.action == Action.RECATEGORISE.value, TicketEvent.ticket_id == Ticket.id)
        .order_by(col(TicketEvent.ticket_id), col(TicketEvent.id))
    ).all()
    latest: dict[int, LabelledExample] = {}
    for event, ticket in rows:
        latest[ticket.id] = LabelledExample(
            ticket.id, ticket.description, event.changes["category"], event.note, event.actor_id, event.at
        )
    return list(latest.values())


@dataclass(frozen=True)
class TrainingRow:
    """One row of `huiyin examples`: `text,label,intent`, with the decision it comes from and when."""

    text: str
    label: str
    intent: str
    decision: str  # 改类, 登记 or 忽略
    at: dt.datetime


def training_rows(session: Session) -> list[TrainingRow]:
    """改类, 登记 and 忽略 decisions as labelled rows, oldest first; a text with the same labels once."""
    rows = [
        TrainingRow(example.text, example.label, _ticket_intent(session, example.ticket_id), "改类", example.at)
        for example in recategorised_examples(session)
    ]
    decided = session.exec(
        select(TriageItem, Ticket)
        .outerjoin(Ticket, col(TriageItem.ticket_id) == col(Ticket.id))
        .where(col(TriageItem.decision).in_([Decision.REGISTERED.value, Decision.IGNORED.value]))
        .order_by(col(TriageItem.id))
    ).all()
    for item, ticket in decided:
        assert item.decided_at is not None
        if item.decision == Decision.IGNORED.value:
            rows.append(TrainingRow(item.text, NO_LABEL, "chatter", "忽略", item.decided_at))
        elif ticket is not None:
            rows.append(TrainingRow(item.text, ticket.category, item.intent, "登记", item.decided_at))
    unique = {(row.text, row.label, row.intent): row for row in sorted(rows, key=lambda row: row.at, reverse=True)}
    return sorted(unique.values(), key=lambda row: row.at)


def _ticket_intent(session: Session, ticket_id: int) -> str:
    ticket = session.get(Ticket, ticket_id)
    return "urgent" if ticket is not None and ticket.urgent else "report"
