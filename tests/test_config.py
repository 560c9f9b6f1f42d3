"""Loading `config.yaml`: the sample loads, and every kind of mistake is reported as `file:line: key: problem`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from settings import ConfigError, Environment, load_environment, load_settings, load_settings_text

REPO = Path(__file__).resolve().parent.parent

# A small valid configuration; the cases below each change one or two lines of it.
BASE = """\
community:
  name: Test
  timezone: Asia/Shanghai
grids:
  - {id: g1, name: Grid 1}
  - {id: g2, name: Grid 2}
cadres:
  - {id: ann, name: Ann, chat_id: wx_ann, grids: [g1]}
  - {id: bob, name: Bob, chat_id: wx_bob, role: secretary, grids: [g1, g2]}
rota:
  - {grid: g1, start: "08:00", end: "17:00", cadre: ann}
  - {grid: g2, start: "08:00", end: "17:00", cadre: bob}
  - {start: "17:00", end: "08:00", cadre: bob}
rota_overrides:
  - {date: 2026-12-01, cadre: ann, replacement: bob}
categories:
  - {id: other, name: Other}
"""


def edit(*replacements: tuple[str, str]) -> str:
    text = BASE
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings_text(text)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def test_sample_config_loads() -> None:
    settings = load_settings(REPO / "config.yaml")
    assert settings.community.name == "幸福里社区"
    assert settings.cadre_by_name("陈书记") is not None


def test_base_config_loads() -> None:
    settings = load_settings_text(BASE)
    assert [c.id for c in settings.cadres] == ["ann", "bob"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            edit(('end: "08:00"', 'end: "25:00"')),
            ["config.yaml:13: rota[2].end: '25:00' 不是时间（请写成 HH:MM，如 '08:00'）"],
            id="bad-time",
        ),
        pytest.param(
            edit(('end: "08:00"', "end: 25:00")),  # YAML 1.1 reads this as the integer 1500
            ["config.yaml:13: rota[2].end: '25:00' 不是时间（请写成 HH:MM，如 '08:00'）"],
            id="bad-unquoted-time",
        ),
        pytest.param(
            edit(("timezone: Asia/Shanghai", "timezone: Mars/Olympus")),
            ["config.yaml:3: community.timezone: 'Mars/Olympus' 不是已知的时区（如 'Asia/Shanghai'）"],
            id="unknown-timezone",
        ),
        pytest.param(
            edit(("  name: Test\n", "")),
            ["config.yaml:1: community.name: 必须填写"],
            id="missing-community-name",
        ),
        pytest.param(
            edit(('{grid: g1, start: "08:00", end: "17:00", cadre: ann}', '{grid: g1, start: "08:00", cadre: ann}')),
            ["config.yaml:11: rota[0].end: 必须填写"],
            id="missing-key-in-list-item",
        ),
        pytest.param(
            edit(("timezone:", "timezon:")),
            ["config.yaml:3: community.timezon: 不认识这个键，是不是想写 'timezone'？"],
            id="unknown-key-with-suggestion",
        ),
        pytest.param(
            edit(("{id: g2, name: Grid 2}", "{id: g2, name: Grid 2, colour: red}")),
            ["config.yaml:6: grids[1].colour: 不认识这个键（可以写的键：id, name, buildings, places）"],
            id="unknown-key-without-suggestion",
        ),
        pytest.param(
            edit(("cadre: ann}", "cadre: anne}")),
            ["config.yaml:11: rota[0].cadre: 没有 id 为 'anne' 的干部"],
            id="unknown-cadre-in-rota",
        ),
        pytest.param(
            edit(("grids: [g1]}", "grids: [g1, g9]}")),
            ["config.yaml:8: cadres[0].grids[1]: 没有 id 为 'g9' 的网格"],
            id="unknown-grid-in-cadre",
        ),
        pytest.param(
            edit(("  - {id: other, name: Other}\n", "  - {id: other, name: Other}\n  - {id: other, name: Again}\n")),
            ["config.yaml:18: categories[1].id: id 'other' 重复了"],
            id="duplicate-id",
        ),
        pytest.param(
            edit(("role: secretary, ", "")),
            ["config.yaml:7: cadres: 至少要有一位干部的 role 是 'secretary'（书记是转办的最后一环）"],
            id="no-secretary",
        ),
        pytest.param(
            edit(("role: secretary", "role: boss")),
            ["config.yaml:9: cadres[1].role: 'boss' 不是可选的值（可选：'cadre', 'grid_leader', 'secretary'）"],
            id="unknown-role",
        ),
        pytest.param(
            edit(("date: 2026-12-01", "date: 2026-13-01")),
            ["config.yaml:15: rota_overrides[0].date: '2026-13-01' 不是日期（请写成 YYYY-MM-DD，如 '2026-11-23'）"],
            id="bad-date",
        ),
        pytest.param(
            edit(("date: 2026-12-01", "date: 2026-12-01x")),
            ["config.yaml:15: rota_overrides[0].date: '2026-12-01x' 不是日期（请写成 YYYY-MM-DD，如 '2026-11-23'）"],
            id="bad-date-text",
        ),
        pytest.param(
            edit(('{start: "17:00", end: "08:00", cadre: bob}', '{start: "08:00", end: "08:00", cadre: bob}')),
            ["config.yaml:13: rota[2].end: 班次的开始和结束不能是同一时间"],
            id="empty-shift",
        ),
        pytest.param(
            edit(("community:\n  name: Test\n  timezone: Asia/Shanghai\n", "community:\n")),
            ["config.yaml:1: community: 应当是一组 `键: 值`（现在是空的）"],
            id="empty-section",
        ),
        pytest.param(
            edit(("categories:\n  - {id: other, name: Other}\n", "categories: []\n")),
            ["config.yaml:16: categories: 至少要有 1 项"],
            id="empty-list",
        ),
        pytest.param(
            edit(("{id: g2, name: Grid 2}", "{id: g2, name: Grid 2")),
            ["config.yaml:7:7: YAML 格式错误：这里应当是英文逗号 , 或 }（这个 {…} 从第 6 行开始）"],
            id="yaml-syntax-error",
        ),
        pytest.param(
            edit(("  timezone:", " timezone:")),
            ["config.yaml:3:2: YAML 格式错误：缩进没有对齐（这一段 `键: 值` 从第 1 行开始）"],
            id="yaml-bad-indentation",
        ),
        pytest.param(
            edit(("  name: Test", "  name: Te\x00st")),
            ["config.yaml:2: YAML 格式错误：含有不允许的特殊字符（#x0000）"],
            id="yaml-control-character",
        ),
        pytest.param(
            "community: " + "[" * 2000,
            ["config.yaml: YAML 格式错误：列表或 `键: 值` 嵌套太深"],
            id="yaml-nested-too-deeply",
        ),
        pytest.param(
            "- community\n- grids\n",
            ["config.yaml:1: 最外层应当是 community:、grids: 这样的键，而不是一个列表"],
            id="top-level-list",
        ),
        pytest.param(
            "just words\n",
            ["config.yaml:1: 最外层应当是 community:、grids: 这样的键，而不是单独一个值"],
            id="top-level-scalar",
        ),
        pytest.param(
            "# nothing here yet\n",
            ["config.yaml: 文件是空的（至少需要 community:、grids:、cadres: 和 categories:）"],
            id="empty-file",
        ),
    ],
)
def test_bad_config_is_reported(text: str, expected: list[str]) -> None:
    assert problems_of(text) == expected


def test_all_validation_problems_are_reported_in_file_order() -> None:
    text = edit(
        ("timezone:", "timezon:"),
        ("role: secretary", "role: boss"),
        ('end: "08:00"', 'end: "25:00"'),
        ("  - {id: other, name: Other}\n", ""),
    )
    assert problems_of(text) == [
        "config.yaml:3: community.timezon: 不认识这个键，是不是想写 'timezone'？",
        "config.yaml:9: cadres[1].role: 'boss' 不是可选的值（可选：'cadre', 'grid_leader', 'secretary'）",
        "config.yaml:13: rota[2].end: '25:00' 不是时间（请写成 HH:MM，如 '08:00'）",
        "config.yaml:16: categories: 应当是一个列表，如 [甲, 乙]（现在是空的）",
    ]


def test_all_reference_problems_are_reported_in_file_order() -> None:
    text = edit(
        ("role: secretary, ", ""),
        ("grids: [g1]}", "grids: [g1, g9]}"),
        ("cadre: ann}", "cadre: anne}"),
        ("replacement: bob", "replacement: carol"),
    )
    assert problems_of(text) == [
        "config.yaml:7: cadres: 至少要有一位干部的 role 是 'secretary'（书记是转办的最后一环）",
        "config.yaml:8: cadres[0].grids[1]: 没有 id 为 'g9' 的网格",
        "config.yaml:11: rota[0].cadre: 没有 id 为 'anne' 的干部",
        "config.yaml:15: rota_overrides[0].replacement: 没有 id 为 'carol' 的干部",
    ]


def test_block_style_points_at_the_key_line() -> None:
    text = edit(
        ('  - {start: "17:00", end: "08:00", cadre: bob}\n', '  - start: "17:00"\n    end: "25:00"\n    cadre: bob\n')
    )
    assert problems_of(text) == ["config.yaml:14: rota[2].end: '25:00' 不是时间（请写成 HH:MM，如 '08:00'）"]


def test_unquoted_times_are_read_as_clock_times() -> None:
    # YAML 1.1 reads unquoted 08:00 as the sexagesimal integer 480.
    settings = load_settings_text(edit(('start: "08:00", end: "17:00"', "start: 08:00, end: 17:00")))
    assert (settings.rota[0].start, settings.rota[0].end) == (dt.time(8, 0), dt.time(17, 0))


def test_shift_crossing_midnight_is_valid() -> None:
    night = load_settings_text(BASE).rota[2]
    assert (night.start, night.end) == (dt.time(17, 0), dt.time(8, 0))


def test_load_settings_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "community.yaml"
    path.write_text(edit(("cadre: ann}", "cadre: anne}")), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.problems == [f"{path}:11: rota[0].cadre: 没有 id 为 'anne' 的干部"]


def test_missing_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.problems == [f"{path}: 找不到这个文件"]


ENV_NAMES = ("DATABASE_URL", "HUIYIN_CONFIG", "WECHATY_PUPPET_SERVICE_TOKEN", "WECHATY_PUPPET_SERVICE_ENDPOINT")


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset the variables, remembering them so that whatever load_dotenv sets is undone after the test."""
    for name in ENV_NAMES:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


@pytest.mark.usefixtures("clean_environment")
def test_environment_defaults() -> None:
    assert load_environment(None) == Environment(
        database_url="sqlite:///data/huiyin.db",
        config_path=Path("config.yaml"),
        puppet_token=None,
        puppet_endpoint=None,
    )


@pytest.mark.usefixtures("clean_environment")
def test_environment_file_does_not_override_set_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "DATABASE_URL=postgresql://from-file/huiyin\nHUIYIN_CONFIG=/etc/huiyin.yaml\nWECHATY_PUPPET_SERVICE_TOKEN=\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DATABASE_URL", "sqlite:///set.db")
    environment = load_environment(env_file)
    assert environment.database_url == "sqlite:///set.db"
    assert environment.config_path == Path("/etc/huiyin.yaml")
    assert environment.puppet_token is None
