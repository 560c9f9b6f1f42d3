"""What the wall shows of each ticket, built by pure functions from the ticket and what was read with it.

Public rows carry masked names and numbers (`ledger.privacy`); the cadre view asks for `masked=False`.
A ticket reported to the bot in private shows to the public without its text: category, place and status.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Row

from board import texts
from ledger.dates import format_day
from ledger.incidents import scope_text
from ledger.lifecycle import NOT_COUNTED, OPEN_STATES, Status
from ledger.privacy import mask_name, mask_text
from ledger.rates import TicketFacts, is_overdue
from ledger.wording import STATUS_NAMES, format_time
from nlp.places import normalise_building
from settings.models import Settings
from storage.board_queries import Announcement, Details, Segment, Voice, Wall
from storage.incident_queries import JOINING, History, Range
from storage.incidents import IncidentAction, IncidentStatus
from storage.models import Incident, Ticket

RECENT = dt.timedelta(days=7)
"""How long a resolved or closed ticket stays on the wall."""
PAGE_SIZE = 100
"""Rows of the wall (and of a cadre's lists) per page."""
STATUS_SEGMENTS = {
    "open": (Segment.OVERDUE, Segment.OPEN),
    "overdue": (Segment.OVERDUE,),
    "resolved": (Segment.ENDED,),
}


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

    def wall(self, now: dt.datetime, *, public: bool = True) -> Wall:
        """The tickets a wall with these filters lists at `now`: open ones, and those ended within `RECENT` (`public`:
        without the patrol findings not made public yet)."""
        segments = STATUS_SEGMENTS.get(self.status, tuple(Segment))
        return Wall(
            now=now, since=now - RECENT, segments=segments, grid=self.grid, category=self.category, public=public
        )

    def incidents(self, settings: Settings) -> Range:
        """The incidents a wall with these filters shows: of its category, touching its grid."""
        grid = settings.grid(self.grid) if self.grid else None
        buildings = tuple(normalise_building(b) for b in grid.buildings) if grid else ()
        return Range(grid=self.grid, buildings=buildings, category=self.category)

    @property
    def shows_active_incidents(self) -> bool:
        return self.status in ("", "open")

    @property
    def shows_ended_incidents(self) -> bool:
        return self.status in ("", "resolved")

    def query(self, **more: int | None) -> str:
        """The filters as a query string, for links that keep them (the download, the next page)."""
        values = {**vars(self), **more}
        return urlencode({key: value for key, value in values.items() if value})


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
    """Masks residents' names and every phone or identity number, unless the reader is a cadre.

    A text is masked with only the residents' names that occur in it (found through their first two
    characters): the same result as masking with every name, since a name absent from a text matches nowhere
    in it, at a cost that does not grow with the number of residents.
    """

    def __init__(self, settings: Settings, resident_names: Iterable[str], *, masked: bool = True) -> None:
        cadre_names = {c.name for c in settings.cadres}
        self.names = frozenset(resident_names) - cadre_names if masked else frozenset()
        self.masked = masked
        self._single = frozenset(n for n in self.names if len(n) == 1)
        self._by_start: dict[str, list[str]] = {}
        for name in self.names:
            if len(name) > 1:
                self._by_start.setdefault(name[:2], []).append(name)
        firsts = sorted({n[0] for n in self.names if n})
        self._first = re.compile("[" + "".join(map(re.escape, firsts)) + "]") if firsts else None

    def names_in(self, text: str) -> frozenset[str]:
        """The names that occur in `text`."""
        found: set[str] = set()
        for match in self._first.finditer(text) if self._first is not None else ():
            at = match.start()
            if text[at] in self._single:
                found.add(text[at])
            found.update(n for n in self._by_start.get(text[at : at + 2], ()) if text.startswith(n, at))
        return frozenset(found)

    def text(self, text: str) -> str:
        return mask_text(text, self.names_in(text)) if self.masked else text

    def name(self, name: str) -> str:
        return mask_name(name) if self.masked else name

    def hides(self, ticket: Ticket | Row[Any]) -> bool:
        """Whether the ticket's text (description, notes, reporters) is kept from this reader.

        A resident who wrote to the bot in private did not tell the neighbours; only cadres read it.
        """
        return self.masked and ticket.chat_is_private


def facts_of(ticket: Ticket) -> TicketFacts:
    """The ticket as `ledger.rates` reads it, without its ratings (which no row shows)."""
    return TicketFacts(
        number=ticket.id, category=ticket.category, grid_id=ticket.grid_id, location=ticket.location,
        assignee_id=ticket.assignee_id, status=Status(ticket.status), created_at=ticket.created_at,
        response_due_at=ticket.response_due_at, first_response_at=ticket.first_response_at,
        resolution_due_at=ticket.resolution_due_at, resolved_at=ticket.resolved_at, unit_id=ticket.unit_id,
        dispatched_at=ticket.dispatched_at, unit_response_due_at=ticket.unit_response_due_at,
        unit_first_response_at=ticket.unit_first_response_at, unit_resolution_due_at=ticket.unit_resolution_due_at,
        source=ticket.source,
    )  # fmt: skip


def ticket_row(settings: Settings, ticket: Ticket, details: Details, now: dt.datetime, masker: Masker) -> TicketRow:
    tz = settings.tz
    status = Status(ticket.status)
    category = settings.category(ticket.category)
    grid = settings.grid(ticket.grid_id)
    owner = settings.cadre(ticket.assignee_id) if ticket.assignee_id else None
    is_open = status in OPEN_STATES
    ended_at = ticket.resolved_at or ticket.closed_at
    hidden = masker.hides(ticket)
    note = None if hidden else details.notes.get(ticket.id)
    reporters = [] if hidden else details.reporters.get(ticket.id, [])
    if ticket.commitment_date:
        deadline = texts.COMMITMENT.format(day=format_day(ticket.commitment_date, now.astimezone(tz).date()))
    else:
        deadline = format_time(ticket.resolution_due_at, tz)
    return TicketRow(
        number=ticket.id, category_id=ticket.category, category=category.name if category else ticket.category,
        place=ticket.location or texts.NO_PLACE, grid_id=ticket.grid_id, grid=grid.name if grid else texts.NO_PLACE,
        owner_id=ticket.assignee_id, owner=owner.name if owner else texts.NO_OWNER, status=status,
        status_name=STATUS_NAMES[status], is_open=is_open, overdue=is_open and is_overdue(facts_of(ticket), now),
        urgent=ticket.urgent,
        recent=not is_open and status not in NOT_COUNTED and ended_at is not None and now - ended_at <= RECENT,
        age=duration_text((ended_at if not is_open and ended_at else now) - ticket.created_at), deadline=deadline,
        created=format_time(ticket.created_at, tz), created_at=ticket.created_at,
        description=texts.PRIVATE_REPORT if hidden else masker.text(ticket.description),
        reporters=tuple(masker.name(name) for name in reporters),
        last_update=masker.text(note.text) if note else STATUS_NAMES[status],
        last_update_at=format_time(note.at, tz) if note else texts.NOTHING,
    )  # fmt: skip


def timeline(
    settings: Settings, ticket: Ticket, announcements: Sequence[Announcement], masker: Masker
) -> list[TimelineEntry]:
    """The texts the ticket's group saw, in order, masked for the public (none of a privately reported one)."""
    if masker.hides(ticket):
        return []
    return [TimelineEntry(format_time(m.created_at, settings.tz), masker.text(m.text)) for m in announcements]


def voice_entries(settings: Settings, ticket: Ticket, said: Sequence[Voice], masker: Masker) -> list[TimelineEntry]:
    """Co-reporters' own words, masked for the public (none of a privately reported ticket)."""
    if masker.hides(ticket):
        return []
    return [
        TimelineEntry(format_time(v.at, settings.tz), f"{masker.name(v.name)}：{masker.text(v.text)}") for v in said
    ]


def counts(by_segment: dict[Segment, int]) -> dict[str, int]:
    """The wall's summary: open tickets, overdue among them, and recently ended ones."""
    overdue = by_segment.get(Segment.OVERDUE, 0)
    return {"open": overdue + by_segment.get(Segment.OPEN, 0), "overdue": overdue,
            "resolved": by_segment.get(Segment.ENDED, 0)}  # fmt: skip


# Known incidents (通知) --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentRow:
    number: int
    label: str
    """`通知3`."""
    scope: str
    category_id: str
    category: str
    text: str
    state: str
    """active, lapsed (past its expected end, not ended) or ended."""
    state_name: str
    author: str
    started: str
    expected_end: str
    ended: str
    reporters: int


def incident_state(incident: Incident, now: dt.datetime) -> str:
    if incident.status == IncidentStatus.ENDED.value:
        return "ended"
    if incident.expected_end_at is not None and incident.expected_end_at <= now:
        return "lapsed"
    return "active"


def incident_row(
    settings: Settings, incident: Incident, reporters: int, now: dt.datetime, masker: Masker
) -> IncidentRow:
    tz = settings.tz
    category = settings.category(incident.category)
    state = incident_state(incident, now)
    expected = incident.expected_end_at
    return IncidentRow(
        number=incident.id or 0, label=texts.INCIDENT_NUMBER.format(number=incident.id),
        scope=scope_text(settings, incident), category_id=incident.category,
        category=category.name if category else incident.category, text=masker.text(incident.text), state=state,
        state_name=texts.INCIDENT_STATES[state], author=incident.author_name,
        started=format_time(incident.starts_at, tz),
        expected_end=format_time(expected, tz) if expected else texts.INCIDENT_NO_END,
        ended=format_time(incident.ended_at, tz), reporters=reporters,
    )  # fmt: skip


def incident_timeline(settings: Settings, found: History, masker: Masker) -> list[TimelineEntry]:
    """What happened to an incident, in order: opened, the residents who reported it counted (never named: a run
    of joins is one entry), tickets attached, ended with the cadre's note. Texts masked for the public."""
    tz = settings.tz
    entries: list[TimelineEntry] = []
    total = 0
    run: list[Any] = []  # consecutive events that add reporters in the same way

    def close_run() -> None:
        if not run:
            return
        first = run[0]
        count = len(run)
        if first.action == IncidentAction.ATTACH.value:
            ticket = first.note.lstrip("#")
            text = (
                texts.INCIDENT_ATTACHED.format(ticket=ticket, count=count, total=total)
                if ticket.isdigit()
                else texts.INCIDENT_ATTACHED_UNKNOWN.format(count=count, total=total)
            )
        elif count == 1:
            text = texts.INCIDENT_JOINED_ONE.format(total=total)
        else:
            text = texts.INCIDENT_JOINED.format(count=count, total=total)
        at = format_time(first.at, tz)
        last = format_time(run[-1].at, tz)
        entries.append(TimelineEntry(at if at == last else f"{at}—{last.split(' ')[-1]}", text))
        run.clear()

    for event in found.events:
        if event.action in JOINING:
            if run and _run_key(run[0]) != _run_key(event):
                close_run()
            run.append(event)
            total += 1
            continue
        close_run()
        at = format_time(event.at, tz)
        actor = event.actor_name
        if event.action == IncidentAction.OPEN.value:
            entries.append(TimelineEntry(at, texts.INCIDENT_OPENED.format(actor=actor, text=masker.text(event.note))))
        elif event.action == IncidentAction.END.value:
            note = texts.INCIDENT_ENDED_NOTE.format(note=masker.text(event.note)) if event.note else ""
            entries.append(TimelineEntry(at, texts.INCIDENT_ENDED.format(actor=actor, note=note)))
    close_run()
    return entries


def _run_key(event: Any) -> tuple[str, str]:
    """Joins run together; attached reporters run together per ticket."""
    return (event.action, event.note if event.action == IncidentAction.ATTACH.value else "")
