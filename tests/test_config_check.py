"""Mistakes that used to crash the start or pass silently are line-numbered errors; `huiyin check` lists them all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli import main
from settings.check import check_text
from settings.limits import CHAT_ID_LENGTH, ID_LENGTH, NAME_LENGTH
from storage.models import CadreRecord, GridRecord, GroupRecord
from tests.test_config import REPO, edit, problems_of

GROUPS = "groups:\n  - {name: 一网格群, grids: [g1]}\n  - {name: 干部群, kind: cadres}\ncategories:\n"
LEADER = "{id: ann, name: Ann, chat_id: wx_ann, role: grid_leader, grids: [g1, g2]}"
# BASE with groups and a grid leader for both grids: no errors and no warnings.
CLEAN_EDITS = (("categories:\n", GROUPS), ("{id: ann, name: Ann, chat_id: wx_ann, grids: [g1]}", LEADER))


def clean_edit(*replacements: tuple[str, str]) -> str:
    return edit(*CLEAN_EDITS, *replacements)


CLEAN = clean_edit()


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
