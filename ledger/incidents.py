"""Does a report fall inside a known incident (`通知`)? Pure: the caller reads places with `nlp.places`.

An incident's range is a building (`3号楼`, canonical as `nlp.places.normalise_building` writes it), a grid
(its id) or the whole community (`all`). A report is inside it when it is of its category, made while the
incident lasts (from its start, before its expected end and before it was ended), and

- building: the report's place is that building (`3号楼2单元` is inside `3号楼`), or, naming no place, it was
  written in a group covering the building's grid;
- grid: the report's place is in that grid, or, naming no place, its group covers that grid;
- all: anywhere.

Of several incidents that contain a report the most specific wins (building, then grid, then all), then the
newest.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

from ledger.wording import INCIDENT_SCOPE_ALL
from settings.models import Settings


class ScopeKind(StrEnum):
    BUILDING = "building"
    GRID = "grid"
    ALL = "all"


_SPECIFICITY = {ScopeKind.BUILDING: 2, ScopeKind.GRID: 1, ScopeKind.ALL: 0}
_BUILDING_PREFIX = re.compile(r"^[0-9]{1,3}号楼")


class IncidentLike(Protocol):
    id: int | None
    scope_kind: str
    scope_value: str
    category: str
    starts_at: dt.datetime
    expected_end_at: dt.datetime | None
    ended_at: dt.datetime | None


_Incident = TypeVar("_Incident", bound=IncidentLike)


@dataclass(frozen=True)
class ReportFacts:
    """What matching needs to know of a report. `categories` are the ones it may be about (the classifier's, and
    for a status question such as `水呢？` those of the incidents it names); `location` is canonical or None."""

    categories: frozenset[str]
    location: str | None
    place_grid: str | None  # the grid of the place named, if any
    group_grids: tuple[str, ...]  # the grids of the group it was written in
    at: dt.datetime


def building_of(location: str | None) -> str | None:
    """The canonical building a canonical location starts with: `3号楼` of `3号楼2单元301室`."""
    if not location:
        return None
    found = _BUILDING_PREFIX.match(location)
    return found.group(0) if found else None


def lasts_at(incident: IncidentLike, at: dt.datetime) -> bool:
    if at < incident.starts_at:
        return False
    if incident.ended_at is not None and at >= incident.ended_at:
        return False
    return incident.expected_end_at is None or at < incident.expected_end_at


def in_range(
    incident: IncidentLike, location: str | None, place_grid: str | None, group_grids: Iterable[str],
    building_grids: Mapping[str, str],
) -> bool:
    """Whether a place (or, with none, a group's grids) is inside the incident's range, whatever the time."""
    kind = ScopeKind(incident.scope_kind)
    if kind is ScopeKind.ALL:
        return True
    if kind is ScopeKind.BUILDING:
        if location:
            return building_of(location) == incident.scope_value
        grid = building_grids.get(incident.scope_value)
        return grid is not None and grid in tuple(group_grids)
    if location:
        return place_grid == incident.scope_value
    return incident.scope_value in tuple(group_grids)


def covers(incident: IncidentLike, report: ReportFacts, building_grids: Mapping[str, str]) -> bool:
    return (
        incident.category in report.categories
        and lasts_at(incident, report.at)
        and in_range(incident, report.location, report.place_grid, report.group_grids, building_grids)
    )


def matching_incident(
    incidents: Sequence[_Incident], report: ReportFacts, building_grids: Mapping[str, str]
) -> _Incident | None:
    """The incident `report` falls inside: the most specific range, then the newest (highest id)."""
    inside = [i for i in incidents if covers(i, report, building_grids)]
    if not inside:
        return None
    return max(inside, key=lambda i: (_SPECIFICITY[ScopeKind(i.scope_kind)], i.starts_at, i.id or 0))


def scope_text(settings: Settings, incident: IncidentLike) -> str:
    """`3号楼`, a grid's name, or `全社区`: the range as the notice named it (chat, wall, Open311, 台账 alike)."""
    kind = ScopeKind(incident.scope_kind)
    if kind is ScopeKind.ALL:
        return INCIDENT_SCOPE_ALL
    if kind is ScopeKind.GRID:
        grid = settings.grid(incident.scope_value)
        return grid.name if grid else incident.scope_value
    return incident.scope_value
