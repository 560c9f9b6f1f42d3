"""What the 街道 reads across its communities, in a session of no community: whose a ticket or a resident is, the
overdue tickets of every community (督办), and counts by community and category. The three rates per community
are `storage.board_queries.rates_by_community` (the same SQL as every other rate)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import func
from sqlmodel import Session, col, select

from ledger.lifecycle import NOT_COUNTED
from ledger.rates import Period
from ledger.supervision import OverdueTicket
from storage.board_queries import is_open, overdue_at
from storage.models import Member, Ticket


def community_of_ticket(session: Session, number: int) -> str | None:
    """The community ticket `number` belongs to (numbers run across the ledger), or None when there is none."""
    return session.exec(select(Ticket.community_id).where(Ticket.id == number)).first()


def community_of_member(session: Session, member_id: str) -> str | None:
    """The community a resident last wrote in, in a group (None: never in a group, or not known)."""
    return session.exec(select(Member.community_id).where(Member.id == member_id)).first()


def overdue_tickets(session: Session, now: dt.datetime, *, limit: int) -> list[OverdueTicket]:
    """Open tickets past their resolution deadline at `now`, in every community, the longest overdue first."""
    query = (
        select(
            Ticket.community_id, Ticket.id, Ticket.category, Ticket.location, Ticket.assignee_id, Ticket.unit_id,
            Ticket.status, Ticket.resolution_due_at,
        )
        .where(is_open, overdue_at(now))
        .order_by(col(Ticket.resolution_due_at), col(Ticket.id))
        .limit(limit)
    )  # fmt: skip
    return [OverdueTicket(*row) for row in session.exec(query)]


def overdue_by_community(session: Session, now: dt.datetime) -> Counter[str]:
    """How many open tickets of each community are past their resolution deadline at `now`."""
    query = select(Ticket.community_id, func.count()).where(is_open, overdue_at(now)).group_by(col(Ticket.community_id))
    return Counter({community: int(count) for community, count in session.exec(query)})


def received_by_category(session: Session, period: Period) -> Counter[str]:
    """The period's received tickets of every community by category id."""
    created, counted = col(Ticket.created_at), col(Ticket.status).not_in(sorted(s.value for s in NOT_COUNTED))
    query = (
        select(Ticket.category, func.count())
        .where(counted, created >= period.start, created < period.end)
        .group_by(col(Ticket.category))
    )
    return Counter({category: int(count) for category, count in session.exec(query)})
