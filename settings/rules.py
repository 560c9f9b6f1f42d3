"""What must hold between the sections of a well-formed configuration (errors), and what is worth a look (warnings).

Each rule yields `ConfigProblem`s at key paths; the loader turns them into line-numbered lines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import chinese_calendar

from settings import texts
from settings.models import GroupKind, Role, Settings

# How far ahead `huiyin check` looks for a year without a holiday calendar: as far as a paused deadline is
# searched (ledger/deadlines.py), so the warning comes before the first deadline that reaches that year.
CALENDAR_LOOKAHEAD_DAYS = 60


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in the configuration, at a key path such as ("rota", 2, "end")."""

    loc: tuple[str | int, ...]
    message: str


def config_problems(settings: Settings) -> Iterator[ConfigProblem]:
    """Yield every error: ids that point at nothing or repeat, missing roles, and values two entries share."""
    yield from _references(settings)
    yield from _cadres(settings)
    yield from _groups(settings)
    yield from _buildings(settings)
    yield from _holidays(settings)
    yield from _units(settings)
    yield from _bot_accounts(settings)


def config_warnings(settings: Settings) -> Iterator[ConfigProblem]:
    """Yield what the bot can run with but is probably not meant: grids nobody leads, unreachable categories."""
    for index, grid in enumerate(settings.grids):
        if not any(c.role is Role.GRID_LEADER and grid.id in c.grids for c in settings.cadres):
            yield ConfigProblem(("grids", index), texts.NO_GRID_LEADER.format(value=grid.id))
    fallback = settings.fallback_category
    for index, category in enumerate(settings.categories):
        if category != fallback and not category.keywords and not category.weights:
            yield ConfigProblem(("categories", index, "keywords"), texts.NO_KEYWORDS.format(value=category.id))
    named = {u.group for u in settings.units}
    for index, group in enumerate(settings.groups):
        if group.kind is GroupKind.UNIT and group.name not in named:
            yield ConfigProblem(("groups", index, "kind"), texts.UNIT_GROUP_WITHOUT_UNIT.format(value=group.name))


def calendar_warnings(settings: Settings, today: dt.date) -> Iterator[ConfigProblem]:
    """Warn about a year the next `CALENDAR_LOOKAHEAD_DAYS` reach whose days off nobody knows: neither the
    chinese-calendar package (its next year comes out after the State Council's notice each November or
    December) nor `holidays:` in config. Its public holidays would count as working days."""
    ahead = today + dt.timedelta(days=CALENDAR_LOOKAHEAD_DAYS)
    for year in sorted({today.year, ahead.year} - settings.holidays.years()):
        if not _calendar_knows(year):
            yield ConfigProblem(("holidays",), texts.UNKNOWN_HOLIDAY_YEAR.format(year=year))


def _calendar_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:  # the package's way of saying it has no data for that year
        return False
    return True


def _references(settings: Settings) -> Iterator[ConfigProblem]:
    grid_ids = {g.id for g in settings.grids}
    cadre_ids = {c.id for c in settings.cadres}

    for key, items in (("grids", settings.grids), ("cadres", settings.cadres), ("categories", settings.categories)):
        yield from _repeated(key, "id", [item.id for item in items], texts.DUPLICATE_ID)
    for index, cadre in enumerate(settings.cadres):
        for gi, grid in enumerate(cadre.grids):
            if grid not in grid_ids:
                yield ConfigProblem(("cadres", index, "grids", gi), texts.UNKNOWN_GRID.format(value=grid))
    for index, shift in enumerate(settings.rota):
        if shift.grid is not None and shift.grid not in grid_ids:
            yield ConfigProblem(("rota", index, "grid"), texts.UNKNOWN_GRID.format(value=shift.grid))
        if shift.cadre not in cadre_ids:
            yield ConfigProblem(("rota", index, "cadre"), texts.UNKNOWN_CADRE.format(value=shift.cadre))
        if shift.start == shift.end:
            yield ConfigProblem(("rota", index, "end"), texts.EMPTY_SHIFT)
    for index, holiday_shift in enumerate(settings.holiday_rota):
        if holiday_shift.grid is not None and holiday_shift.grid not in grid_ids:
            yield ConfigProblem(("holiday_rota", index, "grid"), texts.UNKNOWN_GRID.format(value=holiday_shift.grid))
        if holiday_shift.cadre not in cadre_ids:
            yield ConfigProblem(("holiday_rota", index, "cadre"), texts.UNKNOWN_CADRE.format(value=holiday_shift.cadre))
        if holiday_shift.start == holiday_shift.end:
            yield ConfigProblem(("holiday_rota", index, "end"), texts.EMPTY_SHIFT)
    for index, override in enumerate(settings.rota_overrides):
        if override.cadre not in cadre_ids:
            yield ConfigProblem(("rota_overrides", index, "cadre"), texts.UNKNOWN_CADRE.format(value=override.cadre))
        if override.replacement is not None and override.replacement not in cadre_ids:
            loc = ("rota_overrides", index, "replacement")
            yield ConfigProblem(loc, texts.UNKNOWN_CADRE.format(value=override.replacement))
    for index, group in enumerate(settings.groups):
        for gi, grid in enumerate(group.grids):
            if grid not in grid_ids:
                yield ConfigProblem(("groups", index, "grids", gi), texts.UNKNOWN_GRID.format(value=grid))
    if not any(c.role is Role.SECRETARY for c in settings.cadres):
        yield ConfigProblem(("cadres",), texts.NO_SECRETARY)


