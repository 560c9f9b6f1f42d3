"""Read-only commands and the board on a database the bot never made: one line and a clean exit, or an empty wall.

A missing SQLite file is an error (and is not created), an empty database says the ledger is empty, a server
that cannot be reached says so; nothing is ever written. The empty-database cases also run on PostgreSQL (an
empty throw-away schema, named in the URL's `options`) when HUIYIN_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import csv
import io
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from board.export import COLUMNS
from board.readonly import read_only_engine
from board.web import create_app
from bot.cli import main
from ledger.clock import ManualClock
from settings.models import Settings
from settings.secrets import BoardSecrets
from storage import texts
from storage.schema import HEAD_REVISION
from tests.board_ledger import REPO, free_port
from tests.conftest import MONDAY_9AM, _postgres_engine

READ_ONLY_COMMANDS = {
    "ledger": ["ledger"],
    "ledger --json": ["ledger", "--json"],
    "digest": ["digest"],
    "examples": ["examples", "--out", "examples.csv"],
    "export": ["export", "--out", "taizhang.csv", "--format", "csv"],
}
"""Each writes its output (if any) into the working directory, so "nothing was created" covers it too."""


@dataclass(frozen=True)
class EmptyDatabase:
    url: str
    untouched: Callable[[], bool]
    """Still exactly as it was made: no table, no byte, no file beside it."""


def huiyin(monkeypatch: pytest.MonkeyPatch, url: str, *argv: str) -> int:
    monkeypatch.setenv("DATABASE_URL", url)
    return main(["--config", str(REPO / "config.yaml"), "--env-file", os.devnull, *argv])


def one_line(captured: pytest.CaptureFixture[str]) -> str:
    """What the command said, checked to be a single line on stderr with nothing on stdout and no traceback."""
    out, err = captured.readouterr()
    assert out == "" and len(err.splitlines()) == 1, (out, err)
    return err.strip()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmptyDatabase]:
    """A database the bot never ran on: an empty SQLite file, or an empty PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path / "empty.db"
        path.touch()
        yield EmptyDatabase(f"sqlite:///{path}", lambda: list(tmp_path.iterdir()) == [path] and not path.stat().st_size)
        return
    schemas = _postgres_engine()
    engine = next(schemas)
    with engine.connect() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar()
    url = engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
    yield EmptyDatabase(url.render_as_string(hide_password=False), lambda: inspect(engine).get_table_names() == [])
    next(schemas, None)  # drops the schema


@pytest.mark.parametrize("argv", READ_ONLY_COMMANDS.values(), ids=READ_ONLY_COMMANDS.keys())
def test_a_mistyped_sqlite_path_is_an_error_and_no_file_is_created(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert huiyin(monkeypatch, "sqlite:///data/huiyn.db", *argv) == 2
    assert one_line(capsys) == "找不到台账数据库 data/huiyn.db：请检查 DATABASE_URL"
    assert list(tmp_path.iterdir()) == []


def test_the_board_does_not_start_on_a_missing_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert huiyin(monkeypatch, "sqlite:///data/huiyn.db", "board", "--port", str(free_port())) == 2
    assert one_line(capsys) == "找不到台账数据库 data/huiyn.db：请检查 DATABASE_URL"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", READ_ONLY_COMMANDS.values(), ids=READ_ONLY_COMMANDS.keys())
def test_an_empty_database_is_an_empty_ledger_and_stays_untouched(
    argv: list[str],
    empty_database: EmptyDatabase,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert huiyin(monkeypatch, empty_database.url, *argv) == 0
    assert one_line(capsys) == texts.EMPTY_LEDGER == "台账还是空的：先运行 huiyin run"
    assert empty_database.untouched()


@pytest.mark.parametrize("argv", [["ledger"], ["digest"], ["export", "--out", "x.csv"], ["board"]])
def test_a_postgresql_server_that_cannot_be_reached_is_one_line(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    port = free_port()  # nothing listens there
    assert huiyin(monkeypatch, f"postgresql://huiyin:secret@127.0.0.1:{port}/huiyin", *argv) == 2
    line = one_line(capsys)
    assert line.startswith(f"无法读取台账数据库 postgresql://huiyin:***@127.0.0.1:{port}/huiyin：")
    assert "secret" not in line and list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_database_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("这不是数据库\n" * 200, encoding="utf-8")
    assert huiyin(monkeypatch, f"sqlite:///{notes}", "ledger") == 2
    assert one_line(capsys) == f"无法读取台账数据库 sqlite:///{notes}：file is not a database。请检查 DATABASE_URL"


def test_a_ledger_at_another_revision_is_refused_until_run_upgrades_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as database:
        database.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        database.execute("INSERT INTO alembic_version VALUES ('0001_initial')")
        database.commit()
    assert huiyin(monkeypatch, f"sqlite:///{path}", "ledger") == 2
    assert one_line(capsys) == texts.OTHER_REVISION.format(found="0001_initial", head=HEAD_REVISION)


def test_the_board_shows_an_empty_ledger_as_an_empty_wall(settings: Settings, empty_database: EmptyDatabase) -> None:
    board = TestClient(create_app(settings, read_only_engine(empty_database.url), ManualClock(MONDAY_9AM),
                                  BoardSecrets(None, None)))  # fmt: skip
    wall = board.get("/")
    assert wall.status_code == 200 and "进度公示墙" in wall.text and 'href="/tickets/' not in wall.text
    stats = board.get("/stats")
    assert stats.status_code == 200 and "每周统计" in stats.text
    requests = board.get("/open311/v2/requests.json")
    assert requests.status_code == 200 and requests.json() == []
    export = board.get("/export.csv")
    assert export.status_code == 200
    assert list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")))) == [list(COLUMNS)]
    assert board.get("/tickets/1").status_code == 404
    assert empty_database.untouched()
