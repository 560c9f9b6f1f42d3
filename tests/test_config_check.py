"""Mistakes that used to crash the start or pass silently are line-numbered errors; `huiyin check` lists them all."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine

from bot.cli import main
from settings.check import check_text
from settings.limits import CHAT_ID_LENGTH, ID_LENGTH, NAME_LENGTH
from storage.models import CadreRecord, GridRecord, GroupRecord
from tests.conftest import SHANGHAI
from tests.test_config import REPO, edit, problems_of

GROUPS = "groups:\n  - {name: 一网格群, grids: [g1]}\n  - {name: 干部群, kind: cadres}\ncategories:\n"
LEADER = "{id: ann, name: Ann, chat_id: wx_ann, role: grid_leader, grids: [g1, g2]}"
# BASE with groups and a grid leader for both grids: no errors and no warnings.
CLEAN_EDITS = (("categories:\n", GROUPS), ("{id: ann, name: Ann, chat_id: wx_ann, grids: [g1]}", LEADER))


def clean_edit(*replacements: tuple[str, str]) -> str:
    return edit(*CLEAN_EDITS, *replacements)


CLEAN = clean_edit()
OVERRIDES = "  - {date: 2026-12-01, cadre: ann, replacement: bob}\n"  # line 15 of CLEAN; what is added starts at 16


def with_holidays(block: str) -> str:
    return clean_edit((OVERRIDES, OVERRIDES + block))


@pytest.fixture(autouse=True)
def _june() -> Iterator[None]:
    """`huiyin check` warns of a year ahead whose holidays nobody knows: check on a day whose next 60 days are known."""
    with time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=SHANGHAI), tick=False):
        yield


def test_the_clean_base_has_nothing_to_report() -> None:
    result = check_text(CLEAN)
    assert (result.errors, result.warnings) == ([], [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            clean_edit(("chat_id: wx_bob", "chat_id: wx_ann")),
            ["config.yaml:9: cadres[1].chat_id: chat_id 'wx_ann' 已经是干部 'Ann' 的了（一个微信号只能对应一位干部）"],
            id="duplicate-chat-id",
        ),
        pytest.param(
            clean_edit(("name: Bob", "name: " + "鲍" * 65)),
            ["config.yaml:9: cadres[1].name: 太长了：65 个字，最多 64 个"],
            id="cadre-name-too-long",
        ),
        pytest.param(
            clean_edit(("name: Grid 2", "name: " + "格" * 65)),
            ["config.yaml:6: grids[1].name: 太长了：65 个字，最多 64 个"],
            id="grid-name-too-long",
        ),
        pytest.param(
            clean_edit(("name: Bob", "name: Ann")),
            ["config.yaml:9: cadres[1].name: 'Ann' 已经是干部 'ann' 的名字或别名（@Ann 时分不清是谁）"],
            id="duplicate-cadre-name",
        ),
        pytest.param(
            clean_edit(("name: Bob,", "name: Bob, aliases: [Ann],")),
            ["config.yaml:9: cadres[1].aliases[0]: 'Ann' 已经是干部 'ann' 的名字或别名（@Ann 时分不清是谁）"],
            id="alias-is-another-cadres-name",
        ),
        pytest.param(
            clean_edit(("{name: 干部群, kind: cadres}", "{name: 一网格群, grids: [g2]}")),
            ["config.yaml:18: groups[1].name: 群名 '一网格群' 重复了（每个群只写一次）"],
            id="duplicate-group-name",
        ),
        pytest.param(
            clean_edit(("{name: 一网格群, grids: [g1]}", "{name: 一网格群, kind: cadres}")),
            ["config.yaml:18: groups[1].kind: 已经有干部群 '一网格群' 了（kind: cadres 只能有一个）"],
            id="two-cadres-groups",
        ),
        pytest.param(
            clean_edit(
                ("name: Grid 1}", "name: Grid 1, buildings: [1号楼, 2号楼]}"),
                ("name: Grid 2}", "name: Grid 2, buildings: [2号楼]}"),
            ),
            ["config.yaml:6: grids[1].buildings[0]: '2号楼' 已经在网格 'g1' 里了（一栋楼只能属于一个网格）"],
            id="building-in-two-grids",
        ),
        pytest.param(
            clean_edit(("name: Grid 1}", "name: Grid 1, buildings: [7号楼，8号楼, 9号楼]}")),
            [
                "config.yaml:5: grids[0].buildings[0]: '7号楼，8号楼' 里有中文标点“，”，会被当成一项；"
                "列表项之间请用英文逗号分隔，如 [7号楼, 8号楼]"
            ],
            id="full-width-comma-in-flow-list",
        ),
        pytest.param(
            clean_edit(("name: Bob,", "name: Bob, aliases: [鲍哥、老鲍],")),
            [
                "config.yaml:9: cadres[1].aliases[0]: '鲍哥、老鲍' 里有中文标点“、”，会被当成一项；"
                "列表项之间请用英文逗号分隔，如 [鲍哥, 老鲍]"
            ],
            id="enumeration-comma-in-flow-list",
        ),
    ],
)
def test_a_mistake_that_used_to_pass_is_a_located_error(text: str, expected: list[str]) -> None:
    assert problems_of(text) == expected


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        pytest.param(
            "holidays:\n  days_off: [2026-10-01, 2027-02-30]\n",
            ["config.yaml:17: holidays.days_off[1]: '2027-02-30' 不是日期（请写成 YYYY-MM-DD，如 '2026-11-23'）"],
            id="not-a-date",
        ),
        pytest.param(
            "holidays:\n  days_off: [2027-01-01, 2027-01-01]\n",
            ["config.yaml:17: holidays.days_off[1]: 日期 2027-01-01 重复了"],
            id="date-twice",
        ),
        pytest.param(
            "holidays:\n  days_off: [2027-01-01]\n  working_days: [2027-02-07, 2027-01-01]\n",
            [
                "config.yaml:18: holidays.working_days[1]: "
                "2027-01-01 同时写在 days_off（放假）和 working_days（上班）里，只能写在一处"
            ],
            id="off-and-worked",
        ),
        pytest.param(
            "holidays:\n  workday_pattern: sat\n",
            [
                "config.yaml:17: holidays.workday_pattern: "
                "'sat' 是周末；调休上班的周六、周日要按周一到周五中的一天排班（如 mon）"
            ],
            id="weekend-pattern",
        ),
        pytest.param(
            "holidays:\n  workday_pattern: someday\n",
            [
                "config.yaml:17: holidays.workday_pattern: "
                "'someday' 不是星期几（可写：mon, tue, wed, thu, fri, sat, sun）"
            ],
            id="not-a-weekday",
        ),
        pytest.param(
            "holidays:\n  day_off: [2027-01-01]\n",
            ["config.yaml:17: holidays.day_off: 不认识这个键，是不是想写 'days_off'？"],
            id="misspelt-key",
        ),
        pytest.param(
            'holiday_rota:\n  - {grid: g3, start: "09:00", end: "09:00", cadre: carol}\n',
            [
                "config.yaml:17: holiday_rota[0].grid: 没有 id 为 'g3' 的网格",
                "config.yaml:17: holiday_rota[0].cadre: 没有 id 为 'carol' 的干部",
                "config.yaml:17: holiday_rota[0].end: 班次的开始和结束不能是同一时间",
            ],
            id="holiday-rota-references",
        ),
        pytest.param(
            'holiday_rota:\n  - {days: [sat], start: "09:00", end: "17:00", cadre: ann}\n',
            ["config.yaml:17: holiday_rota[0].days: 不认识这个键（可以写的键：grid, start, end, cadre）"],
            id="holiday-shifts-have-no-days",
        ),
    ],
)
def test_bad_holidays_are_located_errors(block: str, expected: list[str]) -> None:
    assert problems_of(with_holidays(block)) == expected


def test_holidays_and_a_holiday_rota_pass() -> None:
    block = (
        "holidays:\n  days_off: [2026-11-27, 2027-01-01]\n  working_days: [2027-02-07]\n  workday_pattern: fri\n"
        'holiday_rota:\n  - {grid: g1, start: "09:00", end: "17:00", cadre: ann}\n'
    )
    assert check_text(with_holidays(block), today=dt.date(2026, 12, 1)) == check_text(CLEAN)


@pytest.mark.parametrize(
    ("today", "warned"),
    [
        pytest.param(dt.date(2026, 11, 1), [], id="60-days-ahead-still-2026"),
        pytest.param(dt.date(2026, 11, 2), [2027], id="60-days-ahead-reach-2027"),
        pytest.param(dt.date(2027, 3, 1), [2027], id="in-2027"),
        pytest.param(dt.date(2027, 12, 1), [2027, 2028], id="two-unknown-years"),
    ],
)
def test_a_year_ahead_without_holidays_is_a_warning(today: dt.date, warned: list[int]) -> None:
    message = (
        "config.yaml:1: holidays: 日历库 chinese-calendar 还没有 {year} 年的放假安排，{year} 年的节假日会当作工作日"
        "（只有周末休息）；请升级它（pip install -U chinese-calendar），"
        "或把 {year} 年的放假和调休上班日期写进 holidays 的 days_off 和 working_days"
    )
    assert check_text(CLEAN, today=today).warnings == [message.format(year=year) for year in warned]


def test_a_year_config_names_days_of_is_not_warned_about() -> None:
    written = with_holidays("holidays:\n  days_off: [2027-01-01]\n")
    (warning,) = check_text(written, today=dt.date(2027, 12, 1)).warnings
    assert warning.startswith("config.yaml:16: holidays: 日历库 chinese-calendar 还没有 2028 年的放假安排")


def test_a_full_width_comma_is_reported_even_when_other_values_are_wrong() -> None:
    text = clean_edit(("name: Grid 1}", "name: Grid 1, buildings: [7号楼，8号楼]}"), ('end: "08:00"', 'end: "25:00"'))
    assert [line.split(": ")[1] for line in problems_of(text)] == ["grids[0].buildings[0]", "rota[2].end"]


def test_a_quoted_item_may_hold_a_full_width_comma() -> None:
    assert check_text(clean_edit(("name: Bob,", 'name: Bob, aliases: ["鲍哥，老鲍"],'))).errors == []


def test_a_block_list_item_is_one_item_by_its_line() -> None:
    block = clean_edit(
        ("  - {id: g1, name: Grid 1}\n", "  - id: g1\n    name: Grid 1\n    places:\n      - 东门，北门\n")
    )
    assert check_text(block).errors == []


def test_warnings_for_a_grid_without_leader_and_a_category_without_keywords() -> None:
    text = edit(("  - {id: other, name: Other}\n", "  - {id: lift, name: 电梯}\n  - {id: other, name: Other}\n"))
    result = check_text(text)
    assert result.errors == []
    assert result.warnings == [
        "config.yaml:5: grids[0]: 网格 'g1' 没有网格长（role: grid_leader），没人值班时问题直接交给书记",
        "config.yaml:6: grids[1]: 网格 'g2' 没有网格长（role: grid_leader），没人值班时问题直接交给书记",
        "config.yaml:17: categories[0].keywords: 类别 'lift' 没有关键词（keywords 或 weights），"
        "居民的消息不会被分到这一类",
    ]


def test_weights_alone_are_keywords_and_the_fallback_needs_none() -> None:
    text = clean_edit(
        (
            "  - {id: other, name: Other}\n",
            "  - {id: lift, name: 电梯, weights: {电梯: 2.0}}\n  - {id: other, name: Other}\n",
        )
    )
    assert check_text(text).warnings == []


def test_the_ledger_columns_are_as_wide_as_the_config_allows() -> None:
    columns = {
        (CadreRecord, "id"): ID_LENGTH, (CadreRecord, "name"): NAME_LENGTH, (CadreRecord, "chat_id"): CHAT_ID_LENGTH,
        (GridRecord, "id"): ID_LENGTH, (GridRecord, "name"): NAME_LENGTH,
        (GroupRecord, "name"): CHAT_ID_LENGTH, (GroupRecord, "chat_id"): CHAT_ID_LENGTH,
    }  # fmt: skip
    assert {key: key[0].__table__.c[key[1]].type.length for key in columns} == columns


def _check(path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """Run `huiyin check` on `path` with a database URL that would leave a file behind if it were opened."""
    database = path.parent / "never.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    code = main(["--env-file", os.devnull, "--config", str(path), "check"])
    assert not database.exists()
    return code, capsys.readouterr().out


def test_huiyin_check_passes_the_shipped_config(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _check(REPO / "config.yaml", capsys, monkeypatch) == (0, f"{REPO / 'config.yaml'}：没有发现问题。\n")


def test_huiyin_check_warns_in_december_of_the_next_year_until_it_is_known(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, tzinfo=SHANGHAI), tick=False):
        code, out = _check(REPO / "config.yaml", capsys, monkeypatch)
    assert code == 0
    assert "holidays: 日历库 chinese-calendar 还没有 2027 年的放假安排" in out.splitlines()[1]
    assert out.splitlines()[-1].endswith("没有错误，1 处警告（可以启动，但最好看一看）。")


def test_huiyin_check_lists_warnings_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        clean_edit((LEADER, "{id: ann, name: Ann, chat_id: wx_ann, role: grid_leader, grids: [g1]}")), encoding="utf-8"
    )
    assert _check(path, capsys, monkeypatch) == (
        0,
        f"警告：\n{path}:6: grids[1]: 网格 'g2' 没有网格长（role: grid_leader），没人值班时问题直接交给书记\n"
        f"{path}：没有错误，1 处警告（可以启动，但最好看一看）。\n",
    )


def test_huiyin_check_lists_errors_and_warnings_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(edit(("chat_id: wx_bob", "chat_id: wx_ann"), ("cadre: bob}", "cadre: bobby}")), encoding="utf-8")
    code, out = _check(path, capsys, monkeypatch)
    assert code == 2
    assert out.splitlines() == [
        "错误：",
        f"{path}:9: cadres[1].chat_id: chat_id 'wx_ann' 已经是干部 'Ann' 的了（一个微信号只能对应一位干部）",
        f"{path}:12: rota[1].cadre: 没有 id 为 'bobby' 的干部",
        "警告：",
        f"{path}:5: grids[0]: 网格 'g1' 没有网格长（role: grid_leader），没人值班时问题直接交给书记",
        f"{path}:6: grids[1]: 网格 'g2' 没有网格长（role: grid_leader），没人值班时问题直接交给书记",
        f"{path}：2 处错误，2 处警告。改好错误后再运行 huiyin check。",
    ]


def test_huiyin_check_reports_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = _check(tmp_path / "nowhere.yaml", capsys, monkeypatch)
    assert (code, out.splitlines()[1]) == (2, f"{tmp_path / 'nowhere.yaml'}: 找不到这个文件")


def test_starting_with_a_bad_config_reports_in_chinese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(edit(("chat_id: wx_bob", "chat_id: wx_ann")), encoding="utf-8")
    assert main(["--env-file", os.devnull, "--config", str(path), "ledger"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"配置文件 {path} 有错误，改好后再启动：",
        f"{path}:9: cadres[1].chat_id: chat_id 'wx_ann' 已经是干部 'Ann' 的了（一个微信号只能对应一位干部）",
    ]
