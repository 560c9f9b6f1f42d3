from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from ledger.rota import Duty, DutySource, escalation_chain, grid_shift_windows, on_duty, shifts_of
from ledger.workdays import WorkingCalendar
from settings.models import RotaOverride, Settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONFIG_YAML = Path(__file__).resolve().parent.parent / "config.yaml"

# 2026-11-23 is a Monday; 2026-11-29 a Sunday; 2026-12-01 a Tuesday.
MON, TUE, WED, SUN = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 29)


def at(day: date, hour: int, minute: int = 0, second: int = 0, microsecond: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, microsecond, tzinfo=SHANGHAI)


def cadre(cadre_id: str, role: str = "cadre", grids: list[str] | None = None) -> dict[str, Any]:
    return {"id": cadre_id, "name": cadre_id.upper(), "chat_id": f"wxid_{cadre_id}", "role": role, "grids": grids or []}


def make_settings(rota: list[dict[str, Any]], cadres: list[dict[str, Any]] | None = None, **extra: Any) -> Settings:
    return Settings.model_validate(
        {
            "community": {"name": "测试社区", "timezone": "Asia/Shanghai"},
            "grids": [{"id": "g1", "name": "一"}, {"id": "g2", "name": "二"}, {"id": "g3", "name": "三"}],
            "cadres": cadres
            or [
                cadre("a", grids=["g1"]),
                cadre("b", grids=["g2"]),
                cadre("c"),
                cadre("d"),
                cadre("lead", "grid_leader", ["g1", "g2"]),
                cadre("lead2", "grid_leader", ["g1"]),
                cadre("sec", "secretary"),
                cadre("sec2", "secretary"),
            ],
            "rota": rota,
            "categories": [{"id": "other", "name": "其他"}],
            **extra,
        }
    )


def swap(day: date, who: str, replacement: str | None) -> RotaOverride:
    return RotaOverride(date=day, cadre=who, replacement=replacement)


def who(duty: Duty) -> tuple[str, DutySource]:
    return duty.cadre.id, duty.source


WEEKDAY_DAY = {
    "grid": "g1",
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "start": "08:30",
    "end": "17:30",
    "cadre": "a",
}
MON_NIGHT = {"grid": "g1", "days": ["mon"], "start": "17:30", "end": "08:30", "cadre": "b"}
SUN_NIGHT = {"grid": "g1", "days": ["sun"], "start": "22:00", "end": "06:00", "cadre": "c"}
COMMUNITY_DAY = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "20:00", "cadre": "d"}


