"""Helpers for the board's tests: a ledger made by replaying a conversation, a larger one generated as
bench/board_scale.py seeds it, and the board served on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from bench.board_scale import COLUMNS, NOW, generate
from bot.app import Huiyin, build_app
from bot.console import ConsoleSession
from bot.outbox import OutboxSender
from ledger.clock import ManualClock
from settings.models import Settings
from storage.schema import init_schema
from tests.chat import RecordingTransport

REPO = Path(__file__).resolve().parent.parent
WEEK_SCRIPT = REPO / "tests" / "scripts" / "week.txt"
SATURDAY_NOON = dt.datetime(2026, 11, 28, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
"""When the board looks at the replayed week: #4 (电梯, due Saturday 09:30, only accepted) is overdue."""


def replay(
    settings: Settings, database_url: str, lines: list[str] | Path = WEEK_SCRIPT, *, id_prefix: str = "week"
) -> tuple[Huiyin, RecordingTransport]:
    """Run a conversation through the real bot into `database_url`, as `huiyin replay` does; what it said."""
    clock = ManualClock(dt.datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    app, engine = build_app(settings, database_url, clock)
    transport = RecordingTransport()
    sender = OutboxSender(engine, transport, clock)
    session = ConsoleSession(settings, app, sender, clock, lambda _line: None, id_prefix=id_prefix)
    if isinstance(lines, Path):
        lines = lines.read_text(encoding="utf-8").splitlines()
    session.feed(lines)
    return app, transport


GENERATED_NOW = NOW
"""When the generated ledger was "written": its newest tickets are minutes old, about 1% of old ones still open."""


def seed_generated(settings: Settings, engine: Engine, tickets: int, days: float) -> None:
    """A ledger of `tickets` generated tickets reported over `days`, with their reporters, events and outbox rows
    (bench/board_scale.py)."""
    init_schema(engine)
    rows: dict[str, list[dict[str, object]]] = {table: [] for table in COLUMNS}
    for table, row in generate(settings, tickets, days=days):
        values = dict(zip(COLUMNS[table], row, strict=True))
        for key, value in values.items():
            if isinstance(value, dt.datetime):
                values[key] = value.replace(tzinfo=dt.UTC)
            elif key in ("changes", "mention_ids", "mention_names"):
                values[key] = json.loads(value)
        rows[table].append(values)
    with engine.begin() as connection:
        for table, values in rows.items():
            connection.execute(SQLModel.metadata.tables[table].insert(), values)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run `app` with uvicorn on 127.0.0.1 in a thread; yields its base URL and stops it afterwards."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:  # waiting for a real server to bind, not timing the code under test
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the board did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
