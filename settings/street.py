"""The 街道 file (`street.yaml`): the communities one deployment runs on one ledger, and the 街道's own staff.

    street: {id: qinlinglu, name: 秦岭路街道}
    communities: [../config.yaml, minzhu.yaml]      # each community's own config file, of the usual shape
    staff:                                          # the 街道's staff: role `street`, may act on any ticket
      - {id: zhaoke, name: 赵科长, chat_id: wxid_zhaoke}
    daily_overdue: "17:30"                          # when the staff get the 街道's overdue list (督办)

Paths are relative to the 街道 file. Each community file is read and checked as `huiyin check` would, and its
problems keep their own file and line; what only the 街道 can see (two communities with one id, a group listed by
two communities, a staff member who is also a cadre) is reported at the line of the 街道 file that brings it in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError

from settings import texts
from settings.limits import CHAT_ID_LENGTH, NAME_LENGTH
from settings.loader import ConfigError, parse_document, read_config_file, read_settings_text, validation_problems
from settings.models import (
    Board,
    Cadre,
    ChatGroup,
    ClockTime,
    Identifier,
    Settings,
    StreetRole,
    TimezoneName,
    _Strict,
)
from settings.rules import ConfigProblem


class StreetInfo(_Strict):
    id: Identifier
    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    timezone: TimezoneName = "Asia/Shanghai"


class StreetStaff(_Strict):
    id: Identifier
    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    chat_id: str = Field(min_length=1, max_length=CHAT_ID_LENGTH)
    aliases: list[str] = Field(default_factory=list)


class StreetFile(_Strict):
    street: StreetInfo
    communities: list[str] = Field(min_length=1, description="the communities' config files, relative to this file")
    staff: list[StreetStaff] = Field(default_factory=list)
    daily_overdue: ClockTime = Field(default=dt.time(17, 30), description="when the staff get the overdue list")
    board: Board = Field(default_factory=Board)


@dataclass(frozen=True)
class Street:
    """A 街道 and the settings of each of its communities (in file order; the staff added to each as cadres
    with role `street`, so every community's rules let them act)."""

    info: StreetInfo
    communities: tuple[Settings, ...]
    staff: tuple[Cadre, ...]
    daily_overdue: dt.time
    board: Board

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.info.timezone)

    def community(self, community_id: str) -> Settings | None:
        return next((c for c in self.communities if c.community.id == community_id), None)

    def community_of_group(self, chat_id: str, chat_name: str = "") -> Settings | None:
        """The community whose config lists the group (by id, else by name): a group belongs to one community."""
        return next((c for c in self.communities if c.group(chat_id, chat_name) is not None), None)

    def communities_of_person(self, chat_id: str) -> list[Settings]:
        """The communities whose cadre or partner-unit member `chat_id` is (a 物业 may serve several)."""
        return [
            c for c in self.communities
            if (c.cadre_by_chat_id(chat_id) not in (None, *self.staff)) or c.unit_member(chat_id) is not None
        ]  # fmt: skip

    def staff_member(self, chat_id: str) -> Cadre | None:
        return next((s for s in self.staff if s.chat_id == chat_id), None)

    def as_one(self) -> Settings:
        """The settings of what spans the communities: the first community's (pacing, connection, time zone), with
        every community's groups, cadres (the staff once), units and bot accounts. What a transport and a console
        read, and what the 街道's 台账 masks names with."""
        first = self.communities[0]
        community = first.community.model_copy(
            update={"bot_accounts": [a for s in self.communities for a in s.community.bot_accounts]}
        )
        cadres = [c for s in self.communities for c in s.cadres if c not in self.staff] + list(self.staff)
        return first.model_copy(
            update={
                "community": community, "cadres": cadres, "groups": [g for s in self.communities for g in s.groups],
                "units": [u for s in self.communities for u in s.units],
            }
        )  # fmt: skip


def load_street(path: str | Path) -> Street:
    """Read the 街道 file at `path` and every community file it lists; ConfigError with every problem."""
    name = str(path)
    document, data = parse_document(read_config_file(path), name)
    try:
        street_file = StreetFile.model_validate(data)
    except ValidationError as error:
        raise ConfigError(document.report(validation_problems(error, StreetFile))) from None
    problems: list[str] = []
    communities: list[Settings] = []
    for index, relative in enumerate(street_file.communities):
        file = Path(path).parent / relative
        try:
            reading = read_settings_text(read_config_file(file), str(file))
        except ConfigError as error:
            problems += document.report([ConfigProblem(("communities", index), error.problems[0])])
            continue
        if reading.problems or reading.settings is None:
            message = texts.COMMUNITY_FILE_PROBLEMS.format(path=file, count=len(reading.problems))
            problems += document.report([ConfigProblem(("communities", index), message)]) + reading.problems
            continue
        communities.append(reading.settings)
    problems += document.report(_street_problems(street_file, communities))
    if problems:
        raise ConfigError(problems)
    staff = tuple(_as_cadre(member) for member in street_file.staff)
    return Street(
        info=street_file.street,
        communities=tuple(c.model_copy(update={"cadres": [*c.cadres, *staff]}) for c in communities),
        staff=staff,
        daily_overdue=street_file.daily_overdue,
        board=street_file.board,
    )


def _as_cadre(member: StreetStaff) -> Cadre:
    """A staff member as the cadre every community's rules know, with `StreetRole.STREET` (no community file can
    give it: a cadre's role is validated as a `Role`, which is why this one is constructed without validation)."""
    return Cadre.model_construct(
        id=member.id, name=member.name, chat_id=member.chat_id, aliases=list(member.aliases), role=StreetRole.STREET,
        grids=[],
    )  # fmt: skip


def _street_problems(street: StreetFile, communities: list[Settings]) -> Iterator[ConfigProblem]:
    """What no single file shows: ids, groups and people that two communities (or the 街道) both claim."""
    seen_ids: dict[str, str] = {}
    seen_groups: dict[str, str] = {}
    for index, settings in enumerate(communities):
        here = settings.community.id
        if here in seen_ids:
            message = texts.DUPLICATE_COMMUNITY_ID.format(value=here, other=seen_ids[here])
            yield ConfigProblem(("communities", index), message)
        seen_ids.setdefault(here, street.communities[index])
        for key in _group_keys(settings.groups):
            if seen_groups.setdefault(key, here) != here:
                message = texts.GROUP_IN_TWO_COMMUNITIES.format(value=key, other=seen_groups[key])
                yield ConfigProblem(("communities", index), message)
    cadres = {c.chat_id: s.community.id for s in communities for c in s.cadres}
    cadre_ids = {c.id: s.community.id for s in communities for c in s.cadres}
    staff_chat_ids: set[str] = set()
    for index, member in enumerate(street.staff):
        if member.chat_id in cadres:
            message = texts.STAFF_IS_A_CADRE.format(value=member.chat_id, other=cadres[member.chat_id])
            yield ConfigProblem(("staff", index, "chat_id"), message)
        elif member.chat_id in staff_chat_ids:
            yield ConfigProblem(("staff", index, "chat_id"), texts.DUPLICATE_STAFF_CHAT_ID.format(value=member.chat_id))
        staff_chat_ids.add(member.chat_id)
        if member.id in cadre_ids:
            message = texts.STAFF_ID_IS_A_CADRE.format(value=member.id, other=cadre_ids[member.id])
            yield ConfigProblem(("staff", index, "id"), message)


def _group_keys(groups: list[ChatGroup]) -> Iterator[str]:
    for group in groups:
        yield group.name
        if group.id:
            yield group.id
