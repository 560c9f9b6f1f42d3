"""A large csv 台账 written by two processes (board/taizhang.py) is byte for byte the one a single process writes:
a community's, every community's and a 街道's, whole or of a date range, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.engine import Engine

from board.readonly import read_only_engine
from board.taizhang import TaizhangExport, write_csv_export
from settings.models import Board, Settings
from settings.street import Street, StreetInfo
from storage.board_queries import export_middle
from storage.db import make_engine, new_session
from storage.incidents import open_incident
from storage.schema import init_schema
from storage.tickets import Actor, open_ticket
from tests.board_ledger import GENERATED_NOW, seed_generated

TICKETS = 240


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> Iterator[str]:
    """The URL of a generated ledger (with two incidents), which another process can open as it is."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'huiyin.db'}"
        yield _seeded(settings, url)
        return
    server = os.environ.get("HUIYIN_TEST_DATABASE_URL")
    if not server:
        pytest.skip("PostgreSQL variant skipped: set HUIYIN_TEST_DATABASE_URL (CI sets it)")
    schema = f"huiyin_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        options = {"options": f"-csearch_path={schema}"}
        yield _seeded(settings, make_url(server).update_query_dict(options).render_as_string(False))
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _seeded(settings: Settings, url: str) -> str:
    engine = make_engine(url)
    seed_generated(settings, engine, TICKETS, days=20)
    with new_session(engine, settings.community.id) as session:
        for hours, text_ in ((30, "全小区停电"), (2, "3号楼停水")):
            open_incident(
                session, now=GENERATED_NOW - dt.timedelta(hours=hours), author=Actor("wangfang", "王芳"),
                scope_kind="all", scope_value="", category="power", text=text_, expected_end_at=None,
            )  # fmt: skip
        session.commit()
    engine.dispose()
    return url


def _written(export: TaizhangExport, split_from: int) -> tuple[bytes, int]:
    engine = read_only_engine(export.database_url)
    out = io.BytesIO()
    try:
        count = write_csv_export(export, engine, out, split_from=split_from)
    finally:
        engine.dispose()
    return out.getvalue(), count


def _street(settings: Settings) -> Street:
    return Street(StreetInfo(id="jd", name="测试街道"), (settings,), (), dt.time(17, 30), Board())


@pytest.mark.parametrize("kind", ["community", "every community", "street", "date range"])
def test_two_processes_write_what_one_writes(settings: Settings, ledger_url: str, kind: str) -> None:
    start = end = None
    if kind == "date range":
        start, end = GENERATED_NOW - dt.timedelta(days=12), GENERATED_NOW - dt.timedelta(days=3)
    export = TaizhangExport(
        ledger_url, settings, GENERATED_NOW, start, end, every_community=kind == "every community",
        street=_street(settings) if kind == "street" else None,
    )  # fmt: skip
    alone, alone_count = _written(export, split_from=10**9)
    halves, halves_count = _written(export, split_from=1)
    assert halves == alone and halves_count == alone_count
    rows = list(csv.reader(io.StringIO(halves.decode("utf-8-sig"))))
    numbers = [int(row[1 if kind == "street" else 0]) for row in rows[1:]]
    assert numbers == list(range(1, alone_count + 1))
    incidents = 2 if kind != "date range" else 0
    assert alone_count - incidents > (TICKETS // 4 if kind == "date range" else TICKETS - 1)
    assert rows[0] == list(export.columns)


def test_the_middle_is_that_of_the_sessions_community(engine: Engine) -> None:
    """`export_middle` counts and cuts the tickets of the session's community only (of every community for a
    session of none), and none below `least`."""
    init_schema(engine, "c1")
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    for community, count in (("c1", 4), ("c2", 10), ("c1", 2)):  # c1: 1–4 and 15–16; c2: 5–14
        with new_session(engine, community) as session:
            for _ in range(count):
                fields = {"category": "drainage", "description": "下水道堵了", "chat_id": "g"}
                open_ticket(session, now=now, reporter=Actor("r1", "张阿姨"), fields=fields)
            session.commit()
    for community, middle in (("c1", (3, 3)), ("c2", (9, 5)), (None, (8, 8))):
        with new_session(engine, community) as session:
            assert export_middle(session, now=now, least=6) == middle
            assert export_middle(session, now=now, least=17) is None


def test_one_ticket_is_not_cut(engine: Engine) -> None:
    init_schema(engine, "c1")
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    with new_session(engine, "c1") as session:
        fields = {"category": "drainage", "description": "下水道堵了", "chat_id": "g"}
        open_ticket(session, now=now, reporter=Actor("r1", "张阿姨"), fields=fields)
        session.commit()
        assert export_middle(session, now=now, least=1) is None