def _repeated(key: str, field: str, values: Iterable[str | None], template: str) -> Iterator[ConfigProblem]:
    """A problem at every entry of `key` whose `field` repeats an earlier entry's (None is no value)."""
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value is not None and value in seen:
            yield ConfigProblem((key, index, field), template.format(value=value))
        if value is not None:
            seen.add(value)


def _cadres(settings: Settings) -> Iterator[ConfigProblem]:
    """A chat id or a name (`@王芳`, `换班 王芳`) must lead to one cadre: the ledger keys cadres by chat id."""
    chat_owners: dict[str, str] = {}
    name_owners: dict[str, str] = {}
    for index, cadre in enumerate(settings.cadres):
        if cadre.chat_id in chat_owners:
            message = texts.DUPLICATE_CHAT_ID.format(value=cadre.chat_id, other=chat_owners[cadre.chat_id])
            yield ConfigProblem(("cadres", index, "chat_id"), message)
        chat_owners.setdefault(cadre.chat_id, cadre.name)
        names: list[tuple[tuple[str | int, ...], str]] = [(("name",), cadre.name)]
        names += [(("aliases", ai), alias) for ai, alias in enumerate(cadre.aliases)]
        for loc, name in names:
            owner = name_owners.get(name)
            if owner is not None and owner != cadre.id:
                yield ConfigProblem(("cadres", index, *loc), texts.DUPLICATE_CADRE_NAME.format(value=name, other=owner))
        for _, name in names:
            name_owners.setdefault(name, cadre.id)


def _groups(settings: Settings) -> Iterator[ConfigProblem]:
    """Groups are matched by room name or id, and the ledger keys them by name: each may appear once."""
    yield from _repeated("groups", "name", [g.name for g in settings.groups], texts.DUPLICATE_GROUP_NAME)
    yield from _repeated("groups", "id", [g.id for g in settings.groups], texts.DUPLICATE_GROUP_ID)
    cadres_groups = [(index, g) for index, g in enumerate(settings.groups) if g.kind is GroupKind.CADRES]
    for index, _ in cadres_groups[1:]:
        yield ConfigProblem(("groups", index, "kind"), texts.SECOND_CADRES_GROUP.format(other=cadres_groups[0][1].name))


def _buildings(settings: Settings) -> Iterator[ConfigProblem]:
    """A building decides the grid of a report, so it can be in one grid only."""
    grid_of: dict[str, str] = {}
    for index, grid in enumerate(settings.grids):
        for bi, building in enumerate(grid.buildings):
            other = grid_of.setdefault(building, grid.id)
            if other != grid.id:
                message = texts.BUILDING_IN_TWO_GRIDS.format(value=building, other=other)
                yield ConfigProblem(("grids", index, "buildings", bi), message)


def _holidays(settings: Settings) -> Iterator[ConfigProblem]:
    """A day is off or worked, once; a worked Saturday or Sunday runs the shifts of a day from Monday to Friday."""
    holidays = settings.holidays
    for key, days in (("days_off", holidays.days_off), ("working_days", holidays.working_days)):
        for index, day in enumerate(days):
            if day in days[:index]:
                yield ConfigProblem(("holidays", key, index), texts.DUPLICATE_DATE.format(value=day))
    for index, day in enumerate(holidays.working_days):
        if day in holidays.days_off:
            yield ConfigProblem(("holidays", "working_days", index), texts.OFF_AND_WORK.format(value=day))
    if holidays.workday_pattern in ("sat", "sun"):
        message = texts.WEEKEND_WORKDAY_PATTERN.format(value=holidays.workday_pattern)
        yield ConfigProblem(("holidays", "workday_pattern"), message)


