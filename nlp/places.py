"""Finding where a resident's problem is: a building (`3号楼2单元301室`) or a named spot (`东门`).

Residents write the same building many ways (`三号楼`, `3栋`, `３幢`, `3号2单元`), so every
building reference is rewritten to one canonical form, `N号楼`, before it is compared with the
grids in the configuration. Only a number followed by a building word counts: `3号下午` is a date,
`3楼` is a floor and `12345热线` is a phone line, none of them a building.
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from dataclasses import dataclass

from settings.models import Settings

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

# 1-99 in Chinese (`十二`, `二十`, `二十三`), digit by digit (`一零一`), or up to three Arabic digits.
_CN_NUMERAL = "(?:[一二三四五六七八九]?十[一二三四五六七八九]?|[零〇一二三四五六七八九]{1,3})"
_NUMERAL = f"(?:{_CN_NUMERAL}|[0-9]{{1,3}})"

# A number glued to a longer number, or after a demonstrative (`这一栋`, `每栋`, `整栋`), is no building number.
_NOT_AFTER = "(?<![0-9零〇一二两三四五六七八九十百千万这那哪每整几同])"

# `3号` alone is usually a date (`3号下午`); it is a building only when a unit follows (`3号2单元`).
_BUILDING = re.compile(
    rf"{_NOT_AFTER}(?P<number>{_NUMERAL})\s*(?P<suffix>号楼|号栋|号幢|栋|幢|号(?=\s*{_NUMERAL}\s*单元))"
)

_ROOM_AFTER_UNIT = r"\s*(?P<room>[0-9]{3,4})(?:\s*室|(?![0-9年月日号点时分:.]))"
_CANONICAL_PLACE = re.compile(
    rf"(?<![0-9])(?P<building>[0-9]{{1,3}}号楼)"
    rf"(?:\s*(?P<unit>{_NUMERAL})\s*单元(?:{_ROOM_AFTER_UNIT})?|\s*(?P<room_only>[0-9]{{3,4}})\s*室)?"
)


@dataclass(frozen=True)
class Place:
    """Where a problem is. `text` is normalised (`5号楼2单元`); `grid_id` is None when no grid claims it."""

    text: str
    building: str | None
    grid_id: str | None


def _to_int(numeral: str) -> int:
    """Value of a numeral matched by `_NUMERAL`: `12`, `十二`, `二十`, `一零一`."""
    if numeral.isascii():
        return int(numeral)
    if "十" in numeral:
        tens, _, units = numeral.partition("十")
        return _CN_DIGITS.get(tens, 1) * 10 + _CN_DIGITS.get(units, 0)
    return int("".join(str(_CN_DIGITS[ch]) for ch in numeral))


def _canonical_building(match: re.Match[str]) -> str:
    number, suffix = match.group("number"), match.group("suffix")
    # `一栋楼` / `三幢楼` counts buildings ("a whole building"); `三栋楼道` is building 3's stairwell.
    rest = match.string[match.end() : match.end() + 2]
    if not number.isascii() and suffix in ("栋", "幢") and rest.startswith("楼") and rest != "楼道":
        return match.group(0)
    return f"{_to_int(number)}号楼"


def normalise_building(text: str) -> str:
    """Return `text` (NFKC, stripped) with every building reference rewritten as `N号楼`.

    `三号楼`, `3栋`, `３幢` and `3号楼` all become `3号楼`; `5栋2单元` becomes `5号楼2单元`. Text
    without a building reference comes back otherwise unchanged, so the function can also
    normalise the `buildings` and `places` entries of the configuration.
    """
    return _BUILDING.sub(_canonical_building, unicodedata.normalize("NFKC", text).strip())


class PlaceIndex:
    """The grids' buildings and named places, normalised once, for finding places in many messages."""

    def __init__(self, settings: Settings) -> None:
        self.buildings: dict[str, str] = {}  # canonical building -> grid id
        places: list[tuple[str, str]] = []
        for grid in settings.grids:
            for building in grid.buildings:
                self.buildings.setdefault(normalise_building(building), grid.id)
            places.extend((normalise_building(place), grid.id) for place in grid.places if place.strip())
        self.places = sorted(places, key=lambda item: -len(item[0]))  # longest first

    def extract(self, text: str) -> Place | None:
        """Find the place a message talks about, mapped to a grid where possible.

        A building (with its unit and room) is preferred over a named spot because it is more
        precise, except when the named spot contains the building (`1号楼地下车库`). A building no
        grid lists is still returned, with `grid_id` None, so a cadre can route it by hand.
        """
        canonical = normalise_building(text)
        named: tuple[int, str, str] | None = None
        for place, grid_id in self.places:
            start = canonical.find(place)
            if start >= 0:
                named = (start, place, grid_id)
                break

        match = _CANONICAL_PLACE.search(canonical)
        if named is not None and (match is None or named[0] <= match.start() < named[0] + len(named[1])):
            start, place, grid_id = named
            inner = _CANONICAL_PLACE.search(place)
            return Place(text=place, building=inner.group("building") if inner else None, grid_id=grid_id)
        if match is None:
            return None

        building = match.group("building")
        place_text = building
        if match.group("unit"):
            place_text += f"{_to_int(match.group('unit'))}单元"
        room = match.group("room") or match.group("room_only")
        if room:
            place_text += f"{room}室"
        return Place(text=place_text, building=building, grid_id=self.buildings.get(building))


# By id: settings are frozen but hold lists, so they cannot be dict keys; an entry goes with its settings object.
_INDEXES: dict[int, PlaceIndex] = {}


def place_index(settings: Settings) -> PlaceIndex:
    """The index of `settings`, built once per settings object: handlers read a place in every message."""
    key = id(settings)
    index = _INDEXES.get(key)
    if index is None:
        index = _INDEXES[key] = PlaceIndex(settings)
        weakref.finalize(settings, _INDEXES.pop, key, None)
    return index


def extract_place(text: str, settings: Settings) -> Place | None:
    """The place `text` talks about, by the (cached) index of `settings`."""
    return place_index(settings).extract(text)
