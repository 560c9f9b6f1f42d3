"""Inbound idempotency and the outbox."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from ledger.dedup import Earlier
from ledger.messages import Incoming, Outgoing
from storage.models import InboundMessage, OutboxMessage


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


def enqueue(session: Session, outgoing: Outgoing, *, now: dt.datetime) -> OutboxMessage:
    row = OutboxMessage(
        chat_id=outgoing.chat_id,
        chat_name=outgoing.chat_name,
        text=outgoing.text,
        mention_ids=list(outgoing.mention_ids),
        is_private=outgoing.is_private,
        ticket_id=outgoing.ticket_id,
        created_at=now,
    )
    session.add(row)
    return row


def pending(session: Session, limit: int = 100) -> list[OutboxMessage]:
    return list(
        session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.sent_at).is_(None))
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        )
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


def mark_sent(session: Session, row_id: int, *, now: dt.datetime) -> None:
    row = session.get(OutboxMessage, row_id)
    if row is not None and row.sent_at is None:
        row.sent_at = now
        session.add(row)