@pytest.mark.parametrize(
    ("rota", "grid_id", "when", "expected"),
    [
        pytest.param([WEEKDAY_DAY], "g1", at(MON, 10), ("a", DutySource.GRID), id="weekday-day-shift"),
        pytest.param([WEEKDAY_DAY], "g1", at(SUN, 10), ("lead", DutySource.GRID_LEADER), id="day-not-in-days"),
        pytest.param([MON_NIGHT], "g1", at(MON, 23), ("b", DutySource.GRID), id="night-before-midnight"),
        pytest.param([MON_NIGHT], "g1", at(TUE, 3), ("b", DutySource.GRID), id="night-after-midnight"),
        pytest.param([MON_NIGHT], "g1", at(MON, 3), ("lead", DutySource.GRID_LEADER), id="night-not-from-sunday"),
        pytest.param([MON_NIGHT], "g1", at(WED, 3), ("lead", DutySource.GRID_LEADER), id="night-not-from-tuesday"),
        pytest.param([SUN_NIGHT], "g1", at(MON, 2), ("c", DutySource.GRID), id="sunday-night-into-monday"),
        pytest.param([SUN_NIGHT], "g1", at(MON, 6), ("lead", DutySource.GRID_LEADER), id="sunday-night-ended"),
        pytest.param([WEEKDAY_DAY], "g1", at(MON, 8, 30), ("a", DutySource.GRID), id="start-inclusive"),
        pytest.param([WEEKDAY_DAY], "g1", at(MON, 8, 29, 59), ("lead", DutySource.GRID_LEADER), id="before-start"),
        pytest.param([WEEKDAY_DAY], "g1", at(MON, 17, 29, 59, 999999), ("a", DutySource.GRID), id="just-before-end"),
        pytest.param([WEEKDAY_DAY], "g1", at(MON, 17, 30), ("lead", DutySource.GRID_LEADER), id="end-exclusive"),
        pytest.param([MON_NIGHT], "g1", at(TUE, 8, 30), ("lead", DutySource.GRID_LEADER), id="night-end-exclusive"),
        pytest.param([WEEKDAY_DAY, MON_NIGHT], "g1", at(MON, 17, 30), ("b", DutySource.GRID), id="handover-to-night"),
        pytest.param(
            [WEEKDAY_DAY, COMMUNITY_DAY], "g1", at(MON, 10), ("a", DutySource.GRID), id="grid-before-community"
        ),
        pytest.param(
            [WEEKDAY_DAY, COMMUNITY_DAY], "g2", at(MON, 10), ("d", DutySource.COMMUNITY), id="community-fallback"
        ),
        pytest.param(
            [WEEKDAY_DAY, COMMUNITY_DAY], "g1", at(MON, 19), ("d", DutySource.COMMUNITY), id="community-after-grid"
        ),
        pytest.param([], "g1", at(MON, 10), ("lead", DutySource.GRID_LEADER), id="grid-leader-first-in-config"),
        pytest.param([], "g2", at(MON, 10), ("lead", DutySource.GRID_LEADER), id="grid-leader-fallback"),
        pytest.param([], "g3", at(MON, 10), ("sec", DutySource.SECRETARY), id="secretary-when-no-leader"),
        pytest.param([], "nowhere", at(MON, 10), ("sec", DutySource.SECRETARY), id="unknown-grid-id"),
        pytest.param(
            [WEEKDAY_DAY, COMMUNITY_DAY], None, at(MON, 10), ("d", DutySource.COMMUNITY), id="none-skips-grid-shift"
        ),
        pytest.param([WEEKDAY_DAY], None, at(MON, 10), ("sec", DutySource.SECRETARY), id="none-skips-grid-leader"),
    ],
)
def test_on_duty(rota: list[dict[str, Any]], grid_id: str | None, when: datetime, expected: tuple[str, DutySource]):
    assert who(on_duty(make_settings(rota), grid_id, when)) == expected


@pytest.mark.parametrize(
    ("config_overrides", "runtime_overrides", "when", "expected"),
    [
        pytest.param([], [swap(MON, "a", None)], at(MON, 10), ("d", DutySource.COMMUNITY), id="leave-to-community"),
        pytest.param(
            [],
            [swap(MON, "a", None), swap(MON, "d", None)],
            at(MON, 10),
            ("lead", DutySource.GRID_LEADER),
            id="leave-to-grid-leader",
        ),
        pytest.param([], [swap(TUE, "a", None)], at(MON, 10), ("a", DutySource.GRID), id="leave-other-day"),
        pytest.param([], [swap(MON, "a", "c")], at(MON, 10), ("c", DutySource.GRID), id="swap"),
        pytest.param([], [swap(MON, "b", None)], at(TUE, 3), ("d", DutySource.COMMUNITY), id="leave-on-start-day"),
        pytest.param([], [swap(TUE, "b", None)], at(TUE, 3), ("b", DutySource.GRID), id="leave-after-start-day"),
        pytest.param([], [swap(MON, "b", "c")], at(TUE, 3), ("c", DutySource.GRID), id="swap-night-after-midnight"),
        pytest.param(
            [],
            [swap(MON, "a", "c"), swap(MON, "c", "b")],
            at(MON, 10),
            ("c", DutySource.GRID),
            id="chain-resolves-once",
        ),
        pytest.param(
            [],
            [swap(MON, "a", "b"), swap(MON, "a", "c")],
            at(MON, 10),
            ("c", DutySource.GRID),
            id="later-runtime-wins",
        ),
        pytest.param([swap(MON, "a", "b")], [], at(MON, 10), ("b", DutySource.GRID), id="config-override"),
        pytest.param(
            [swap(MON, "a", "b")], [swap(MON, "a", "c")], at(MON, 10), ("c", DutySource.GRID), id="runtime-beats-config"
        ),
        pytest.param(
            [swap(MON, "a", "b")],
            [swap(MON, "a", None)],
            at(MON, 10),
            ("d", DutySource.COMMUNITY),
            id="runtime-leave-beats-config-swap",
        ),
        pytest.param(
            [], [swap(MON, "a", "ghost")], at(MON, 10), ("d", DutySource.COMMUNITY), id="unknown-replacement-skipped"
        ),
    ],
)
def test_on_duty_overrides(
    config_overrides: list[RotaOverride],
    runtime_overrides: list[RotaOverride],
    when: datetime,
    expected: tuple[str, DutySource],
):
    settings = make_settings(
        [WEEKDAY_DAY, MON_NIGHT, {**COMMUNITY_DAY, "end": "07:00"}],
        rota_overrides=[o.model_dump() for o in config_overrides],
    )
    assert who(on_duty(settings, "g1", when, runtime_overrides)) == expected


