"""Inbound idempotency and the outbox: queueing replies and recording how each delivery went.

Several bot processes may share one PostgreSQL ledger (one per WeChat account). What keeps them apart is in
the database, not in any process's memory:

- a message id is recorded once (`record_inbound`: insert, or nothing on conflict); the same message under
  another id (two accounts in one group each receive it) is recognised by `repeat_of`, whose key
  (chat, sender, text) is a primary key, so the second process waits for the first one's transaction and
  then sees its row;
- an outbox row is claimed by one sender only (`claim`: `SELECT … FOR UPDATE SKIP LOCKED` over rows nobody
  has in flight, all or nothing); a process may be given the chats it owns (`chats`), and then reads and
  claims only their rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Insert, Table, bindparam, insert, or_, union, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from ledger.dedup import Earlier, is_repeat, may_repeat, text_hash
from ledger.messages import Incoming, Outgoing
from storage.db import community_params, core_connection, in_community
from storage.models import CadreRecord, InboundFingerprint, InboundMessage, Member, OutboxMessage, TicketReporter

# A row in flight (claimed, no answer recorded) longer than this is taken to belong to a sender that died
# mid-send, and may be claimed again (by another process; the restarted one holds such rows at its start).
IN_FLIGHT_STALE = dt.timedelta(minutes=2)


def _insert(session: Session, table: type) -> postgresql.Insert | sqlite.Insert:
    """An INSERT in the dialect of `session` (both have ON CONFLICT DO NOTHING)."""
    return _dialect_insert(session.get_bind().dialect.name)(table)


def _dialect_insert(dialect: str) -> Callable[[Table], postgresql.Insert | sqlite.Insert]:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def record_inbound(session: Session, incoming: Incoming, *, now: dt.datetime) -> bool:
    """Store the message id; False when it was handled before (a redelivery), also by another process:
    a concurrent insert of the same id waits for the other transaction and then inserts nothing."""
    return record_inbound_all(session, [(incoming, now)])[0]


def record_inbound_all(session: Session, received: Sequence[tuple[Incoming, dt.datetime]]) -> list[bool]:
    """`record_inbound` for each (message, time received) of a batch, in one statement: whether each is new (not
    handled before, nor earlier in the batch)."""
    rows = [_inbound_row(incoming, now) for incoming, now in received]
    statement = _record_inbound(session.get_bind().dialect.name)
    inserted = {row.message_id for row in core_connection(session).execute(statement, rows)}
    new = []
    for incoming, _now in received:
        new.append(incoming.message_id in inserted)
        inserted.discard(incoming.message_id)
    return new


def _inbound_row(incoming: Incoming, now: dt.datetime) -> dict[str, Any]:
    return {
        "message_id": incoming.message_id, "chat_id": incoming.chat_id, "sender_id": incoming.sender_id,
        "kind": incoming.kind.value, "text": incoming.text, "received_at": now,
    }  # fmt: skip


@cache
def _record_inbound(dialect: str) -> postgresql.Insert | sqlite.Insert:
    """`record_inbound`'s statement, built once (every message runs it); the row comes as its parameters."""
    table = InboundMessage.__table__
    insert_row = _dialect_insert(dialect)(table)
    return insert_row.on_conflict_do_nothing(index_elements=[table.c.message_id]).returning(table.c.message_id)


def attach(session: Session, message_ids: Collection[str], ticket_id: int) -> None:
    """The received messages `message_ids` (photos, voice notes, files, links) belong to ticket `ticket_id`."""
    if message_ids:
        session.execute(
            update(InboundMessage).where(col(InboundMessage.message_id).in_(list(message_ids))).values(ticket_id=ticket_id)
        )


def move_attachments(session: Session, from_ticket: int, to_ticket: int) -> None:
    """What was attached to `from_ticket` now belongs to `to_ticket` (合并: a duplicate folded into it)."""
    moved = update(InboundMessage).where(col(InboundMessage.ticket_id) == from_ticket).values(ticket_id=to_ticket)
    session.execute(moved)


def attachments(session: Session, ticket_id: int, kinds: Collection[str]) -> list[str]:
    """The ids of the messages of `kinds` attached to ticket `ticket_id`, in the order they were received."""
    rows = session.exec(
        select(InboundMessage.message_id)
        .where(InboundMessage.ticket_id == ticket_id, col(InboundMessage.kind).in_(list(kinds)))
        .order_by(col(InboundMessage.received_at), col(InboundMessage.message_id))
    )
    return list(rows)


