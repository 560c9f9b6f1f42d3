"""Engine and session set-up: SQLite (WAL) by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from storage import texts

READ_ONLY_CONNECT_TIMEOUT = 10
"""Seconds a read-only command waits for a PostgreSQL server before saying it cannot be reached."""


class LedgerUnavailable(Exception):
    """The ledger's database cannot be read; the message is the one line to show (no traceback)."""


def make_engine(url: str, *, search_path: str | None = None, read_only: bool = False) -> Engine:
    """An engine for `url`. SQLite files get WAL, foreign keys and a busy timeout; `sqlite://` is in memory.

    `search_path` puts a PostgreSQL connection in one schema (the tests use a throw-away schema each).
    `read_only` engines refuse writes and never create a database: a SQLite file is opened only if it exists
    (else LedgerUnavailable: a mistyped path must not become a new empty ledger), PostgreSQL sessions are read-only.
    """
    if not url.startswith("sqlite"):
        connect_args: dict[str, object] = {"options": f"-csearch_path={search_path}"} if search_path else {}
        if read_only:
            connect_args["connect_timeout"] = READ_ONLY_CONNECT_TIMEOUT
        engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
        if read_only:
            _refuse_writes(engine, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", commit=True)
        return engine
    path = make_url(url).database
    if path and path != ":memory:":
        if read_only:
            return _read_only_sqlite(url, Path(path))
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    else:
        engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a killed process loses nothing (the crash
        # bench kills the bot 25 times), a power cut may lose the last commits; FULL cost 2 ms of each message.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    if read_only:
        _refuse_writes(engine, "PRAGMA query_only=ON", commit=False)
    return engine


def _read_only_sqlite(url: str, path: Path) -> Engine:
    """SQLite's URI mode `ro`: the file is never created or written (SQLite may add its -wal/-shm files beside a
    WAL database), and needs no WAL pragma, which would be a write (WAL mode is recorded in the file)."""
    if not path.is_file():
        raise LedgerUnavailable(texts.MISSING_FILE.format(path=path))
    uri = f"{path.resolve().as_uri()}?mode=ro"
    return create_engine(url, creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30))


def _refuse_writes(engine: Engine, statement: str, *, commit: bool) -> None:
    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()
        if commit:
            dbapi_connection.commit()


def new_session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)
