"""Shift handover: at each shift change, tickets nobody has accepted pass to the incoming cadre, and the outgoing
and incoming cadres get the open tickets of the grids that change hands.

A shift change is any start or end of a rota shift. Who hands over to whom is read from the rota itself
(`ledger.rota.on_duty` just before and at the change, overrides and 换班 swaps included), so a change where
the same cadre stays on duty, or a shift given away, says nothing wrong. Tickets without a grid (place unknown)
belong to the community-wide duty (`on_duty(…, None, …)`) and hand over between its cadres the same way.

Which tickets pass: the open tickets of a grid that changes hands whose status is `assigned` (given to the cadre
on duty when they came in, not yet 签收) and whose assignee is the outgoing cadre. Each gets an `assign` event by
the bot naming the incoming cadre, so reminders and escalations chase the incoming cadre from then on. Every
other ticket stays with its owner: an accepted one (签收, 进度, 承诺 …) is someone's work; a `transferred` one was
given to that person on purpose by a cadre (转派); a `reopened` one goes back to whoever resolved it, who knows
the case. A ticket assigned to someone else than the outgoing cadre (a triage item's asked cadre, a ticket a
missed handover left behind) is not moved either: the rule never takes a ticket from a cadre who was not on
duty for it. Nothing is sent to a cadre whose grids have no open ticket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from jobs import texts
from jobs.common import cadre_name, private
from jobs.model import Occurrence, TicketChange
from ledger.lifecycle import Action, Status, is_open
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


def passes(view: TicketView, outgoing: Cadre) -> bool:
    """Whether `view` passes to the incoming cadre when `outgoing` hands its grid over: nobody has accepted it
    (status `assigned`) and it is the outgoing cadre's (see the module docstring)."""
    return view.status is Status.ASSIGNED and view.assignee_id == outgoing.id


@dataclass
class _Side:
    """One cadre's side of a shift change: the grids (None: the community-wide duty) and the tickets passed."""

    cadre: Cadre
    grids: list[str | None] = field(default_factory=list)
    successors: list[str] = field(default_factory=list)  # the outgoing side's: who takes over each grid
    passed: dict[str, list[int]] = field(default_factory=dict)  # the incoming cadre's name → the tickets passed


def handover(
    settings: Settings, views: list[TicketView], at: dt.datetime, overrides: Sequence[RotaOverride] = ()
) -> Occurrence:
    """The handover of the shift change at `at` (possibly nothing): the tickets that pass, and the messages."""
    incoming: dict[str, _Side] = {}
    outgoing: dict[str, _Side] = {}
    changes: list[TicketChange] = []
    time = format_time(at, settings.tz)
    # The community-wide duty changes hands at most shift changes: named only when it has an open ticket.
    ungridded = any(is_open(v.status) and v.grid_id is None for v in views)
    for grid_id in [*(g.id for g in settings.grids), *([None] if ungridded else [])]:
        before = on_duty(settings, grid_id, at - _JUST_BEFORE, overrides).cadre
        after = on_duty(settings, grid_id, at, overrides).cadre
        if before.id == after.id:
            continue
        into = incoming.setdefault(after.id, _Side(after))
        out = outgoing.setdefault(before.id, _Side(before))
        into.grids.append(grid_id)
        out.grids.append(grid_id)
        out.successors.append(after.name)
        for view in views:
            if view.grid_id == grid_id and passes(view, before):
                note = texts.EVENT_HANDOVER.format(outgoing=before.name, incoming=after.name)
                changes.append(TicketChange(view.number, Action.ASSIGN, note, {"assignee_id": after.id}))
                into.passed.setdefault(after.name, []).append(view.number)
                out.passed.setdefault(after.name, []).append(view.number)
    # The lists show who is responsible after the change.
    new_assignee = {change.ticket_id: change.changes["assignee_id"] for change in changes}
    after_views = [replace(v, assignee_id=new_assignee[v.number]) if v.number in new_assignee else v for v in views]
    replies = []
    for side in incoming.values():
        numbers = [n for ns in side.passed.values() for n in ns]
        passed = [texts.HANDOVER_PASSED_IN.format(count=len(numbers), numbers=_numbers(numbers))] if numbers else []
        replies += _message(settings, after_views, side, texts.HANDOVER_IN, passed, time=time)
    for side in outgoing.values():
        passed = [
            texts.HANDOVER_PASSED_OUT.format(count=len(numbers), successor=name, numbers=_numbers(numbers))
            for name, numbers in side.passed.items()
        ]
        successor = texts.LIST_SEPARATOR.join(dict.fromkeys(side.successors))
        replies += _message(settings, after_views, side, texts.HANDOVER_OUT, passed, time=time, successor=successor)
    return Occurrence(JOB, period_of(settings, at), at, tuple(replies), tuple(changes))


def period_of(settings: Settings, at: dt.datetime) -> str:
    return f"{at.astimezone(settings.tz):%Y-%m-%d %H:%M}"


def _numbers(numbers: list[int]) -> str:
    return " ".join(f"#{n}" for n in sorted(numbers))


def _message(
    settings: Settings, views: list[TicketView], side: _Side, header: str, passed: list[str], **fields: str
) -> list:
    open_views = [v for v in views if is_open(v.status) and v.grid_id in side.grids]
    if not open_views:
        return []
    grid_names = {g.id: g.name for g in settings.grids}
    names = texts.LIST_SEPARATOR.join(grid_names[g] if g else texts.HANDOVER_NO_GRID for g in side.grids)
    lines = [header.format(grids=names, count=len(open_views), **fields), *passed]
    for view in sorted(open_views, key=lambda v: v.number):
        due = texts.HANDOVER_DUE.format(due=format_time(view.resolution_due_at, settings.tz))
        lines.append(
            texts.HANDOVER_LINE.format(
                number=view.number,
                category=category_name(settings, view),
                place=place(view),
                status=STATUS_NAMES[view.status],
                assignee=cadre_name(settings, view.assignee_id),
                due=due if view.resolution_due_at else "",
            )
        )
    return [private(side.cadre, "\n".join(lines))]