def test_overrides_do_not_touch_escalation():
    settings = make_settings([])
    duty = on_duty(settings, "g1", at(MON, 10), [swap(MON, "lead", None)])
    assert who(duty) == ("lead", DutySource.GRID_LEADER)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        pytest.param(datetime(2026, 11, 23, 1, 0, tzinfo=UTC), "a", id="utc-morning-is-shanghai-09:00"),
        pytest.param(datetime(2026, 11, 23, 20, 0, tzinfo=UTC), "b", id="utc-monday-is-shanghai-tuesday-04:00"),
        pytest.param(datetime(2026, 11, 23, 0, 30, tzinfo=UTC), "a", id="utc-00:30-is-shanghai-start"),
        pytest.param(datetime(2026, 11, 23, 0, 29, tzinfo=UTC), "lead", id="utc-00:29-is-before-start"),
        pytest.param(datetime(2026, 11, 23, 11, 0, tzinfo=ZoneInfo("Europe/Berlin")), "b", id="berlin-11:00-is-18:00"),
    ],
)
def test_on_duty_converts_timezone(when: datetime, expected: str):
    assert on_duty(make_settings([WEEKDAY_DAY, MON_NIGHT]), "g1", when).cadre.id == expected


def test_on_duty_rejects_naive_datetime():
    with pytest.raises(ValueError, match="timezone-aware"):
        on_duty(make_settings([WEEKDAY_DAY]), "g1", datetime(2026, 11, 23, 10, 0))


def test_on_duty_without_secretary_raises():
    settings = make_settings([], cadres=[cadre("a", grids=["g1"])])
    with pytest.raises(LookupError):
        on_duty(settings, "g1", at(MON, 10))


@pytest.mark.parametrize(
    ("grid_id", "expected"),
    [
        pytest.param("g1", ["lead", "lead2", "sec", "sec2"], id="two-leaders"),
        pytest.param("g2", ["lead", "sec", "sec2"], id="one-leader"),
        pytest.param("g3", ["sec", "sec2"], id="no-leader"),
        pytest.param(None, ["sec", "sec2"], id="unknown-place"),
    ],
)
def test_escalation_chain(grid_id: str | None, expected: list[str]):
    assert [c.id for c in escalation_chain(make_settings([]), grid_id)] == expected


def test_escalation_chain_has_no_duplicates():
    cadres = [cadre("lead", "grid_leader", ["g1", "g1"]), cadre("sec", "secretary"), cadre("sec", "secretary")]
    assert [c.id for c in escalation_chain(make_settings([], cadres=cadres), "g1")] == ["lead", "sec"]


NIGHT_COMMUNITY = {"days": ["mon", "tue"], "start": "20:00", "end": "00:00", "cadre": "a"}