def repeat_of(session: Session, incoming: Incoming, *, now: dt.datetime, window: dt.timedelta) -> str | None:
    """The id of the message `incoming` repeats (same chat, sender and text, the last one seen within `window`),
    else None; either way `incoming` is now the last one seen. Enforced by the database: the (chat, sender,
    text) row is inserted or locked, so of two processes handling the same message together the second waits
    for the first's transaction and finds its row."""
    if not may_repeat(incoming, window):
        return None
    key = {"chat_id": incoming.chat_id, "sender_id": incoming.sender_id, "text_hash": text_hash(incoming.text)}
    inserted = session.execute(
        _insert(session, InboundFingerprint)
        .values(**key, message_id=incoming.message_id, seen_at=now)
        .on_conflict_do_nothing(index_elements=list(key))
        .returning(InboundFingerprint.message_id)
    ).first()
    if inserted is not None:
        return None
    row = session.exec(
        select(InboundFingerprint)
        .where(*(getattr(InboundFingerprint, name) == value for name, value in key.items()))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    original = row.message_id if is_repeat(row.seen_at, now=now, window=window) else None
    if original is None:
        row.message_id = incoming.message_id
    row.seen_at = max(row.seen_at, now)
    session.add(row)
    session.flush()
    return original


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
    row = OutboxMessage(**_outbox_row(outgoing, known_names(session, outgoing.mention_ids), now))
    session.add(row)
    return row


def outbox_rows(
    session: Session, replies: Sequence[Outgoing], *, now: dt.datetime, at_hand: dict[str, set[str]] | None = None
) -> list[dict[str, Any]]:
    """The outbox rows of `replies`, for `enqueue_rows`: what `enqueue` writes for each.

    The names the replies mention people by are looked up once for all of them, and not at all when `at_hand`
    (names the caller knows: the sender's, the cadres') gives each mention a name its text addresses (most replies
    mention only the sender and a cadre)."""
    known = at_hand or {}
    if not all(name for reply in replies for name in mention_names(reply.text, reply.mention_ids, known)):
        known = known_names(session, {contact for reply in replies for contact in reply.mention_ids})
    return [_outbox_row(reply, known, now) for reply in replies]


def enqueue_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Queue `outbox_rows` in order, with one insert (a message's replies, or a whole batch's: nothing a message
    is handled with reads the outbox, so its rows can wait for the end of the batch)."""
    if rows:
        core_connection(session).execute(_enqueue(), rows)


@cache
def _enqueue() -> Insert:
    return insert(OutboxMessage.__table__)


def _outbox_row(outgoing: Outgoing, known: dict[str, set[str]], now: dt.datetime) -> dict[str, Any]:
    return {
        "chat_id": outgoing.chat_id,
        "chat_name": outgoing.chat_name,
        "text": outgoing.text,
        "mention_ids": list(outgoing.mention_ids),
        "mention_names": mention_names(outgoing.text, outgoing.mention_ids, known),
        "is_private": outgoing.is_private,
        "ticket_id": outgoing.ticket_id,
        "created_at": now,
        "attempts": 0,
        "forward_message_id": outgoing.forward_message_id,
    }


def known_names(session: Session, contact_ids: Collection[str]) -> dict[str, set[str]]:
    """Every name the ledger knows each contact by: as a resident, as a reporter of a ticket, as a cadre (of the
    session's community, when it has one)."""
    names: dict[str, set[str]] = {}
    if not contact_ids:
        return names
    scope = community_params(session)
    rows = core_connection(session).execute(_known_names(bool(scope)), {"ids": list(contact_ids), **scope})
    for contact_id, name in rows:
        names.setdefault(contact_id, set()).add(name)
    return names


@cache
def _known_names(scoped: bool) -> CompoundSelect:
    """`known_names`' one query (residents, reporters, cadres), built once; `scoped`: of one community."""
    ids = bindparam("ids", expanding=True)
    reporter, cadre = TicketReporter.__table__, CadreRecord.__table__
    reporters = select(reporter.c.member_id, reporter.c.member_name).where(reporter.c.member_id.in_(ids))
    cadres = select(cadre.c.chat_id, cadre.c.name).where(cadre.c.chat_id.in_(ids))
    if scoped:
        reporters, cadres = reporters.where(in_community(reporter)), cadres.where(in_community(cadre))
    member = Member.__table__
    return union(select(member.c.id, member.c.name).where(member.c.id.in_(ids)), reporters, cadres)


def mention_names(text: str, contact_ids: Iterable[str], known: dict[str, set[str]]) -> list[str]:
    """For each mentioned contact, the name the text addresses it by (`@name ` in it), longest first; else ""."""
    found = []
    for contact_id in contact_ids:
        candidates = sorted(known.get(contact_id, ()), key=len, reverse=True)
        found.append(next((n for n in candidates if n and _addresses(text, n)), ""))
    return found


def _addresses(text: str, name: str) -> bool:
    """Whether `text` has `@name` (or `＠name`) followed by a space or WeChat's mention space (U+2005)."""
    return any(f"{at}{name}{space}" in text for at in "@＠" for space in " \u2005")


def pending(
    session: Session,
    limit: int = 100,
    *,
    chats: Collection[str] | None = None,
    claimable_at: dt.datetime | None = None,
) -> list[OutboxMessage]:
    """Rows still to deliver (waiting, sending or backing off; not failed), oldest first.

    `chats`: only rows to these chats (ids or names; None: every chat). `claimable_at`: only rows a sender may
    claim at that time, i.e. leaving out rows another sender has in flight (see `claimable`)."""
    query = select(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None), col(OutboxMessage.failed_at).is_(None))
    if chats is not None:
        query = query.where(owned_by(chats))
    if claimable_at is not None:
        query = query.where(claimable(claimable_at))
    return list(session.exec(query.order_by(col(OutboxMessage.id)).limit(limit)))


def owned_by(chats: Collection[str]) -> ColumnElement[bool]:
    """Rows to one of `chats`, named by id or by name (a puppet knows its rooms by both)."""
    names = list(chats)
    return or_(col(OutboxMessage.chat_id).in_(names), col(OutboxMessage.chat_name).in_(names))


def claimable(now: dt.datetime) -> ColumnElement[bool]:
    """Not in flight: never claimed, or its last try ended (`retry_at` set by a failure, or by `hold_in_flight`
    for a row a dead process left), or claimed so long ago (IN_FLIGHT_STALE) that its sender must be dead."""
    return or_(
        col(OutboxMessage.claimed_at).is_(None),
        col(OutboxMessage.retry_at).is_not(None),
        col(OutboxMessage.claimed_at) < now - IN_FLIGHT_STALE,
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
        forward_message_id=row.forward_message_id,
    )


def claim(session: Session, row_ids: Iterable[int], *, now: dt.datetime) -> list[int]:
    """Before the transport is called: this is an attempt, and the rows are in flight (commit before sending).

    All or nothing: returns `row_ids` when every row was claimed here, else [] and nothing changed (another
    sender has one of them in flight or delivered it, or is claiming it right now). On PostgreSQL the rows are
    locked `FOR UPDATE SKIP LOCKED` until the caller commits, so two senders claiming together never both win."""
    ids = list(dict.fromkeys(row_ids))
    query = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(ids),
            col(OutboxMessage.sent_at).is_(None),
            col(OutboxMessage.failed_at).is_(None),
            claimable(now),
        )
        .order_by(col(OutboxMessage.id))
        .execution_options(populate_existing=True)
    )
    if _is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    rows = list(session.exec(query))
    if len(rows) != len(ids):
        return []
    for row in rows:
        row.attempts += 1
        row.claimed_at = now
        row.retry_at = None  # in flight now: nobody else may claim it until this try is recorded
        session.add(row)
    session.flush()
    return ids