def _units(settings: Settings) -> Iterator[ConfigProblem]:
    """A partner unit is found by its id, short name or name, is reached in its own group (kind: unit) or through
    its members, and acts by its members' chat ids: each of them leads to one unit and is nobody else's."""
    unit_ids = {u.id for u in settings.units}
    category_ids = {c.id for c in settings.categories}
    groups = {g.name: g for g in settings.groups}
    yield from _repeated("units", "id", [u.id for u in settings.units], texts.DUPLICATE_ID)
    for index, category in enumerate(settings.categories):
        if category.default_unit is not None and category.default_unit not in unit_ids:
            message = texts.UNKNOWN_UNIT.format(value=category.default_unit)
            yield ConfigProblem(("categories", index, "default_unit"), message)
        if category.auto_dispatch and category.default_unit is None:
            yield ConfigProblem(("categories", index, "auto_dispatch"), texts.AUTO_DISPATCH_WITHOUT_UNIT)
    name_owners: dict[str, str] = {}
    chat_owners = {c.chat_id: texts.CADRE_OWNER.format(name=c.name) for c in settings.cadres}
    for index, unit in enumerate(settings.units):
        for key in ("short", "name"):
            value = getattr(unit, key)
            if value is None:
                continue
            owner = name_owners.setdefault(value, unit.id)
            if owner != unit.id:
                yield ConfigProblem(("units", index, key), texts.DUPLICATE_UNIT_NAME.format(value=value, other=owner))
        for ci, category in enumerate(unit.categories):
            if category not in category_ids:
                yield ConfigProblem(("units", index, "categories", ci), texts.UNKNOWN_CATEGORY.format(value=category))
        if unit.group is not None:
            group = groups.get(unit.group)
            if group is None:
                yield ConfigProblem(("units", index, "group"), texts.UNKNOWN_UNIT_GROUP.format(value=unit.group))
            elif group.kind is not GroupKind.UNIT:
                yield ConfigProblem(("units", index, "group"), texts.UNIT_GROUP_KIND.format(value=unit.group))
        elif not unit.members:
            yield ConfigProblem(("units", index), texts.UNIT_UNREACHABLE.format(value=unit.id))
        if unit.working_hours is not None and unit.working_hours.start == unit.working_hours.end:
            yield ConfigProblem(("units", index, "working_hours", "end"), texts.EMPTY_WORKING_HOURS)
        if unit.working_hours is not None:
            for di, day in enumerate(unit.working_hours.days):
                if day in unit.working_hours.days[:di]:
                    message = texts.DUPLICATE_WEEKDAY.format(value=day)
                    yield ConfigProblem(("units", index, "working_hours", "days", di), message)
        for mi, member in enumerate(unit.members):
            other = chat_owners.get(member.chat_id)
            if other is not None:
                message = texts.DUPLICATE_MEMBER_CHAT_ID.format(value=member.chat_id, other=other)
                yield ConfigProblem(("units", index, "members", mi, "chat_id"), message)
            chat_owners.setdefault(member.chat_id, texts.UNIT_OWNER.format(unit=unit.name, name=member.name))


# Here rather than in settings/texts.py, which other work was changing at the time; move it there.
BOT_ACCOUNT_IS_A_PERSON = "{value!r} 已经是{other}的微信号：机器人账号的消息一律不处理，这个人说的话会被忽略"


def _bot_accounts(settings: Settings) -> Iterator[ConfigProblem]:
    """A bot account's messages are ignored, so it may not be a person the bot listens to (a cadre, a unit member)."""
    people = {c.chat_id: f"干部 {c.name!r} " for c in settings.cadres}
    people.update({m.chat_id: f"合作单位成员 {m.name!r} " for u in settings.units for m in u.members})
    for index, account in enumerate(settings.community.bot_accounts):
        if account in people:
            message = BOT_ACCOUNT_IS_A_PERSON.format(value=account, other=people[account])
            yield ConfigProblem(("community", "bot_accounts", index), message)
