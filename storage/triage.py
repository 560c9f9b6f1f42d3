"""Triage items (`P7`): messages held for a cadre's 登记 or 忽略 instead of being answered in public.

An item is decided once: registered (a cadre opened the ticket), ignored (a cadre said it is no problem) or
timed_out (nobody answered within the guessed category's first-response limit, so the job opened it).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from storage.models import TriageItem


class Decision(StrEnum):
    REGISTERED = "registered"
    IGNORED = "ignored"
    TIMED_OUT = "timed_out"


def hold(session: Session, *, now: dt.datetime, fields: dict[str, Any]) -> TriageItem:
    """Keep a message for triage; `fields` are `TriageItem` columns. The item has its number when this returns."""
    item = TriageItem(created_at=now, **fields)
    session.add(item)
    session.flush()
    return item


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
