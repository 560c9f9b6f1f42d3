"""The working calendar: China's public holidays and 调休 from chinese-calendar, config overrides, unknown years."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import pytest

from ledger import workdays
from ledger.workdays import (
    DayKind,
    WorkingCalendar,
    china_official,
    day_kind,
    is_public_holiday,
    is_working_day,
    weekly_pattern,
    working_calendar,
)
from settings.models import Settings

D = dt.date
OFFICIAL = WorkingCalendar()


@pytest.fixture(autouse=True)
def _fresh_warnings() -> Iterator[None]:
    """The unknown-year warning is once per process: each test starts as a new process would."""
    workdays._warn_unknown_year.cache_clear()
    yield
    workdays._warn_unknown_year.cache_clear()


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ledger.workdays" and r.levelno == logging.WARNING]


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        pytest.param(D(2026, 9, 30), DayKind.WORKDAY, id="wednesday-before-guoqing"),
        pytest.param(D(2026, 10, 1), DayKind.HOLIDAY, id="national-day"),
        pytest.param(D(2026, 10, 3), DayKind.HOLIDAY, id="saturday-inside-the-break"),
        pytest.param(D(2026, 10, 7), DayKind.HOLIDAY, id="last-day-of-the-break"),
        pytest.param(D(2026, 10, 8), DayKind.WORKDAY, id="back-to-work"),
        pytest.param(D(2026, 9, 20), DayKind.MAKEUP, id="tiaoxiu-sunday-before"),
        pytest.param(D(2026, 10, 10), DayKind.MAKEUP, id="tiaoxiu-saturday-after"),
        pytest.param(D(2026, 10, 11), DayKind.WEEKEND, id="ordinary-sunday"),
        pytest.param(D(2026, 2, 14), DayKind.MAKEUP, id="spring-festival-tiaoxiu"),
        pytest.param(D(2026, 2, 16), DayKind.HOLIDAY, id="spring-festival"),
    ],
)
def test_the_2026_arrangement_comes_from_chinese_calendar(day: dt.date, kind: DayKind) -> None:
    assert china_official(day) is kind
    assert day_kind(day, OFFICIAL) is kind


def test_a_year_the_package_does_not_know_is_none_not_an_error() -> None:
    assert china_official(D(2099, 1, 1)) is None


def test_working_days_public_holidays_and_the_weekday_whose_shifts_run() -> None:
    guoqing_week = [D(2026, 9, 30) + dt.timedelta(days=n) for n in range(12)]  # Wed 30 Sep … Sun 11 Oct
    assert [is_working_day(day, OFFICIAL) for day in guoqing_week] == [True] + [False] * 7 + [True, True, True, False]
    assert [is_public_holiday(day, OFFICIAL) for day in guoqing_week] == [False] + [True] * 7 + [False] * 4
    assert [weekly_pattern(day, OFFICIAL) for day in guoqing_week] == [
        "wed", None, None, None, None, None, None, None, "thu", "fri", "mon", "sun"
    ]  # fmt: skip
    assert weekly_pattern(D(2026, 10, 10), WorkingCalendar(workday_pattern="fri")) == "fri"


def test_config_adds_local_days_off_and_working_days_and_wins_over_the_package() -> None:
    calendar = WorkingCalendar(
        days_off=frozenset({D(2026, 11, 27)}), working_days=frozenset({D(2026, 10, 2), D(2026, 11, 28)})
    )
    assert day_kind(D(2026, 11, 27), calendar) is DayKind.HOLIDAY  # a local day off (a Friday)
    assert day_kind(D(2026, 11, 28), calendar) is DayKind.MAKEUP  # a Saturday worked
    assert weekly_pattern(D(2026, 11, 28), calendar) == "mon"
    assert day_kind(D(2026, 10, 2), calendar) is DayKind.WORKDAY  # worked although a national holiday
    assert weekly_pattern(D(2026, 10, 2), calendar) == "fri"


def test_an_unknown_year_counts_weekends_only_and_warns_once_per_year(caplog: pytest.LogCaptureFixture) -> None:
    first_week_2027 = [D(2027, 1, 1) + dt.timedelta(days=n) for n in range(7)]  # Fri 1 Jan … Thu 7 Jan
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert [is_working_day(day, OFFICIAL) for day in first_week_2027] == [True, False, False] + [True] * 4
        assert warnings_of(caplog) == [
            "no public holidays known for 2027 (not in chinese-calendar, and config.yaml holidays: names no day of "
            "it): counting weekends only; upgrade chinese-calendar or list that year's days_off and working_days"
        ]
        is_working_day(D(2028, 3, 1), OFFICIAL)
        assert len(warnings_of(caplog)) == 2  # another year, its own warning


def test_a_year_config_names_days_of_is_taken_as_written_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    calendar = WorkingCalendar(days_off=frozenset({D(2027, 1, 1)}), working_days=frozenset({D(2027, 2, 7)}))
    with caplog.at_level(logging.WARNING):
        assert [is_working_day(D(2027, 1, n), calendar) for n in range(1, 5)] == [False, False, False, True]
        assert day_kind(D(2027, 2, 7), calendar) is DayKind.MAKEUP  # a Sunday
        assert day_kind(D(2027, 2, 8), calendar) is DayKind.WORKDAY
    assert warnings_of(caplog) == []


def test_the_calendar_is_built_from_settings(settings: Settings) -> None:
    holidays = {"days_off": ["2027-01-01"], "working_days": ["2027-02-07"], "workday_pattern": "fri"}
    configured = Settings.model_validate({**settings.model_dump(), "holidays": holidays})
    calendar = working_calendar(configured)
    assert calendar == WorkingCalendar(frozenset({D(2027, 1, 1)}), frozenset({D(2027, 2, 7)}), "fri")
    assert working_calendar(settings) == WorkingCalendar()


def test_another_official_source_can_be_injected() -> None:
    every_day_off = WorkingCalendar(official=lambda day: DayKind.HOLIDAY)
    assert not is_working_day(D(2026, 11, 23), every_day_off)