@pytest.mark.parametrize(
    ("cadre_id", "day", "overrides", "expected"),
    [
        pytest.param("a", MON, [], [(at(MON, 8, 30), at(MON, 17, 30)), (at(MON, 20), at(TUE, 0))], id="day-and-night"),
        pytest.param("a", SUN, [], [], id="not-rostered"),
        pytest.param("b", MON, [], [(at(MON, 17, 30), at(TUE, 8, 30))], id="crosses-midnight"),
        pytest.param("b", TUE, [], [], id="night-belongs-to-start-day"),
        pytest.param("a", MON, [swap(MON, "a", None)], [], id="leave"),
        pytest.param(
            "a",
            MON,
            [swap(TUE, "a", None)],
            [(at(MON, 8, 30), at(MON, 17, 30)), (at(MON, 20), at(TUE, 0))],
            id="leave-other-day",
        ),
        pytest.param("a", MON, [swap(MON, "a", "c")], [], id="given-away"),
        pytest.param(
            "c",
            MON,
            [swap(MON, "a", "c")],
            [(at(MON, 8, 30), at(MON, 17, 30)), (at(MON, 20), at(TUE, 0))],
            id="received",
        ),
        pytest.param(
            "b",
            MON,
            [swap(MON, "a", "b")],
            [(at(MON, 8, 30), at(MON, 17, 30)), (at(MON, 17, 30), at(TUE, 8, 30)), (at(MON, 20), at(TUE, 0))],
            id="received-plus-own",
        ),
        pytest.param(
            "c",
            MON,
            [swap(MON, "a", "c"), swap(MON, "c", "d")],
            [(at(MON, 8, 30), at(MON, 17, 30)), (at(MON, 20), at(TUE, 0))],
            id="chain-resolves-once",
        ),
    ],
)
def test_shifts_of(cadre_id: str, day: date, overrides: list[RotaOverride], expected: list[tuple[datetime, datetime]]):
    settings = make_settings([WEEKDAY_DAY, MON_NIGHT, NIGHT_COMMUNITY])
    assert shifts_of(settings, cadre_id, day, overrides) == expected


def test_shifts_of_returns_shanghai_datetimes_and_merges_identical_windows():
    settings = make_settings([WEEKDAY_DAY, {**WEEKDAY_DAY, "grid": "g2"}])
    (window,) = shifts_of(settings, "a", MON)
    assert window == (at(MON, 8, 30), at(MON, 17, 30))
    assert all(moment.tzinfo == SHANGHAI for moment in window)


def test_shifts_of_applies_config_overrides_then_runtime():
    settings = make_settings([WEEKDAY_DAY], rota_overrides=[{"date": MON, "cadre": "a", "replacement": "b"}])
    assert shifts_of(settings, "b", MON) == [(at(MON, 8, 30), at(MON, 17, 30))]
    assert shifts_of(settings, "a", MON) == []
    assert shifts_of(settings, "b", MON, [swap(MON, "a", "c")]) == []
    assert shifts_of(settings, "c", MON, [swap(MON, "a", "c")]) == [(at(MON, 8, 30), at(MON, 17, 30))]


@pytest.fixture(scope="module")
def repo_settings() -> Settings:
    return Settings.model_validate(yaml.safe_load(CONFIG_YAML.read_text(encoding="utf-8")))


DEC1, DEC2 = date(2026, 12, 1), date(2026, 12, 2)


