"""Who is on duty: the weekly rota, its overrides (leave and swaps) and the escalation chain.

Pure functions over `Settings`; no I/O. Runtime `换班` swaps stored in the ledger are passed in as
`overrides` and are applied after `settings.rota_overrides`.

Rules shared by every function here:

* A shift belongs to the date on which it starts: a Monday 17:30→08:30 shift covering Tuesday 03:00
  is Monday's shift, so a leave on Monday removes it and a leave on Tuesday does not.
* An override for (date, cadre) moves all of that cadre's shifts starting on that date to
  `replacement`, or removes them when there is no replacement (leave). When several overrides name
  the same (date, cadre), the last one wins: config overrides first, then runtime ones in the order given.
* Overrides resolve once, against the rota as written. With A→B and B→C on the same date, A's shifts go
  to B and B's own shifts go to C. Following chains would let a later swap between two other people
  silently move a shift that B accepted, and would need cycle handling (A→B, B→A is a plain swap).
* Shift windows are wall-clock times in `settings.tz`, start inclusive and end exclusive.
* Which shifts run on a date follows the working calendar (`ledger/workdays.py`): on a public holiday the holiday
  rota (`settings.holiday_rota`) instead of the weekly one, on a make-up working Saturday or Sunday (调休) the weekly
  shifts of `holidays.workday_pattern`. Every function takes the calendar as `calendar`, by default built from
  `settings`. The holiday rota is duty only: the grid's working hours (`grid_shift_windows`) have none on a holiday.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from ledger.workdays import WorkingCalendar, is_public_holiday, weekly_pattern, working_calendar
from settings.models import Cadre, HolidayShift, Role, RotaOverride, Settings, Shift

_ONE_DAY = timedelta(days=1)

# (date, cadre id) -> who works that cadre's shifts starting on that date; None means nobody.
_Assignments = Mapping[tuple[date, str], str | None]


class DutySource(StrEnum):
    """Why a cadre is on duty: which level of the lookup answered."""

    GRID = "grid"
    COMMUNITY = "community"
    GRID_LEADER = "grid_leader"
    SECRETARY = "secretary"


@dataclass(frozen=True)
class Duty:
    cadre: Cadre
    source: DutySource


def on_duty(
    settings: Settings,
    grid_id: str | None,
    at: datetime,
    overrides: Sequence[RotaOverride] = (),
    calendar: WorkingCalendar | None = None,
) -> Duty:
    """Return who answers for grid `grid_id` at the instant `at`.

    Order: a shift of that grid covering `at`, else a community-wide shift covering `at`, else the
    escalation chain (grid leader, then secretary); on a public holiday the shifts are the holiday rota's.
    `grid_id=None` (place unknown) skips the grid shifts and the grid leader. Among overlapping shifts of the
    same level the first in config order wins. A shift whose worker, after overrides, is not a configured cadre
    is skipped, so someone still answers. Overrides do not apply to the escalation chain: leaders and
    secretaries are reachable off shift.

    Raises ValueError for a naive `at`, LookupError when nobody at all can answer (no secretary).
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"on_duty needs a timezone-aware datetime, got naive {at.isoformat()}")
    local = at.astimezone(settings.tz)
    assignments = _assignments(settings, overrides)
    calendar = calendar or working_calendar(settings)

    if grid_id is not None and (cadre := _covering(settings, grid_id, local, assignments, calendar)):
        return Duty(cadre, DutySource.GRID)
    if cadre := _covering(settings, None, local, assignments, calendar):
        return Duty(cadre, DutySource.COMMUNITY)
    chain = escalation_chain(settings, grid_id)
    if not chain:
        raise LookupError(f"nobody is on duty for grid {grid_id!r} at {local.isoformat()} and no secretary is set")
    head = chain[0]
    return Duty(head, DutySource.GRID_LEADER if head.role is Role.GRID_LEADER else DutySource.SECRETARY)


