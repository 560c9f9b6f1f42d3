"""Engine and session set-up: SQLite (WAL) by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import ColumnElement, Table, bindparam, column, event, make_url
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria
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


COMMUNITY = "community_id"
"""`Session.info` key of the community a session works for (see `new_session`)."""


class CommunityScoped:
    """Mixin of the tables that belong to one community (a ticket, its reporters and events, a triage item, an
    incident, a swap, a job run). A session made for a community sees and writes only that community's rows."""

    community_scoped = True


def new_session(engine: Engine, community_id: str | None = None) -> Session:
    """A session; with `community_id`, one that works for that community only.

    Every ORM query it runs (selects, counts, joins, subqueries, `get`, ORM updates and deletes) gets
    `community_id = …` on each community-scoped table (`CommunityScoped`), and every such row it adds is given
    the community. So a cadre of one community cannot read or act on another's ticket, whatever handler runs;
    only the 街道's views (an unscoped session) read across communities."""
    session = Session(engine, expire_on_commit=False)
    if community_id is not None:
        session.info[COMMUNITY] = community_id
    return session


def session_community(session: Session) -> str | None:
    """The community `session` works for (None: all)."""
    return session.info.get(COMMUNITY)


_MEMO = "huiyin_memo"
"""`Session.info` key of what `per_transaction` remembers: {key: (tables, value)}."""

T = TypeVar("T")


def per_transaction(session: Session, key: Hashable, tables: tuple[type, ...], read: Callable[[], T]) -> T:
    """`read()`, asked once per transaction of `session`: what rarely changes and every message looks up (whether
    an incident is on, the rota's swaps), shared by the messages of one batch (`bot.app.Huiyin.handle_batch`).

    It is forgotten when the session flushes a row of one of `tables` (so a 通知 or a 换班 in the batch is seen by
    the messages after it) and when the transaction ends. `tables` must be written through the ORM only: a Core
    statement's rows would not be noticed."""
    memo = session.info.setdefault(_MEMO, {})
    if key not in memo:
        memo[key] = (tables, read())
    return memo[key][1]


@event.listens_for(Session, "after_flush")
def _forget_what_the_flush_changed(session: Session, _context: object) -> None:
    memo = session.info.get(_MEMO)
    if not memo:
        return
    written = {type(row) for rows in (session.new, session.dirty, session.deleted) for row in rows}
    for key in [key for key, (tables, _value) in memo.items() if written.intersection(tables)]:
        del memo[key]


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: object) -> None:
    if getattr(transaction, "parent", None) is None:
        session.info.pop(_MEMO, None)


def wait_for_locks_at_most(session: Session, timeout: dt.timedelta) -> None:
    """For the rest of `session`'s transaction, a statement that waits longer than `timeout` for a row another
    transaction holds fails (PostgreSQL's `lock_timeout`) instead of waiting on: how a long transaction that holds
    many rows gives way at once, where a deadlock would cost each side PostgreSQL's `deadlock_timeout` (1 s) to be
    found. SQLite has one writer at a time and nothing to set."""
    if session.get_bind().dialect.name == "postgresql":
        milliseconds = max(1, round(timeout / dt.timedelta(milliseconds=1)))
        session.connection().exec_driver_sql(f"SET LOCAL lock_timeout = {milliseconds}")


def core_connection(session: Session) -> Connection:
    """The session's connection, its pending changes flushed (as an ORM query autoflushes), for the Core statements
    of the hot paths (every message runs them): built once with bound parameters, run without the ORM, they cost
    a fraction of an ORM query. The ORM's community filter (below) does not apply to them: one on a community-scoped
    table adds `in_community(table)` when `session_community` is set and passes `community_params(session)`."""
    session.flush()
    return session.connection()


def in_community(table: Table) -> ColumnElement[bool]:
    """`table.community_id = :community_id`, the ORM's community filter written into a Core statement."""
    return table.c.community_id == bindparam(COMMUNITY)


def community_params(session: Session) -> dict[str, str]:
    """The parameter of `in_community` for `session` (empty for a session of all communities)."""
    community = session_community(session)
    return {} if community is None else {COMMUNITY: community}


class CrossCommunityBulk(Exception):
    """An ORM bulk UPDATE or DELETE by primary key (a list of rows) on a community-scoped table, in a session of one
    community: SQLAlchemy applies no criteria to those, so the community's filter could not hold."""


_SCOPE_PARAMETER = "huiyin_session_community"
"""The execution parameter carrying the session's community (a literal in the criteria's lambda: SQLAlchemy wraps
a variable the lambda names)."""


def _community_column(table: type) -> ColumnElement[str]:
    """`table.community_id`; SQLAlchemy first runs the criteria on the mixin itself, which has no column."""
    return getattr(table, COMMUNITY, _ANY_COMMUNITY_COLUMN)


_ANY_COMMUNITY_COLUMN = column(COMMUNITY)

_ONLY_ONE_COMMUNITY = with_loader_criteria(
    CommunityScoped,
    lambda table: _community_column(table) == bindparam("huiyin_session_community"),  # _SCOPE_PARAMETER
    include_aliases=True,
    track_closure_variables=False,
)
"""`community_id = :huiyin_session_community` on every community-scoped table a statement involves.

Made once, on the mixin: SQLAlchemy applies it to every subclass of `CommunityScoped` the statement touches (its
entities, joins, subqueries, aliases, `get`, ORM updates and deletes). The community is a parameter of the
execution, not a value inside the criteria: one option per table, or a value captured by the criteria's lambda,
cost every ORM statement a dozen option constructions or a re-run of the lambda (the listener was a fifth of
what a message cost, `bench/ingest.py`)."""


@event.listens_for(Session, "do_orm_execute")
def _only_the_sessions_community(state: ORMExecuteState) -> None:
    community = state.session.info.get(COMMUNITY)
    if community is None or state.is_column_load or state.is_relationship_load:
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    parameters = state.parameters
    if isinstance(parameters, list):  # bulk by primary key (executemany): not filtered by SQLAlchemy
        if any(issubclass(mapper.class_, CommunityScoped) for mapper in state.all_mappers):
            raise CrossCommunityBulk(f"bulk {state.statement!s:.60} in a session of community {community}")
        return
    state.statement = state.statement.options(_ONLY_ONE_COMMUNITY)
    state.parameters = {**(parameters or {}), _SCOPE_PARAMETER: community}


@event.listens_for(Session, "before_flush")
def _give_new_rows_the_community(session: Session, _context: object, _instances: object) -> None:
    community = session.info.get(COMMUNITY)
    if community is None:
        return
    for row in session.new:
        if getattr(row, "community_scoped", False):
            row.community_id = community