@pytest.mark.parametrize(
    ("grid_id", "when", "expected"),
    [
        pytest.param("g1", at(MON, 9), ("wangfang", DutySource.GRID), id="g1-weekday"),
        pytest.param("g2", at(MON, 9), ("lijun", DutySource.GRID), id="g2-weekday"),
        pytest.param("g1", at(MON, 8), ("lijun", DutySource.COMMUNITY), id="sunday-night-shift-monday-08:00"),
        pytest.param("g1", at(MON, 18), ("lijun", DutySource.COMMUNITY), id="monday-night"),
        pytest.param("g2", at(TUE, 3), ("lijun", DutySource.COMMUNITY), id="monday-night-after-midnight"),
        pytest.param("g1", at(TUE, 20), ("wangfang", DutySource.COMMUNITY), id="tuesday-night"),
        pytest.param("g2", at(SUN, 12), ("zhaomin", DutySource.COMMUNITY), id="weekend-day"),
        pytest.param("g1", at(SUN, 23), ("lijun", DutySource.COMMUNITY), id="sunday-night"),
        pytest.param(None, at(MON, 9), ("chenjie", DutySource.SECRETARY), id="unknown-place-weekday-day"),
        pytest.param("g1", at(DEC1, 9), ("lijun", DutySource.GRID), id="config-override-day"),
        pytest.param("g1", at(DEC1, 20), ("lijun", DutySource.COMMUNITY), id="config-override-night"),
        pytest.param("g1", at(DEC2, 3), ("lijun", DutySource.COMMUNITY), id="config-override-night-after-midnight"),
        pytest.param("g1", at(DEC2, 9), ("wangfang", DutySource.GRID), id="override-over"),
    ],
)
def test_repo_config(repo_settings: Settings, grid_id: str | None, when: datetime, expected: tuple[str, DutySource]):
    assert who(on_duty(repo_settings, grid_id, when)) == expected


def test_repo_config_shifts_and_chain(repo_settings: Settings):
    assert shifts_of(repo_settings, "wangfang", DEC1) == []
    assert shifts_of(repo_settings, "lijun", DEC1) == [
        (at(DEC1, 8, 30), at(DEC1, 17, 30)),
        (at(DEC1, 17, 30), at(DEC2, 8, 30)),
    ]
    assert shifts_of(repo_settings, "wangfang", DEC1, [swap(DEC1, "wangfang", None)]) == []
    assert shifts_of(repo_settings, "lijun", DEC1, [swap(DEC1, "wangfang", "zhaomin")]) == [
        (at(DEC1, 8, 30), at(DEC1, 17, 30))
    ]
    assert [c.id for c in escalation_chain(repo_settings, "g1")] == ["zhaomin", "chenjie"]
    # A runtime leave replaces the config swap; nobody else works Tuesday daytime, so the grid leader answers.
    assert who(on_duty(repo_settings, "g1", at(DEC1, 9), [swap(DEC1, "wangfang", None)])) == (
        "zhaomin",
        DutySource.GRID_LEADER,
    )


# 国庆 2026: Thursday 1 to Wednesday 7 October off (Saturday 3 among them); Saturday 10 October is worked (调休).
OCT1, OCT3, OCT7, OCT8, OCT10 = (date(2026, 10, day) for day in (1, 3, 7, 8, 10))
HOLIDAY_DAY = {"grid": "g1", "start": "09:00", "end": "17:00", "cadre": "c"}
HOLIDAY_NIGHT = {"start": "20:00", "end": "08:00", "cadre": "d"}
WEEKEND_DAY = {"grid": "g1", "days": ["sat", "sun"], "start": "09:00", "end": "17:00", "cadre": "b"}


