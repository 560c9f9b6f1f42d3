"""Inbound idempotency and the outbox: queueing replies and recording how each delivery went."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable

from sqlmodel import Session, col, select

from ledger.dedup import Earlier
from ledger.messages import Incoming, Outgoing
from storage.models import CadreRecord, InboundMessage, Member, OutboxMessage, TicketReporter


def record_inbound(session: Session, incoming: Incoming, *, now: dt.datetime) -> bool:
    """Store the message id; False when it was handled before (a redelivery)."""
    if session.get(InboundMessage, incoming.message_id) is not None:
        return False
    session.add(
        InboundMessage(
            message_id=incoming.message_id,
            chat_id=incoming.chat_id,
            sender_id=incoming.sender_id,
            kind=incoming.kind.value,
            text=incoming.text,
            received_at=now,
        )
    )
    session.flush()
    return True


def recent_inbound(session: Session, *, sender_id: str, chat_id: str, since: dt.datetime) -> list[Earlier]:
    """Messages from `sender_id` in `chat_id` recorded at or after `since` (for the duplicate-delivery check)."""
    rows = session.exec(
        select(InboundMessage).where(
            InboundMessage.sender_id == sender_id,
            InboundMessage.chat_id == chat_id,
            col(InboundMessage.received_at) >= since,
        )
    )
    return [Earlier(row.message_id, row.text, row.received_at) for row in rows]


ERROR_LENGTH = 500


def enqueue(session: Session, outgoing: Outgoing, *, now: dt.datetime) -> OutboxMessage:
    row = OutboxMessage(
        chat_id=outgoing.chat_id,
        chat_name=outgoing.chat_name,
        text=outgoing.text,
        mention_ids=list(outgoing.mention_ids),
        mention_names=mention_names(outgoing.text, outgoing.mention_ids, known_names(session, outgoing.mention_ids)),
        is_private=outgoing.is_private,
        ticket_id=outgoing.ticket_id,
        created_at=now,
    )
    session.add(row)
    return row


def known_names(session: Session, contact_ids: Collection[str]) -> dict[str, set[str]]:
    """Every name the ledger knows each contact by: as a resident, as a reporter of a ticket, as a cadre."""
    names: dict[str, set[str]] = {}
    if not contact_ids:
        return names
    ids = list(contact_ids)
    queries = (
        select(Member.id, Member.name).where(col(Member.id).in_(ids)),
        select(TicketReporter.member_id, TicketReporter.member_name).where(col(TicketReporter.member_id).in_(ids)),
        select(CadreRecord.chat_id, CadreRecord.name).where(col(CadreRecord.chat_id).in_(ids)),
    )
    for query in queries:
        for contact_id, name in session.exec(query.distinct()):
            names.setdefault(contact_id, set()).add(name)
    return names


def mention_names(text: str, contact_ids: Iterable[str], known: dict[str, set[str]]) -> list[str]:
    """For each mentioned contact, the name the text addresses it by (`@name ` in it), longest first; else ""."""
    found = []
    for contact_id in contact_ids:
        candidates = sorted(known.get(contact_id, ()), key=len, reverse=True)
        found.append(next((n for n in candidates if n and re.search(rf"[@＠]{re.escape(n)}[ \u2005]", text)), ""))
    return found


def pending(session: Session, limit: int = 100) -> list[OutboxMessage]:
    """Rows still to deliver (waiting, sending or backing off; not failed), oldest first."""
    return list(
        session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.sent_at).is_(None), col(OutboxMessage.failed_at).is_(None))
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        )
    )


def failed_rows(session: Session) -> list[OutboxMessage]:
    """Rows given up on after `outbound.max_attempts` tries, oldest failure first (for the CLI and the board)."""
    return list(
        session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.failed_at).is_not(None))
            .order_by(col(OutboxMessage.failed_at), col(OutboxMessage.id))
        )
    )


def undelivered(session: Session) -> list[OutboxMessage]:
    """Everything not delivered: waiting, sending and failed rows, oldest first."""
    return list(
        session.exec(select(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None)).order_by(col(OutboxMessage.id)))
    )


def sent_since(session: Session, since: dt.datetime) -> list[tuple[str, dt.datetime]]:
    """(chat, time) of every message delivered at or after `since`, oldest first; merged rows count once."""
    rows = session.exec(
        select(OutboxMessage.chat_id, OutboxMessage.sent_at)
        .where(col(OutboxMessage.sent_at) >= since)
        .distinct()
        .order_by(col(OutboxMessage.sent_at))
    )
    return [(chat_id, sent_at) for chat_id, sent_at in rows if sent_at is not None]


def as_outgoing(row: OutboxMessage) -> Outgoing:
    return Outgoing(
        chat_id=row.chat_id,
        chat_name=row.chat_name,
        text=row.text,
        mention_ids=tuple(row.mention_ids),
        is_private=row.is_private,
        ticket_id=row.ticket_id,
    )


def claim(session: Session, row_ids: Iterable[int], *, now: dt.datetime) -> None:
    """Before the transport is called: this is an attempt, and the rows are in flight (commit before sending)."""
    for row in session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(list(row_ids)))):
        row.attempts += 1
        row.claimed_at = now
        session.add(row)


def mark_sent(session: Session, row_id: int, *, now: dt.datetime) -> None:
    row = session.get(OutboxMessage, row_id)
    if row is not None and row.sent_at is None:
        row.sent_at = now
        row.retry_at = None
        session.add(row)


def record_failure(
    session: Session, row_id: int, *, error: str, now: dt.datetime, retry_at: dt.datetime | None
) -> OutboxMessage | None:
    """A failed attempt: try again at `retry_at`, or (None) give up. Returns the row when it just failed for good.

    A row meanwhile confirmed sent (its echo arrived) is left alone. `claimed_at` stays, so a late echo of a send
    that did go out (the answer was lost) still confirms it.
    """
    row = session.get(OutboxMessage, row_id)
    if row is None or row.sent_at is not None or row.failed_at is not None:
        return None
    row.last_error = error[:ERROR_LENGTH]
    row.retry_at = retry_at
    if retry_at is None:
        row.failed_at = now
    session.add(row)
    return row if retry_at is None else None


def in_flight(session: Session, chat_ids: Collection[str] | None = None) -> list[OutboxMessage]:
    """Rows claimed for sending and not known to be sent (optionally in these chats), oldest first."""
    query = select(OutboxMessage).where(
        col(OutboxMessage.claimed_at).is_not(None),
        col(OutboxMessage.sent_at).is_(None),
        col(OutboxMessage.failed_at).is_(None),
    )
    if chat_ids is not None:
        query = query.where(col(OutboxMessage.chat_id).in_(list(chat_ids)))
    return list(session.exec(query.order_by(col(OutboxMessage.id))))


def hold_in_flight(session: Session, *, until: dt.datetime) -> int:
    """At start: rows a previous process left in flight wait until `until` for their echo before being resent."""
    rows = in_flight(session)
    for row in rows:
        row.retry_at = until if row.retry_at is None else max(row.retry_at, until)
        session.add(row)
    return len(rows)
