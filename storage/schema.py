"""The ledger's schema, brought to the newest migration (storage/migrations) at every start.

A database made before there were migrations (by `SQLModel.metadata.create_all`) is adopted: it is stamped at
the initial revision, which creates exactly those tables, and upgraded from there. Nothing is ever dropped or
recreated to get a database onto the migration path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from settings.limits import DEFAULT_COMMUNITY_ID
from storage import texts
from storage.db import LedgerUnavailable

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().with_name("migrations")
INITIAL_REVISION = "0001_initial"
# The newest revision in migrations/versions (tests/test_migrations.py checks it). A database already there
# starts without importing Alembic at all, which is a tenth of a second of every start.
HEAD_REVISION = "0013_forwarded_photos"
# What `create_all` made before migrations existed, i.e. what INITIAL_REVISION creates. Frozen history:
# do not update this when the models change.
PRE_MIGRATION_TABLES = frozenset(
    {
        "member",
        "cadre",
        "grid",
        "chat_group",
        "ticket",
        "ticket_reporter",
        "ticket_event",
        "inbound_message",
        "outbox",
        "rota_swap",
    }
)
# Any fixed number: PostgreSQL advisory lock held while migrating, so two processes starting together queue.
_PG_LOCK_KEY = 0x48_75_69_79  # "Huiy"


def alembic_config(connection: Connection | None = None, *, community_id: str = DEFAULT_COMMUNITY_ID) -> Config:
    """Alembic configured in code (no alembic.ini at run time); env.py migrates on `connection`.

    `community_id` is the community whose rows a ledger of one community becomes (0011_communities)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    config.attributes["community_id"] = community_id
    return config


def init_schema(engine: Engine, community_id: str = DEFAULT_COMMUNITY_ID) -> None:
    """Upgrade the database to the newest revision, adopting a pre-migration database first. Idempotent.

    A ledger from before several communities shared one is adopted as `community_id` (the first community of
    a 街道 file, or the one community of a config file)."""
    if current_revision(engine) == HEAD_REVISION:
        log.info("database schema is up to date (revision %s)", HEAD_REVISION)
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with _migration_transaction(engine) as connection:
        config = alembic_config(connection, community_id=community_id)
        scripts = ScriptDirectory.from_config(config)
        head = scripts.get_current_head()
        current = MigrationContext.configure(connection).get_current_revision()
        if current is None:
            ours = PRE_MIGRATION_TABLES & set(inspect(connection).get_table_names())
            if ours:
                _adopt(config, missing=PRE_MIGRATION_TABLES - ours)
                current = INITIAL_REVISION
        elif current not in {script.revision for script in scripts.walk_revisions()}:
            raise RuntimeError(
                f"the database is at revision {current}, which this version of Huiyin does not know "
                "(was it made by a newer version?); not starting, nothing was changed"
            )
        if current == head:
            log.info("database schema is up to date (revision %s)", head)
            return
        command.upgrade(config, "head")
        log.info("database schema upgraded from %s to %s", current or "an empty database", head)


def current_revision(engine: Engine) -> str | None:
    """The revision recorded in the database, read with plain SQL (None when it has no migration history)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ledger_exists(engine: Engine) -> bool:
    """Whether the database holds the ledger's tables: a database the bot never ran on does not (read-only)."""
    return inspect(engine).has_table("ticket")


def check_ledger(engine: Engine) -> bool:
    """Whether there is a ledger to read (False: none yet), read-only and without Alembic.

    LedgerUnavailable, with the one line to show, when the database cannot be reached or read, or when its
    ledger is at another revision than this version's models (`huiyin run` upgrades it; reading it could not).
    """
    try:
        revision = current_revision(engine)
        if revision is None and not ledger_exists(engine):
            return False
    except DBAPIError as error:
        reason = next(iter(str(error.orig).strip().splitlines()), type(error.orig).__name__)  # drivers add hints
        where = engine.url.render_as_string(hide_password=True)
        log.info("cannot read the ledger at %s: %s", where, error.orig)
        raise LedgerUnavailable(texts.UNREADABLE.format(where=where, reason=reason)) from error
    if revision != HEAD_REVISION:
        found = revision or texts.NO_REVISION
        raise LedgerUnavailable(texts.OTHER_REVISION.format(found=found, head=HEAD_REVISION))
    return True


def _adopt(config: Config, *, missing: frozenset[str]) -> None:
    from alembic import command

    if missing:
        # Only the tables' owner can say what happened here; stamping would claim tables that are not there.
        raise RuntimeError(
            f"the database has some of the ledger's tables but not {', '.join(sorted(missing))}, and no "
            "migration history; not starting, nothing was changed"
        )
    log.warning("database predates migrations: keeping its tables and stamping it at %s", INITIAL_REVISION)
    command.stamp(config, INITIAL_REVISION)


@contextmanager
def _migration_transaction(engine: Engine) -> Iterator[Connection]:
    """One connection and one transaction for check, stamp and upgrade: a failure leaves the database as it was."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations copy a table and drop the original, which foreign keys pointing at it would
            # block; SQLite ignores this pragma inside a transaction, so it goes first (SQLite's documented
            # procedure for schema changes, with a foreign_key_check before commit).
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            # pysqlite would run DDL outside any transaction; an explicit BEGIN makes it all-or-nothing.
            # IMMEDIATE takes the write lock now, so a second process starting at the same time waits.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        try:
            yield connection
            if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                raise RuntimeError("migration left rows whose foreign keys point nowhere; rolled back")
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
