"""Agenda candidates (议事) for the weekly face-to-face meeting and the monthly consultation.

A ticket is a candidate when a cadre marked it (立项) and it is not resolved yet, or when it was reported
by `agenda_households` or more households; a category and place is a candidate when `agenda_repeats` or
more tickets were opened for it within `agenda_window_days` (a problem that keeps coming back). Cancelled
tickets count nowhere. Pure: reads a snapshot, returns lines.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from ledger import wording as texts
from ledger.lifecycle import NOT_COUNTED, is_open
from ledger.views import TicketView, category_name, place
from ledger.wording import STATUS_NAMES
from settings.models import Settings


@dataclass(frozen=True)
class Candidate:
    kind: str  # flagged | households | recurring
    numbers: tuple[int, ...]
    line: str


def candidates(settings: Settings, views: list[TicketView], now: dt.datetime) -> list[Candidate]:
    schedule = settings.schedule
    since = now - dt.timedelta(days=schedule.agenda_window_days)
    counted = [v for v in views if v.status not in NOT_COUNTED and v.created_at < now]
    found = []
    for view in counted:
        if view.agenda and is_open(view.status):
            line = texts.AGENDA_FLAGGED.format(**_fields(settings, view), status=STATUS_NAMES[view.status])
            found.append(Candidate("flagged", (view.number,), line))
        elif len(view.reporters) >= schedule.agenda_households and (is_open(view.status) or view.created_at >= since):
            line = texts.AGENDA_HOUSEHOLDS.format(**_fields(settings, view), households=len(view.reporters))
            found.append(Candidate("households", (view.number,), line))
    groups: dict[tuple[str, str], list[TicketView]] = defaultdict(list)
    for view in counted:
        if view.location and view.created_at >= since:
            groups[(view.category, view.location)].append(view)
    for (_, location), group in sorted(groups.items(), key=lambda item: min(v.number for v in item[1])):
        if len(group) >= schedule.agenda_repeats:
            numbers = tuple(sorted(v.number for v in group))
            line = texts.AGENDA_RECURRING.format(
                place=location, category=category_name(settings, group[0]), days=schedule.agenda_window_days,
                count=len(group), numbers=texts.LIST_SEPARATOR.join(f"#{n}" for n in numbers),
            )
            found.append(Candidate("recurring", numbers, line))
    return found


def _fields(settings: Settings, view: TicketView) -> dict[str, object]:
    """What a ticket's agenda line names (worked out only for a candidate: the digest reads every ticket)."""
    return {"number": view.number, "category": category_name(settings, view), "place": place(view)}
