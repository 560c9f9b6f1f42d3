"""Everything the board shows, read from the ledger in one go per request (the board never writes).

Only tickets are loaded as ORM objects; reporters, notes and messages are read as plain columns, which
keeps a request on a ledger of thousands of tickets well under a second.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from ledger.lifecycle import Action
from ledger.rates import TicketFacts
from storage.db import new_session
from storage.models import Member, OutboxMessage, Ticket, TicketEvent, TicketReporter
from storage.schema import ledger_exists
from storage.tickets import all_tickets, ticket_facts

NOTE_ACTIONS = (Action.PROGRESS.value, Action.RESOLVE.value, Action.RETURN.value)
"""The actions whose note residents were told: the latest one is a ticket's 办理情况."""


@dataclass(frozen=True)
class Reporter:
    member_name: str
    active: bool


@dataclass(frozen=True)
class Announcement:
    text: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Note:
    """What a cadre wrote when reporting progress, resolving or returning a ticket (`NOTE_ACTIONS`)."""

    text: str
    at: dt.datetime


@dataclass(frozen=True)
class LedgerSnapshot:
    """The tickets with their reporters (active or not), cadres' notes, facts for the rates, and public messages.

    `announcements` holds, per ticket, what the ticket's own group saw, in order: outbox rows that are not
    private and went to the chat where the problem was raised (a cadres' group alert is not what residents
    saw). `resident_names` are every name residents have used, so free text can be masked.
    """

    tickets: list[Ticket]
    reporters: dict[int, list[Reporter]] = field(default_factory=dict)
    notes: dict[int, list[Note]] = field(default_factory=dict)
    facts: dict[int, TicketFacts] = field(default_factory=dict)
    announcements: dict[int, list[Announcement]] = field(default_factory=dict)
    resident_names: frozenset[str] = frozenset()

    def latest_note(self, ticket_id: int) -> Note | None:
        notes = self.notes.get(ticket_id)
        return notes[-1] if notes else None


def load_snapshot(engine: Engine) -> LedgerSnapshot:
    if not ledger_exists(engine):  # the bot has not run on this database yet: an empty wall, not an error
        return LedgerSnapshot(tickets=[])
    with new_session(engine) as session:
        tickets = all_tickets(session)
        chats = {t.id: t.chat_id for t in tickets}
        reporters: dict[int, list[Reporter]] = defaultdict(list)
        query = select(TicketReporter.ticket_id, TicketReporter.member_name, TicketReporter.active)
        for ticket_id, name, active in session.exec(query.order_by(col(TicketReporter.id))):
            reporters[ticket_id].append(Reporter(name, active))
        notes: dict[int, list[Note]] = defaultdict(list)
        query = select(TicketEvent.ticket_id, TicketEvent.note, TicketEvent.at).where(
            col(TicketEvent.action).in_(NOTE_ACTIONS), TicketEvent.note != ""
        )
        for ticket_id, note, at in session.exec(query.order_by(col(TicketEvent.id))):
            notes[ticket_id].append(Note(note, at))
        announcements: dict[int, list[Announcement]] = defaultdict(list)
        query = select(OutboxMessage.ticket_id, OutboxMessage.chat_id, OutboxMessage.text, OutboxMessage.created_at)
        query = query.where(col(OutboxMessage.ticket_id).is_not(None), ~col(OutboxMessage.is_private))
        for ticket_id, chat_id, text, created_at in session.exec(query.order_by(col(OutboxMessage.id))):
            if ticket_id in chats and chat_id == chats[ticket_id]:
                announcements[ticket_id].append(Announcement(text, created_at))
        names = set(session.exec(select(Member.name)))
        names |= {r.member_name for rows in reporters.values() for r in rows}
        return LedgerSnapshot(
            tickets=tickets, reporters=dict(reporters), notes=dict(notes),
            facts={f.number: f for f in ticket_facts(session)}, announcements=dict(announcements),
            resident_names=frozenset(names),
        )  # fmt: skip
