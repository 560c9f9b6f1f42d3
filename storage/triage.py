"""Triage items (`P7`): messages held for a cadre's 登记 or 忽略 instead of being answered in public.

An item is decided once: registered (a cadre opened the ticket), ignored (a cadre said it is no problem) or
timed_out (nobody answered within the guessed category's first-response limit, so the job opened it).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from storage.db import core_connection, session_community
from storage.models import TriageItem, column_defaults


class Decision(StrEnum):
    REGISTERED = "registered"
    IGNORED = "ignored"
    TIMED_OUT = "timed_out"


def hold(session: Session, *, now: dt.datetime, fields: dict[str, Any]) -> int:
    """Keep a message for triage; `fields` are `TriageItem` columns. Returns the item's number.

    A Core insert, with the session's community: the caller needs only the number, and an object added and flushed
    cost a held message several times its row."""
    row = {**_ITEM_DEFAULTS, "created_at": now, **fields}
    row["community_id"] = session_community(session) or row["community_id"]
    return core_connection(session).execute(_INSERT_ITEM, row).inserted_primary_key[0]


_ITEM_DEFAULTS = column_defaults(TriageItem)
_INSERT_ITEM = insert(TriageItem.__table__)


def get_item(session: Session, number: int) -> TriageItem | None:
    return session.get(TriageItem, number)


def pending_items(session: Session) -> list[TriageItem]:
    """Items nobody has decided yet, the one due first first."""
    query = select(TriageItem).where(col(TriageItem.decision).is_(None)).order_by(col(TriageItem.response_due_at))
    return list(session.exec(query))


def decide(
    session: Session, item: TriageItem, decision: Decision, *, by: str, now: dt.datetime, ticket_id: int | None = None
) -> None:
    item.decision = decision.value
    item.decided_by = by
    item.decided_at = now
    item.ticket_id = ticket_id
    session.add(item)
    session.flush()
