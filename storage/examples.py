"""Labelled examples for `huiyin train`: every 改类 a cadre made, read back from the audit trail.

A recategorisation is a `ticket_event` with action `recategorise` whose changes hold the new
`category` and whose note holds the old one; the ticket's description is the resident's text. So
the examples need no table of their own, cannot drift from the ledger, and a later 改类 of the same
ticket supersedes the earlier one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from ledger.lifecycle import Action
from storage.models import Ticket, TicketEvent


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
