"""Engine and session set-up: SQLite (WAL) by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine


def make_engine(url: str, *, search_path: str | None = None) -> Engine:
    """An engine for `url`. SQLite files get WAL, foreign keys and a busy timeout; `sqlite://` is in memory.

    `search_path` puts a PostgreSQL connection in one schema (the tests use a throw-away schema each).
    """
    if not url.startswith("sqlite"):
        connect_args = {"options": f"-csearch_path={search_path}"} if search_path else {}
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    path = url.removeprefix("sqlite:///")
    if path and path != url and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    else:
        engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def new_session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)
