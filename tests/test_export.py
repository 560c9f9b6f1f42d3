"""`huiyin export` and the board's download: the paper 台账, checked row by row against the ledger."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from board.export import COLUMNS
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
    values = ["" if v is None else v for v in row]
    return (int(values[1]), values[2], values[3], values[5], values[6], values[7],
            str(values[9]).split("：")[0], values[10], values[12])  # fmt: skip


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
    assert sheet.column_dimensions["G"].width == 40 and sheet.column_dimensions["C"].width == 17
    first = rows[1]
    assert first[4] == "3号楼2单元 / 第一网格" and first[8] == "2026-11-24"  # the commitment (承诺 1 明天)
    assert first[9] == "已关闭：已疏通，管道里掏出一团抹布，请大家别往下水道扔杂物" and first[11] == "1天2小时"


def test_unmasked_and_a_date_range(
    settings: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rows = export(
        database_url, monkeypatch, tmp_path / "t.xlsx", "--unmasked", "--from", "2026-11-25", "--to", "2026-11-26"
    )
    assert [(r[1], r[3]) for r in rows[1:]] == [(4, "周师傅"), (5, "小陈")]
    assert [ledger_columns(r) for r in rows[1:]] == expected_rows(settings, database_url, masked=False)[3:5]


def test_the_csv_has_the_same_rows(settings: Settings, database_url: str, monkeypatch, tmp_path: Path) -> None:
    xlsx = export(database_url, monkeypatch, tmp_path / "t.xlsx", "--format", "xlsx")
    rows = export(database_url, monkeypatch, tmp_path / "t.csv", "--format", "csv")
    assert rows == [tuple("" if v is None else str(v) for v in row) for row in xlsx]


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
    assert all("第二网格" in r[4] for r in rows[1:])
    overdue = list(csv.reader(io.StringIO(client.get("/export.csv?status=overdue").content.decode("utf-8-sig"))))
    assert [r[1] for r in overdue[1:]] == ["4"]