def shifts_of(
    settings: Settings,
    cadre_id: str,
    day: date,
    overrides: Sequence[RotaOverride] = (),
    calendar: WorkingCalendar | None = None,
) -> list[tuple[datetime, datetime]]:
    """The (start, end) windows, in `settings.tz`, of the shifts `cadre_id` works that start on `day`.

    Overrides are applied: shifts given away or on leave are left out, shifts received as a replacement
    are included. Windows are sorted and distinct (one cadre rostered on two grids at the same hours
    works one window).
    """
    assignments = _assignments(settings, overrides)
    calendar = calendar or working_calendar(settings)
    return sorted(
        {
            _window(settings, shift, day)
            for shift in _shifts(settings)
            if _runs_on(shift, day, calendar) and _worker(shift, day, assignments) == cadre_id
        }
    )


def grid_shift_windows(
    settings: Settings, grid_id: str, day: date, calendar: WorkingCalendar | None = None
) -> list[tuple[datetime, datetime]]:
    """The (start, end) windows of the weekly shifts of grid `grid_id` starting on `day`, whoever works them.

    These are the grid's working hours, used where a category's deadlines run only on shift: none on a public
    holiday (the holiday rota is duty, not office hours), Monday's (or `holidays.workday_pattern`'s) on a make-up day.
    """
    calendar = calendar or working_calendar(settings)
    return sorted(
        {
            _window(settings, shift, day)
            for shift in settings.rota
            if shift.grid == grid_id and _runs_on(shift, day, calendar)
        }
    )


def escalation_chain(settings: Settings, grid_id: str | None) -> list[Cadre]:
    """The grid leaders of `grid_id` (config order), then the secretaries; each cadre once."""
    leaders = [c for c in settings.cadres if c.role is Role.GRID_LEADER and grid_id is not None and grid_id in c.grids]
    secretaries = [c for c in settings.cadres if c.role is Role.SECRETARY]
    chain: dict[str, Cadre] = {}
    for cadre in (*leaders, *secretaries):
        chain.setdefault(cadre.id, cadre)
    return list(chain.values())


def _assignments(settings: Settings, overrides: Sequence[RotaOverride]) -> _Assignments:
    return {(o.date, o.cadre): o.replacement for o in (*settings.rota_overrides, *overrides)}


def _shifts(settings: Settings) -> list[Shift | HolidayShift]:
    """The weekly shifts, then the holiday ones: on any date only one of the two kinds runs."""
    return [*settings.rota, *settings.holiday_rota]


def _worker(shift: Shift | HolidayShift, day: date, assignments: _Assignments) -> str | None:
    return assignments.get((day, shift.cadre), shift.cadre)


def _runs_on(shift: Shift | HolidayShift, day: date, calendar: WorkingCalendar) -> bool:
    if isinstance(shift, HolidayShift):
        return is_public_holiday(day, calendar)
    return weekly_pattern(day, calendar) in shift.days


def _window(settings: Settings, shift: Shift | HolidayShift, day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, shift.start, tzinfo=settings.tz)
    end_day = day if shift.end > shift.start else day + _ONE_DAY
    return start, datetime.combine(end_day, shift.end, tzinfo=settings.tz)


def _covering(
    settings: Settings, grid_id: str | None, local: datetime, assignments: _Assignments, calendar: WorkingCalendar
) -> Cadre | None:
    """The cadre working a shift of `grid_id` (None: community-wide) that covers `local`, if any.

    Only shifts starting on the day of `local` or the day before can cover it (shifts last at most 24 hours).
    """
    for shift in _shifts(settings):
        if shift.grid != grid_id:
            continue
        for day in (local.date() - _ONE_DAY, local.date()):
            if not _runs_on(shift, day, calendar):
                continue
            start, end = _window(settings, shift, day)
            worker = _worker(shift, day, assignments)
            if start <= local < end and worker is not None and (cadre := settings.cadre(worker)):
                return cadre
    return None
