"""Shift handover: at each shift change, the outgoing and incoming cadres get the open tickets of the grids
that change hands.

A shift change is any start or end of a rota shift. Who hands over to whom is read from the rota itself
(`ledger.rota.on_duty` just before and at the change, overrides and 换班 swaps included), so a change where
the same cadre stays on duty, or a shift given away, says nothing wrong. Nothing is sent to a cadre whose
grids have no open ticket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from jobs import texts
from jobs.common import cadre_name, private
from jobs.model import Occurrence
from ledger.lifecycle import is_open
from ledger.rota import on_duty
from ledger.views import TicketView, category_name, place
from ledger.wording import STATUS_NAMES, format_time
from settings.models import WEEKDAYS, Cadre, RotaOverride, Settings

JOB = "handover"
_JUST_BEFORE = dt.timedelta(seconds=1)


def changes_between(settings: Settings, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Every shift start or end in (start, end], in the community's timezone."""
    tz = settings.tz
    first, last = start.astimezone(tz).date() - dt.timedelta(days=1), end.astimezone(tz).date()
    instants = set()
    day = first
    while day <= last:
        for shift in settings.rota:
            if WEEKDAYS[day.weekday()] not in shift.days:
                continue
            end_day = day if shift.end > shift.start else day + dt.timedelta(days=1)
            instants.add(dt.datetime.combine(day, shift.start, tzinfo=tz))
            instants.add(dt.datetime.combine(end_day, shift.end, tzinfo=tz))
        day += dt.timedelta(days=1)
    return sorted(t for t in instants if start < t <= end)


def handover(
    settings: Settings, views: list[TicketView], at: dt.datetime, overrides: Sequence[RotaOverride] = ()
) -> Occurrence:
    """The handover messages of the shift change at `at` (possibly none)."""
    incoming: dict[str, tuple[Cadre, list[str]]] = {}
    outgoing: dict[str, tuple[Cadre, list[str], list[str]]] = {}
    for grid in settings.grids:
        before = on_duty(settings, grid.id, at - _JUST_BEFORE, overrides).cadre
        after = on_duty(settings, grid.id, at, overrides).cadre
        if before.id == after.id:
            continue
        incoming.setdefault(after.id, (after, []))[1].append(grid.id)
        _, grids, successors = outgoing.setdefault(before.id, (before, [], []))
        grids.append(grid.id)
        successors.append(after.name)
    time = format_time(at, settings.tz)
    replies = []
    for cadre, grids in incoming.values():
        replies += _message(settings, views, cadre, grids, texts.HANDOVER_IN, time=time)
    for cadre, grids, successors in outgoing.values():
        successor = texts.LIST_SEPARATOR.join(dict.fromkeys(successors))
        replies += _message(settings, views, cadre, grids, texts.HANDOVER_OUT, time=time, successor=successor)
    return Occurrence(JOB, period_of(settings, at), at, tuple(replies))


def period_of(settings: Settings, at: dt.datetime) -> str:
    return f"{at.astimezone(settings.tz):%Y-%m-%d %H:%M}"


def _message(
    settings: Settings, views: list[TicketView], cadre: Cadre, grids: list[str], header: str, **fields: str
) -> list:
    open_views = [v for v in views if is_open(v.status) and v.grid_id in grids]
    if not open_views:
        return []
    names = texts.LIST_SEPARATOR.join(g.name for g in settings.grids if g.id in grids)
    lines = [header.format(grids=names, count=len(open_views), **fields)]
    for view in sorted(open_views, key=lambda v: v.number):
        due = texts.HANDOVER_DUE.format(due=format_time(view.resolution_due_at, settings.tz))
        lines.append(
            texts.HANDOVER_LINE.format(
                number=view.number, category=category_name(settings, view), place=place(view),
                status=STATUS_NAMES[view.status], assignee=cadre_name(settings, view.assignee_id),
                due=due if view.resolution_due_at else "",
            )
        )
    return [private(cadre, "\n".join(lines))]
