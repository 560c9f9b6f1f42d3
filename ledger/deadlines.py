"""Due times from a category's service levels.

A category with `pause_outside_shift` counts only the grid's working hours: its weekly shifts, none on a public
holiday, Monday's (`holidays.workday_pattern`'s) on a make-up working Saturday or Sunday (see ledger/workdays.py).

A partner unit's limits (派单) count from the dispatch, by the unit's own limits else the category's; a unit with
`working_hours` counts only those, on the same working calendar: none on a public holiday, those of
`holidays.workday_pattern` on a 调休 working Saturday or Sunday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

from ledger.rota import grid_shift_windows
from ledger.workdays import WorkingCalendar, weekly_pattern, working_calendar
from settings.models import Category, Settings, Unit, WorkingHours

Windows = Callable[[dt.date], list[tuple[dt.datetime, dt.datetime]]]
_SEARCH_DAYS = 60


def response_due(category: Category, since: dt.datetime, windows: Windows | None = None) -> dt.datetime:
    return _due(since, dt.timedelta(minutes=category.first_response_minutes), windows)


def resolution_due(category: Category, since: dt.datetime, windows: Windows | None = None) -> dt.datetime:
    return _due(since, dt.timedelta(hours=category.resolution_hours), windows)


def _due(since: dt.datetime, duration: dt.timedelta, windows: Windows | None) -> dt.datetime:
    return since + duration if windows is None else on_shift_deadline(since, duration, windows)


def shift_windows(
    settings: Settings, category: Category, grid_id: str | None, calendar: WorkingCalendar | None = None
) -> Windows | None:
    """The grid's working hours when `category` pauses its deadlines outside them (config), else None.

    `calendar` (default: the one `settings` describe) says which days are public holidays and make-up days.
    """
    if not category.pause_outside_shift or grid_id is None:
        return None
    if not any(shift.grid == grid_id for shift in settings.rota):
        return None
    return partial(grid_shift_windows, settings, grid_id, calendar=calendar or working_calendar(settings))


def unit_limits(unit: Unit, category: Category | None) -> tuple[dt.timedelta, dt.timedelta]:
    """The unit's first-response and resolution limits: its own, else the category's (else 60 minutes, 72 hours)."""
    minutes = unit.first_response_minutes or (category.first_response_minutes if category else 60)
    hours = unit.resolution_hours or (category.resolution_hours if category else 72)
    return dt.timedelta(minutes=minutes), dt.timedelta(hours=hours)


def unit_due(
    settings: Settings, unit: Unit, category: Category | None, since: dt.datetime,
    calendar: WorkingCalendar | None = None,
) -> tuple[dt.datetime, dt.datetime]:
    """When the unit must answer (接单) and resolve a ticket dispatched to it at `since`."""
    response, resolution = unit_limits(unit, category)
    windows = unit_windows(settings, unit, calendar)
    return _due(since, response, windows), _due(since, resolution, windows)


def unit_windows(settings: Settings, unit: Unit, calendar: WorkingCalendar | None = None) -> Windows | None:
    """The unit's working hours as windows per day, or None when it works round the clock."""
    if unit.working_hours is None:
        return None
    return partial(_working_hours_windows, unit.working_hours, settings.tz, calendar or working_calendar(settings))


def _working_hours_windows(
    hours: WorkingHours, tz: dt.tzinfo, calendar: WorkingCalendar, day: dt.date
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The window of `hours` starting on `day`: none on a public holiday or a day off, the `workday_pattern`'s on a
    make-up working day."""
    if weekly_pattern(day, calendar) not in hours.days:
        return []
    start = dt.datetime.combine(day, hours.start, tzinfo=tz)
    end_day = day if hours.end > hours.start else day + dt.timedelta(days=1)
    return [(start, dt.datetime.combine(end_day, hours.end, tzinfo=tz))]


def on_shift_deadline(since: dt.datetime, duration: dt.timedelta, windows: Windows) -> dt.datetime:
    """`since` + `duration`, counting only time inside the windows `windows(day)` gives for each day.

    Used for categories whose deadlines pause outside the grid's shifts. Windows may cross midnight
    (a day's windows are those starting on it). With no window in the next 60 days the clock never
    pauses, so a grid without shifts still gets a deadline.

    Days are asked for one at a time, only as far as the deadline reaches: a day's windows start on it, so
    they come in order, and the calendar is not asked about (nor warns of) a year the deadline never reaches.
    """
    remaining = duration
    cursor = since
    for offset in range(-1, _SEARCH_DAYS):
        for start, end in sorted(windows(since.date() + dt.timedelta(days=offset))):
            start = max(start, cursor)
            if end <= start:
                continue
            if end - start >= remaining:
                return start + remaining
            remaining -= end - start
            cursor = end
    return since + duration


def describe_minutes(minutes: int) -> str:
    """`60` → `1小时`, `90` → `1小时30分钟`, `30` → `30分钟`, `2880` → `2天`."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}天" if days else "", f"{hours}小时" if hours else "", f"{mins}分钟" if mins else ""]
    return "".join(parts) or "0分钟"
