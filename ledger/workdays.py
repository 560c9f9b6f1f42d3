"""Which days are worked: China's public holidays and make-up working days (调休), and what runs on them.

The official arrangement comes from the chinese-calendar package (each year's is published by the State Council in
November or December and reaches the package soon after); `holidays:` in config adds local days off and a year the
package does not know yet. A date neither knows counts weekends only, and the log says so once per year.

Rules shared with the rota and the deadlines (`ledger/rota.py`, `ledger/deadlines.py`):

* A public holiday is every day of an official break, its Saturday and Sunday included, and every
  `holidays.days_off` day. No weekly shift runs on it (the holiday rota does), so a deadline that pauses outside
  shifts pauses all day.
* A make-up working day is a Saturday or Sunday the arrangement (or `holidays.working_days`) makes a working day.
  The weekly shifts of `holidays.workday_pattern` run on it (default Monday's): the package names the holiday a
  make-up day belongs to, not the weekday it stands in for, and Monday is the full working day most grids have.
* Config wins over the package: a date in `holidays.working_days` is worked even on an official holiday.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache

import chinese_calendar

from settings.models import WEEKDAYS, Settings

log = logging.getLogger(__name__)


class DayKind(StrEnum):
    WORKDAY = "workday"  # Monday to Friday, not a holiday
    WEEKEND = "weekend"  # Saturday or Sunday, not worked
    HOLIDAY = "holiday"  # a public holiday or a local day off
    MAKEUP = "makeup"  # a Saturday or Sunday worked (调休)


# The official kind of a date, or None when the source has no data for its year.
OfficialCalendar = Callable[[dt.date], DayKind | None]


@lru_cache(maxsize=4096)
def china_official(day: dt.date) -> DayKind | None:
    """The kind of `day` in China's official arrangement (chinese-calendar), None for a year it does not know.
    Kept by date: each report's deadlines ask about the same few days, and the package scans its whole table of
    years on every call."""
    try:
        worked = chinese_calendar.is_workday(day)
    except NotImplementedError:  # the package's way of saying it has no data for that year
        return None
    if day in chinese_calendar.holidays:
        return DayKind.HOLIDAY
    return _by_weekday(day, worked)


@dataclass(frozen=True)
class WorkingCalendar:
    """A community's working calendar: the official one with the days config adds."""

    days_off: frozenset[dt.date] = frozenset()
    working_days: frozenset[dt.date] = frozenset()
    workday_pattern: str = "mon"
    official: OfficialCalendar = china_official

    @property
    def config_years(self) -> frozenset[int]:
        return frozenset(day.year for day in self.days_off | self.working_days)


def working_calendar(settings: Settings) -> WorkingCalendar:
    """The calendar `settings.holidays` describes, over China's official one."""
    holidays = settings.holidays
    return WorkingCalendar(frozenset(holidays.days_off), frozenset(holidays.working_days), holidays.workday_pattern)


def day_kind(day: dt.date, calendar: WorkingCalendar) -> DayKind:
    """What kind of day `day` is: config first, then the official arrangement, else by weekday alone.

    A year the official source does not know and config names no day of counts weekends only; the log warns once
    per year and process (not per call: deadlines ask about dozens of days at a time).
    """
    if day in calendar.days_off:
        return DayKind.HOLIDAY
    if day in calendar.working_days:
        return _by_weekday(day, worked=True)
    official = calendar.official(day)
    if official is not None:
        return official
    if day.year not in calendar.config_years:
        _warn_unknown_year(day.year)
    return _by_weekday(day, worked=day.weekday() < 5)


def is_working_day(day: dt.date, calendar: WorkingCalendar) -> bool:
    return day_kind(day, calendar) in (DayKind.WORKDAY, DayKind.MAKEUP)


def is_public_holiday(day: dt.date, calendar: WorkingCalendar) -> bool:
    """Whether the holiday rota, not the weekly one, runs on `day`."""
    return day_kind(day, calendar) is DayKind.HOLIDAY


def weekly_pattern(day: dt.date, calendar: WorkingCalendar) -> str | None:
    """The weekday (`mon` … `sun`, as in a shift's `days`) whose weekly shifts run on `day`; None on a public
    holiday, when none does."""
    kind = day_kind(day, calendar)
    if kind is DayKind.HOLIDAY:
        return None
    if kind is DayKind.MAKEUP:
        return calendar.workday_pattern
    return WEEKDAYS[day.weekday()]


def _by_weekday(day: dt.date, worked: bool) -> DayKind:
    if day.weekday() < 5:
        return DayKind.WORKDAY if worked else DayKind.HOLIDAY
    return DayKind.MAKEUP if worked else DayKind.WEEKEND


@cache
def _warn_unknown_year(year: int) -> None:
    log.warning(
        "no public holidays known for %d (not in chinese-calendar, and config.yaml holidays: names no day of it): "
        "counting weekends only; upgrade chinese-calendar or list that year's days_off and working_days",
        year,
    )
