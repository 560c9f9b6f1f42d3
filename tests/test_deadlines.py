"""Deadlines from service levels, including categories that pause outside the grid's shifts."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger.deadlines import describe_minutes, on_shift_deadline, resolution_due, response_due, shift_windows
from settings.models import Category, Settings
from tests.conftest import MONDAY_9AM, SHANGHAI

H = dt.timedelta(hours=1)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def office_hours(day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """Weekdays 08:30–17:30."""
    if day.weekday() >= 5:
        return []
    start = dt.datetime.combine(day, dt.time(8, 30), SHANGHAI)
    return [(start, start + 9 * H)]


@pytest.mark.parametrize(
    ("since", "duration", "expected"),
    [
        (at(23, 9), H, at(23, 10)),  # inside a shift
        (at(23, 17), H, at(24, 9)),  # 30 min today, 30 min tomorrow morning
        (at(23, 20), H, at(24, 9, 30)),  # reported in the evening: the clock starts at 08:30
        (at(27, 17), 2 * H, at(30, 10)),  # Friday 17:00 → Monday: the weekend does not count
        (at(28, 11), H, at(30, 9, 30)),  # reported on Saturday
        (at(23, 9), 48 * H, at(30, 12)),  # 8.5 h Monday + 4 × 9 h, then 3.5 h the next Monday
    ],
)
def test_on_shift_deadlines_pause_outside_the_windows(since, duration, expected) -> None:
    assert on_shift_deadline(since, duration, office_hours) == expected


def test_windows_crossing_midnight_count_on_both_sides() -> None:
    def nights(day: dt.date):
        start = dt.datetime.combine(day, dt.time(22, 0), SHANGHAI)
        return [(start, start + 8 * H)]

    assert on_shift_deadline(at(23, 12), 3 * H, nights) == at(24, 1)
    assert on_shift_deadline(at(24, 2), 5 * H, nights) == at(24, 23)  # 4 h until 06:00, 1 h from 22:00


def test_without_windows_the_clock_never_pauses() -> None:
    assert on_shift_deadline(at(28, 11), H, lambda day: []) == at(28, 12)


def test_only_categories_that_say_so_pause(settings: Settings) -> None:
    drainage = settings.category("drainage")
    assert shift_windows(settings, drainage, "g1") is None
    pausing = Category(id="drainage", name="给排水", pause_outside_shift=True, first_response_minutes=60)
    windows = shift_windows(settings, pausing, "g1")
    assert windows is not None and shift_windows(settings, pausing, None) is None
    friday_evening = at(27, 18)
    assert response_due(pausing, friday_evening, windows) == at(30, 9, 30)  # g1 works Mon–Fri 08:30–17:30
    assert response_due(drainage, friday_evening) == friday_evening + H
    assert resolution_due(drainage, MONDAY_9AM) == MONDAY_9AM + 48 * H


@pytest.mark.parametrize(
    ("minutes", "text"), [(60, "1小时"), (90, "1小时30分钟"), (30, "30分钟"), (2880, "2天"), (0, "0分钟")]
)
def test_describe_minutes(minutes: int, text: str) -> None:
    assert describe_minutes(minutes) == text