@pytest.mark.parametrize(
    ("holiday_rota", "grid_id", "when", "expected"),
    [
        pytest.param([], "g1", at(OCT1, 10), ("lead", DutySource.GRID_LEADER), id="weekday-shift-off-on-holiday"),
        pytest.param([], "g1", at(OCT3, 10), ("lead", DutySource.GRID_LEADER), id="weekend-shift-off-in-the-break"),
        pytest.param([], "g1", at(OCT8, 10), ("a", DutySource.GRID), id="back-to-the-weekly-rota"),
        pytest.param([HOLIDAY_DAY], "g1", at(OCT1, 10), ("c", DutySource.GRID), id="holiday-rota-grid"),
        pytest.param([HOLIDAY_DAY], "g1", at(OCT1, 18), ("lead", DutySource.GRID_LEADER), id="then-the-chain"),
        pytest.param([HOLIDAY_DAY, HOLIDAY_NIGHT], "g1", at(OCT1, 23), ("d", DutySource.COMMUNITY), id="community"),
        pytest.param([HOLIDAY_NIGHT], "g2", at(OCT8, 7), ("d", DutySource.COMMUNITY), id="last-night-into-workday"),
        pytest.param([HOLIDAY_NIGHT], "g2", at(OCT1, 3), ("lead", DutySource.GRID_LEADER), id="not-from-a-workday"),
        pytest.param([HOLIDAY_DAY], "g1", at(SUN, 10), ("b", DutySource.GRID), id="not-on-an-ordinary-sunday"),
        pytest.param([HOLIDAY_DAY], "g1", at(OCT10, 10), ("a", DutySource.GRID), id="make-up-saturday-runs-monday"),
        pytest.param([HOLIDAY_DAY], "g1", at(OCT10, 18), ("b", DutySource.GRID), id="make-up-saturday-monday-night"),
    ],
)
def test_on_duty_on_public_holidays_and_make_up_days(
    holiday_rota: list[dict[str, Any]], grid_id: str, when: datetime, expected: tuple[str, DutySource]
):
    settings = make_settings([WEEKDAY_DAY, MON_NIGHT, WEEKEND_DAY], holiday_rota=holiday_rota)
    assert who(on_duty(settings, grid_id, when)) == expected


def test_the_make_up_day_pattern_is_configurable():
    friday_only = {**WEEKDAY_DAY, "days": ["fri"], "cadre": "c"}
    mondays = make_settings([friday_only, WEEKDAY_DAY])
    fridays = make_settings([friday_only, WEEKDAY_DAY], holidays={"workday_pattern": "fri"})
    assert who(on_duty(mondays, "g1", at(OCT10, 10))) == ("a", DutySource.GRID)
    assert who(on_duty(fridays, "g1", at(OCT10, 10))) == ("c", DutySource.GRID)
    assert shifts_of(mondays, "c", OCT10) == []
    assert shifts_of(fridays, "c", OCT10) == [(at(OCT10, 8, 30), at(OCT10, 17, 30))]


def test_a_local_day_off_runs_the_holiday_rota():
    settings = make_settings([WEEKDAY_DAY], holiday_rota=[HOLIDAY_DAY], holidays={"days_off": ["2026-11-23"]})
    assert who(on_duty(settings, "g1", at(MON, 10))) == ("c", DutySource.GRID)
    assert who(on_duty(settings, "g1", at(TUE, 10))) == ("a", DutySource.GRID)


def test_overrides_and_shifts_of_cover_holiday_shifts():
    settings = make_settings([WEEKDAY_DAY], holiday_rota=[HOLIDAY_DAY])
    assert shifts_of(settings, "c", OCT1) == [(at(OCT1, 9), at(OCT1, 17))]
    assert shifts_of(settings, "a", OCT1) == []
    assert shifts_of(settings, "c", OCT8) == []
    assert who(on_duty(settings, "g1", at(OCT1, 10), [swap(OCT1, "c", "d")])) == ("d", DutySource.GRID)
    assert who(on_duty(settings, "g1", at(OCT7, 10), [swap(OCT1, "c", "d")])) == ("c", DutySource.GRID)


def test_working_hours_have_no_holiday_shift_and_follow_the_injected_calendar():
    settings = make_settings([WEEKDAY_DAY], holiday_rota=[HOLIDAY_DAY])
    assert grid_shift_windows(settings, "g1", OCT1) == []  # the holiday rota is duty, not office hours
    assert grid_shift_windows(settings, "g1", OCT10) == [(at(OCT10, 8, 30), at(OCT10, 17, 30))]
    every_day_worked = WorkingCalendar(working_days=frozenset({OCT1}))
    assert grid_shift_windows(settings, "g1", OCT1, every_day_worked) == [(at(OCT1, 8, 30), at(OCT1, 17, 30))]
    assert who(on_duty(settings, "g1", at(OCT1, 10), calendar=every_day_worked)) == ("a", DutySource.GRID)
