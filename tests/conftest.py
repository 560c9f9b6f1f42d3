"""Shared fixtures: the sample community, a ledger on SQLite and (when configured) PostgreSQL, a movable clock."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.app import Huiyin
from ledger.clock import ManualClock
from nlp.trained import configured_classifier
from settings import load_settings
from settings.models import Settings
from storage.db import make_engine
from tests.chat import Chat

REPO = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_9AM = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
PG_ENV = "HUIYIN_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings(REPO / "config.yaml")


def _postgres_engine() -> Iterator[Engine]:
    """An engine on a throw-away schema of the test PostgreSQL server, dropped afterwards."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL variant skipped: set {PG_ENV} (CI sets it; .ci/run starts the server)")
    schema = f"huiyin_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # a laptop without the server
        admin.dispose()
        pytest.skip(f"PostgreSQL variant skipped: cannot reach {url}: {error.__class__.__name__}")
    engine = make_engine(url, search_path=schema)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'huiyin.db'}")
        yield engine
        engine.dispose()
    else:
        yield from _postgres_engine()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY_9AM)


@pytest.fixture
def app(settings: Settings, engine: Engine, clock: ManualClock) -> Huiyin:
    huiyin = Huiyin(settings, engine, configured_classifier(settings), clock)  # what the bot uses
    huiyin.prepare()
    return huiyin


@pytest.fixture
def chat(app: Huiyin) -> Chat:
    return Chat(app)
