"""The daily ledger report to the cadres' group: new and resolved today, overdue now, commitments due tomorrow,
and the known incidents (`通知`) not ended, with how many residents reported each (those past their expected
end are marked: their author was asked to confirm, see jobs/incidents.py).

"Overdue now" is an open ticket whose resolution deadline has passed; the weekly digest's overdue count
follows `ledger.rates` instead (a period's overdue, which includes tickets resolved late in the period).

Partner units' overdue tickets follow, unit by unit, when there are any: open tickets dispatched to the unit whose
unit resolution limit has passed, or its response limit with no answer from the unit yet (`unit_first_response_at`);
each unit's count and its `UNIT_LISTED` most overdue tickets (a phone screen). They are among the open tickets the
report reads already (`storage.job_queries.daily_condition`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from jobs import texts
from jobs.common import cadre_name, private
from jobs.incidents import IncidentFacts, time_text
from jobs.model import Occurrence
from ledger.dates import format_day
from ledger.incidents import scope_text
from ledger.lifecycle import is_open
from ledger.messages import Outgoing
from ledger.views import TicketView, category_name, place
from settings.models import Role, Settings

JOB = "daily"
UNIT_LISTED = 3  # each unit's most overdue tickets listed (a phone screen); the count covers them all


@dataclass(frozen=True)
class _UnitLate:
    """A ticket past the limit `deadline` (unit_response | unit_resolution) of `unit_id`, due at `due`."""

    view: TicketView
    unit_id: str
    deadline: str
    due: dt.datetime


def daily_report(
    settings: Settings, views: list[TicketView], at: dt.datetime, incidents: Sequence[IncidentFacts] = ()
) -> Occurrence:
    """The report posted at `at`; `incidents` are those not ended (others, and any announced later, are left out)."""
    local = at.astimezone(settings.tz)
    start = dt.datetime.combine(local.date(), dt.time(0), tzinfo=settings.tz)
    tomorrow = local.date() + dt.timedelta(days=1)
    new = [v for v in views if start <= v.created_at < at]
    resolved = [v for v in views if v.resolved_at is not None and start <= v.resolved_at < at]
    overdue = [v for v in views if is_open(v.status) and v.resolution_due_at is not None and v.resolution_due_at < at]
    committed = [v for v in views if is_open(v.status) and v.commitment_date == tomorrow]
    lines = [
        texts.DAILY_HEADER.format(day=format_day(local.date(), local.date())),
        texts.DAILY_COUNTS.format(new=len(new), resolved=len(resolved), overdue=len(overdue)),
    ]
    for header, listed in ((texts.DAILY_OVERDUE, overdue), (texts.DAILY_COMMITMENTS, committed)):
        if listed:
            lines.append(header)
            lines += [_line(settings, v) for v in sorted(listed, key=lambda v: v.number)]
    lines += _unit_lines(settings, views, at)
    active = sorted((i for i in incidents if i.active and i.starts_at <= at), key=lambda i: i.number)
    if active:
        lines.append(texts.DAILY_INCIDENTS)
        lines += [_incident_line(settings, i, at) for i in active]
    text = "\n".join(lines)
    group = settings.cadres_group()
    if group is not None:
        replies = [Outgoing(group.id or group.name, text, group.name)]
    else:
        replies = [private(c, text) for c in settings.cadres if c.role is Role.SECRETARY]
    return Occurrence(JOB, period_of(settings, at), at, tuple(replies))


def period_of(settings: Settings, at: dt.datetime) -> str:
    return at.astimezone(settings.tz).date().isoformat()


def _line(settings: Settings, view: TicketView) -> str:
    return texts.DAILY_LINE.format(
        number=view.number, category=category_name(settings, view), place=place(view),
        assignee=cadre_name(settings, view.assignee_id),
    )  # fmt: skip


def _unit_late(view: TicketView, at: dt.datetime) -> _UnitLate | None:
    """The unit's limit `view` is past at `at` (the resolution's before the response's), or None."""
    unit_id = view.unit_id
    if not is_open(view.status) or unit_id is None or view.dispatched_at is None:
        return None
    if view.unit_resolution_due_at is not None and view.unit_resolution_due_at < at:
        return _UnitLate(view, unit_id, "unit_resolution", view.unit_resolution_due_at)
    response_due = view.unit_response_due_at
    if view.unit_first_response_at is None and response_due is not None and response_due < at:
        return _UnitLate(view, unit_id, "unit_response", response_due)
    return None


def _unit_lines(settings: Settings, views: list[TicketView], at: dt.datetime) -> list[str]:
    """The units' overdue tickets, unit by unit in config order: its count, then its most overdue few."""
    by_unit: dict[str, list[_UnitLate]] = {}
    for view in views:
        late = _unit_late(view, at)
        if late is not None:
            by_unit.setdefault(late.unit_id, []).append(late)
    if not by_unit:
        return []
    configured = [u.id for u in settings.units if u.id in by_unit]
    lines = [texts.DAILY_UNITS]
    for unit_id in configured + sorted(set(by_unit) - set(configured)):
        tickets = sorted(by_unit[unit_id], key=lambda late: (late.due, late.view.number))
        unit = settings.unit(unit_id)
        lines.append(texts.DAILY_UNIT.format(unit=unit.name if unit else unit_id, count=len(tickets)))
        lines += [_unit_line(settings, late, at) for late in tickets[:UNIT_LISTED]]
    return lines


def _unit_line(settings: Settings, late: _UnitLate, at: dt.datetime) -> str:
    return texts.DAILY_UNIT_LINE.format(
        number=late.view.number, category=category_name(settings, late.view), place=place(late.view),
        deadline=texts.UNIT_DEADLINE_NAMES[late.deadline], late=_lateness(at - late.due),
    )  # fmt: skip


def _lateness(delta: dt.timedelta) -> str:
    """`2 天` from a day on, `5 小时` from an hour on, else minutes: a unit's response limit is often half an hour."""
    if delta.days:
        return texts.DAILY_LATE_DAYS.format(days=delta.days)
    hours = int(delta.total_seconds() // 3600)
    if hours:
        return texts.DAILY_LATE_HOURS.format(hours=hours)
    return texts.DAILY_LATE_MINUTES.format(minutes=max(1, int(delta.total_seconds() // 60)))


def _incident_line(settings: Settings, incident: IncidentFacts, at: dt.datetime) -> str:
    end = incident.expected_end_at
    if end is None:
        until = texts.DAILY_INCIDENT_NO_END
    else:
        wording = texts.DAILY_INCIDENT_OVERDUE if end <= at else texts.DAILY_INCIDENT_UNTIL
        until = wording.format(time=time_text(settings, end, at))
    return texts.DAILY_INCIDENT_LINE.format(
        number=incident.number, scope=scope_text(settings, incident), text=incident.text, until=until,
        residents=incident.reporters,
    )  # fmt: skip
