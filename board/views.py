"""What the wall shows of each ticket, built from a ledger snapshot by pure functions.

Public rows carry masked names and numbers (`ledger.privacy`); the cadre view asks for `masked=False`.
A ticket reported to the bot in private shows to the public without its text: category, place and status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from board import texts
from board.snapshot import LedgerSnapshot
from ledger.dates import format_day
from ledger.lifecycle import OPEN_STATES, Status
from ledger.privacy import mask_name, mask_text
from ledger.rates import is_overdue
from ledger.wording import STATUS_NAMES, format_time
from settings.models import Settings
from storage.models import Ticket

RECENT = dt.timedelta(days=7)
"""How long a resolved or closed ticket stays on the wall."""


@dataclass(frozen=True)
class TimelineEntry:
    at: str
    text: str


@dataclass(frozen=True)
class TicketRow:
    number: int
    category_id: str
    category: str
    place: str
    grid_id: str | None
    grid: str
    owner_id: str | None
    owner: str
    status: Status
    status_name: str
    is_open: bool
    overdue: bool
    urgent: bool
    recent: bool
    age: str
    deadline: str
    created: str
    created_at: dt.datetime
    description: str
    reporters: tuple[str, ...]
    last_update: str
    """The last note a cadre wrote on it (progress, resolution, return), or else its status in words."""
    last_update_at: str


@dataclass(frozen=True)
class Filters:
    grid: str = ""
    category: str = ""
    status: str = ""

    def matches(self, row: TicketRow) -> bool:
        by_status = {"open": row.is_open, "overdue": row.overdue, "resolved": not row.is_open}
        return (
            (not self.grid or row.grid_id == self.grid)
            and (not self.category or row.category_id == self.category)
            and (not self.status or by_status.get(self.status, False))
        )

    def query(self) -> str:
        """The filters as a query string, for links that keep them (such as the download)."""
        return urlencode({key: value for key, value in vars(self).items() if value})


def duration_text(delta: dt.timedelta) -> str:
    """`2天3小时`, `5小时12分`, `40分钟`."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    if days:
        return texts.DAYS_HOURS.format(days=days, hours=rest // 60)
    if rest >= 60:
        return texts.HOURS_MINUTES.format(hours=rest // 60, minutes=rest % 60)
    return texts.MINUTES.format(minutes=rest)


class Masker:
    """Masks residents' names and every phone or identity number, unless the reader is a cadre."""

    def __init__(self, settings: Settings, resident_names: Iterable[str], *, masked: bool = True) -> None:
        cadre_names = {c.name for c in settings.cadres}
        self.names = frozenset(resident_names) - cadre_names
        self.masked = masked

    def text(self, text: str) -> str:
        return mask_text(text, self.names) if self.masked else text

    def name(self, name: str) -> str:
        return mask_name(name) if self.masked else name

    def hides(self, ticket: Ticket) -> bool:
        """Whether the ticket's text (description, notes, reporters) is kept from this reader.

        A resident who wrote to the bot in private did not tell the neighbours; only cadres read it.
        """
        return self.masked and ticket.chat_is_private


def ticket_row(
    settings: Settings, snapshot: LedgerSnapshot, ticket: Ticket, now: dt.datetime, masker: Masker
) -> TicketRow:
    tz = settings.tz
    status = Status(ticket.status)
    category = settings.category(ticket.category)
    grid = settings.grid(ticket.grid_id)
    owner = settings.cadre(ticket.assignee_id) if ticket.assignee_id else None
    facts = snapshot.facts.get(ticket.id)
    is_open = status in OPEN_STATES
    ended_at = ticket.resolved_at or ticket.closed_at
    hidden = masker.hides(ticket)
    note = None if hidden else snapshot.latest_note(ticket.id)
    reporters = [] if hidden else snapshot.reporters.get(ticket.id, [])
    if ticket.commitment_date:
        deadline = texts.COMMITMENT.format(day=format_day(ticket.commitment_date, now.astimezone(tz).date()))
    else:
        deadline = format_time(ticket.resolution_due_at, tz)
    return TicketRow(
        number=ticket.id, category_id=ticket.category, category=category.name if category else ticket.category,
        place=ticket.location or texts.NO_PLACE, grid_id=ticket.grid_id, grid=grid.name if grid else texts.NO_PLACE,
        owner_id=ticket.assignee_id, owner=owner.name if owner else texts.NO_OWNER, status=status,
        status_name=STATUS_NAMES[status], is_open=is_open,
        overdue=is_open and facts is not None and is_overdue(facts, now), urgent=ticket.urgent,
        recent=not is_open and status is not Status.CANCELLED and ended_at is not None and now - ended_at <= RECENT,
        age=duration_text((ended_at if not is_open and ended_at else now) - ticket.created_at), deadline=deadline,
        created=format_time(ticket.created_at, tz), created_at=ticket.created_at,
        description=texts.PRIVATE_REPORT if hidden else masker.text(ticket.description),
        reporters=tuple(masker.name(r.member_name) for r in reporters if r.active),
        last_update=masker.text(note.text) if note else STATUS_NAMES[status],
        last_update_at=format_time(note.at, tz) if note else texts.NOTHING,
    )  # fmt: skip


def wall_rows(
    settings: Settings, snapshot: LedgerSnapshot, now: dt.datetime, filters: Filters, masker: Masker
) -> list[TicketRow]:
    """Open tickets (overdue first, then oldest first) and recently resolved ones (latest first) that match."""
    rows = [ticket_row(settings, snapshot, t, now, masker) for t in snapshot.tickets if _may_show(t, now)]
    shown = [r for r in rows if (r.is_open or r.recent) and filters.matches(r)]
    open_rows = sorted((r for r in shown if r.is_open), key=lambda r: (not r.overdue, r.created_at))
    done = sorted((r for r in shown if not r.is_open), key=lambda r: r.created_at, reverse=True)
    return open_rows + done


def _may_show(ticket: Ticket, now: dt.datetime) -> bool:
    """A cheap first look, before a row is built: open, or ended within `RECENT`."""
    ended_at = ticket.resolved_at or ticket.closed_at
    return Status(ticket.status) in OPEN_STATES or (ended_at is not None and now - ended_at <= RECENT)


def timeline(settings: Settings, snapshot: LedgerSnapshot, ticket: Ticket, masker: Masker) -> list[TimelineEntry]:
    """The texts the ticket's group saw, in order, masked for the public (none of a privately reported one)."""
    if masker.hides(ticket):
        return []
    return [
        TimelineEntry(format_time(m.created_at, settings.tz), masker.text(m.text))
        for m in snapshot.announcements.get(ticket.id, [])
    ]