def claim_next(
    session: Session, *, now: dt.datetime, chats: Collection[str] | None = None, skip: Collection[int] = ()
) -> OutboxMessage | None:
    """The oldest row this sender may deliver (in `chats`, not in `skip`), claimed; None when there is none.
    One statement on PostgreSQL (`FOR UPDATE SKIP LOCKED`): rows another sender is claiming are passed over."""
    query = select(OutboxMessage).where(
        col(OutboxMessage.sent_at).is_(None), col(OutboxMessage.failed_at).is_(None), claimable(now)
    )
    if chats is not None:
        query = query.where(owned_by(chats))
    if skip:
        query = query.where(col(OutboxMessage.id).not_in(list(skip)))
    query = query.order_by(col(OutboxMessage.id)).limit(1).execution_options(populate_existing=True)
    if _is_postgresql(session):
        query = query.with_for_update(skip_locked=True)
    row = session.exec(query).first()
    if row is None:
        return None
    row.attempts += 1
    row.claimed_at = now
    row.retry_at = None
    session.add(row)
    session.flush()
    return row


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


def hold_in_flight(session: Session, *, until: dt.datetime, chats: Collection[str] | None = None) -> int:
    """At start: rows a previous process left in flight (optionally in these chats) wait until `until` for
    their echo before being resent."""
    rows = in_flight(session)
    if chats is not None:
        owned = set(chats)
        rows = [row for row in rows if row.chat_id in owned or row.chat_name in owned]
    for row in rows:
        row.retry_at = until if row.retry_at is None else max(row.retry_at, until)
        session.add(row)
    return len(rows)
