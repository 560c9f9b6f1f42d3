"""督办: the 街道's list of overdue tickets across its communities, as the staff read it on a phone.

The same text answers a staff member's `督办` in private and is sent to every staff member each day (the 街道's
daily overdue list). It names each community, the ticket's category, place, owner (or partner unit) and how long
it is overdue; the full list is on the 街道's board.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ledger import wording as w
from ledger.wording import format_time
from settings.street import Street

SHOWN = 10
"""Tickets listed in one message (a phone screen); the counts cover them all."""



@dataclass(frozen=True)
class OverdueTicket:
    community_id: str
    number: int
    category: str
    location: str | None
    assignee_id: str | None
    unit_id: str | None
    status: str
    due_at: dt.datetime


@dataclass(frozen=True)
class Names:
    """How the list names a community, a category, and a ticket's owner (the cadre, or the unit it went to)."""

    community: Callable[[str], str]
    category: Callable[[str, str], str]
    owner: Callable[[OverdueTicket], str | None]


def overdue_text(
    street: str, tickets: Sequence[OverdueTicket], counts: Mapping[str, int], names: Names, *,
    now: dt.datetime, tz: dt.tzinfo, board_url: str,
) -> str:  # fmt: skip
    """The 督办 message: the heading with the counts by community, then the longest overdue tickets."""
    time = format_time(now, tz)
    total = sum(counts.values())
    if not total:
        return w.OVERDUE_NONE.format(street=street, time=time)
    by_community = "，".join(
        w.OVERDUE_BY_COMMUNITY.format(community=names.community(c), count=n)
        for c, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    )
    lines = [w.OVERDUE_HEADING.format(street=street, time=time, total=total) + "：" + by_community]
    for ticket in tickets[:SHOWN]:
        owner = names.owner(ticket)
        lines.append(
            w.OVERDUE_LINE.format(
                number=ticket.number, community=names.community(ticket.community_id),
                category=names.category(ticket.community_id, ticket.category), place=ticket.location or "",
                owner=w.OVERDUE_OWNER.format(name=owner) if owner else "", late=lateness(now - ticket.due_at),
            )
        )  # fmt: skip
    if total > min(len(tickets), SHOWN):
        lines.append(w.OVERDUE_MORE.format(more=total - min(len(tickets), SHOWN), url=board_url))
    return "\n".join(lines)


def lateness(late: dt.timedelta) -> str:
    """`3天` from a day on, `5小时` under a day, `不到1小时` under an hour."""
    if late >= dt.timedelta(days=1):
        return w.OVERDUE_DAYS.format(days=late.days)
    hours = int(late.total_seconds() // 3600)
    return w.OVERDUE_HOURS.format(hours=hours) if hours else w.OVERDUE_LESS_THAN_AN_HOUR


def names_in(street: Street) -> Names:
    """Names as each ticket's own community calls them (its config file: community, category, cadre, unit)."""

    def community(community_id: str) -> str:
        found = street.community(community_id)
        return found.community.name if found else community_id

    def category(community_id: str, category_id: str) -> str:
        found = street.community(community_id)
        category = found.category(category_id) if found else None
        return category.name if category else category_id

    def owner(ticket: OverdueTicket) -> str | None:
        found = street.community(ticket.community_id)
        if found is None:
            return None
        unit = found.unit(ticket.unit_id)
        cadre = found.cadre(ticket.assignee_id) if ticket.assignee_id else None
        return unit.name if unit else (cadre.name if cadre else None)

    return Names(community, category, owner)
