"""Deadlines from service levels, including categories that pause outside the grid's shifts, holidays and 调休."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import pytest

from ledger import workdays
from ledger.deadlines import describe_minutes, on_shift_deadline, resolution_due, response_due, shift_windows
from ledger.workdays import DayKind, WorkingCalendar
from settings.models import Category, Holidays, Settings
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


PAUSING = Category(id="welfare", name="社保民生", pause_outside_shift=True, first_response_minutes=60)


def when(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def with_holidays(settings: Settings, **holidays: object) -> Settings:
    return settings.model_copy(update={"holidays": Holidays.model_validate(holidays)})


@pytest.fixture
def fresh_warnings() -> Iterator[None]:
    """The unknown-year warning is once per process: start as a new process would."""
    workdays._warn_unknown_year.cache_clear()
    yield
    workdays._warn_unknown_year.cache_clear()


@pytest.mark.parametrize(
    ("since", "hours", "expected"),
    [
        # g1 works Mon–Fri 08:30–17:30. 国庆 2026: 1–7 October off; Sunday 20 September, Saturday 10 October worked.
        pytest.param(when(2026, 9, 30, 17), 1, when(2026, 10, 8, 9), id="over-guoqing"),
        pytest.param(when(2026, 10, 3, 10), 1, when(2026, 10, 8, 9, 30), id="reported-during-guoqing"),
        pytest.param(when(2026, 9, 30, 8, 30), 24, when(2026, 10, 9, 14, 30), id="resolution-over-guoqing"),
        pytest.param(when(2026, 9, 30, 8, 30), 30, when(2026, 10, 10, 11, 30), id="resolution-counts-the-saturday"),
        pytest.param(when(2026, 10, 9, 17), 1, when(2026, 10, 10, 9), id="tiaoxiu-saturday-runs-monday-hours"),
        pytest.param(when(2026, 9, 18, 17), 1, when(2026, 9, 20, 9), id="tiaoxiu-sunday-after-a-weekend-saturday"),
        pytest.param(when(2026, 10, 10, 18), 1, when(2026, 10, 12, 9, 30), id="the-sunday-after-is-off"),
    ],
)
def test_paused_deadlines_skip_public_holidays_and_count_make_up_days(
    settings: Settings, since: dt.datetime, hours: int, expected: dt.datetime
) -> None:
    category = PAUSING.model_copy(update={"resolution_hours": hours})
    windows = shift_windows(settings, category, "g1")
    assert resolution_due(category, since, windows) == expected
    assert resolution_due(category, since) == since + dt.timedelta(hours=hours)  # a category that never pauses


def test_a_make_up_day_runs_the_configured_weekday(settings: Settings) -> None:
    day_shift = settings.rota[0]  # g1, Mon–Fri 08:30–17:30
    short_fridays = [
        day_shift.model_copy(update={"days": ["mon", "tue", "wed", "thu"]}),
        day_shift.model_copy(update={"days": ["fri"], "start": dt.time(13)}),
    ]
    rota = settings.model_copy(update={"rota": short_fridays})
    friday_evening = when(2026, 10, 9, 17)  # the Saturday after is worked (调休)
    assert response_due(PAUSING, friday_evening, shift_windows(rota, PAUSING, "g1")) == when(2026, 10, 10, 9)
    fridays = with_holidays(rota, workday_pattern="fri")
    assert response_due(PAUSING, friday_evening, shift_windows(fridays, PAUSING, "g1")) == when(2026, 10, 10, 13, 30)


def test_a_local_day_off_pauses_the_clock(settings: Settings) -> None:
    thursday = when(2026, 11, 26, 17)
    assert response_due(PAUSING, thursday, shift_windows(settings, PAUSING, "g1")) == when(2026, 11, 27, 9)
    day_off = with_holidays(settings, days_off=["2026-11-27"])
    assert response_due(PAUSING, thursday, shift_windows(day_off, PAUSING, "g1")) == when(2026, 11, 30, 9)


@pytest.mark.usefixtures("fresh_warnings")
def test_a_year_nobody_knows_counts_weekends_only_with_one_warning(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    new_years_eve = when(2026, 12, 31, 17)  # a Thursday; 1 January 2027 is a Friday
    with caplog.at_level(logging.WARNING, logger="ledger.workdays"):
        for _ in range(3):
            windows = shift_windows(settings, PAUSING, "g1")
            assert response_due(PAUSING, new_years_eve, windows) == when(2027, 1, 1, 9)
    assert [r.getMessage()[:33] for r in caplog.records] == ["no public holidays known for 2027"]
    caplog.clear()
    written = with_holidays(settings, days_off=["2027-01-01"], working_days=["2027-02-07"])
    with caplog.at_level(logging.WARNING, logger="ledger.workdays"):
        assert response_due(PAUSING, new_years_eve, shift_windows(written, PAUSING, "g1")) == when(2027, 1, 4, 9)
    assert caplog.records == []


@pytest.mark.usefixtures("fresh_warnings")
def test_the_calendar_is_asked_only_as_far_as_the_deadline_reaches(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ledger.workdays"):
        assert response_due(PAUSING, when(2026, 12, 28, 9), shift_windows(settings, PAUSING, "g1")) == when(
            2026, 12, 28, 10
        )
    assert caplog.records == []  # 2027 lies within the 60 days searched, but the deadline never gets there


def test_a_calendar_can_be_injected(settings: Settings) -> None:
    nothing_worked = WorkingCalendar(official=lambda day: DayKind.HOLIDAY)
    windows = shift_windows(settings, PAUSING, "g1", nothing_worked)
    assert windows is not None and windows(MONDAY_9AM.date()) == []
    assert response_due(PAUSING, MONDAY_9AM, windows) == MONDAY_9AM + H  # no window in 60 days: no pause


@pytest.mark.parametrize(
    ("minutes", "text"), [(60, "1小时"), (90, "1小时30分钟"), (30, "30分钟"), (2880, "2天"), (0, "0分钟")]
)
def test_describe_minutes(minutes: int, text: str) -> None:
    assert describe_minutes(minutes) == text
