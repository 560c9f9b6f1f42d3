from pathlib import Path

import pytest
import yaml

from nlp.places import Place, extract_place, normalise_building
from settings.models import Settings

CONFIG = Path(__file__).resolve().parents[1] / "config.yaml"


@pytest.fixture(scope="module")
def settings() -> Settings:
    with CONFIG.open(encoding="utf-8") as file:
        return Settings.model_validate(yaml.safe_load(file))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("三号楼", "3号楼"),
        ("3号楼", "3号楼"),
        ("3栋", "3号楼"),
        ("3幢", "3号楼"),
        ("3号栋", "3号楼"),
        ("３号楼", "3号楼"),
        ("十号楼", "10号楼"),
        ("十二号楼", "12号楼"),
        ("二十三栋", "23号楼"),
        ("13号楼", "13号楼"),
        (" 3 号楼 ", "3号楼"),
        ("5栋2单元", "5号楼2单元"),
        ("3号2单元", "3号楼2单元"),
        ("三栋楼道灯", "3号楼楼道灯"),
        # not buildings: a date, a floor, a hotline, "a whole building", a named place
        ("3号下午", "3号下午"),
        ("3楼", "3楼"),
        ("12345热线", "12345热线"),
        ("一栋楼都停电了", "一栋楼都停电了"),
        ("这一栋", "这一栋"),
        ("东门", "东门"),
    ],
)
def test_normalise_building(text: str, expected: str) -> None:
    assert normalise_building(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3号楼2单元下水道堵了", Place("3号楼2单元", "3号楼", "g1")),
        ("5栋门口路灯坏了", Place("5号楼", "5号楼", "g2")),
        ("５栋２单元", Place("5号楼2单元", "5号楼", "g2")),
        ("三号楼二单元1202一直渗水", Place("3号楼2单元1202室", "3号楼", "g1")),
        ("2号楼1单元302室漏水", Place("2号楼1单元302室", "2号楼", "g1")),
        ("3号楼301室漏水", Place("3号楼301室", "3号楼", "g1")),
        ("5号楼2单元2023年就坏了", Place("5号楼2单元", "5号楼", "g2")),
        ("我住3号2单元", Place("3号楼2单元", "3号楼", "g1")),
        ("8号楼电梯坏了", Place("8号楼", "8号楼", None)),
        ("十二号楼门口", Place("12号楼", "12号楼", None)),
        ("东门有人乱停车", Place("东门", None, "g1")),
        ("健身广场的器材坏了", Place("健身广场", None, "g2")),
        ("西门路灯不亮", Place("西门", None, "g2")),
        ("1号楼地下车库积水", Place("1号楼地下车库", "1号楼", "g1")),
        ("一号楼地下车库积水", Place("1号楼地下车库", "1号楼", "g1")),
        ("4号楼旁边的健身广场", Place("4号楼", "4号楼", "g2")),
        ("3号下午有空吗", None),
        ("打12345热线", None),
        ("我家3楼漏水", None),
        ("一栋楼都停电了", None),
        ("2单元没电", None),
        ("", None),
    ],
)
def test_extract_place(text: str, expected: Place | None, settings: Settings) -> None:
    assert extract_place(text, settings) == expected


def test_grid_buildings_are_normalised_like_messages(settings: Settings) -> None:
    grid = settings.grids[0].model_copy(update={"id": "north", "buildings": ["七栋", "8幢"], "places": ["北门"]})
    custom = settings.model_copy(update={"grids": [grid]})

    assert extract_place("7号楼漏水", custom) == Place("7号楼", "7号楼", "north")
    assert extract_place("八号楼漏水", custom) == Place("8号楼", "8号楼", "north")
    assert extract_place("北门", custom) == Place("北门", None, "north")
