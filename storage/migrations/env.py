"""Alembic environment for the ledger.

At run time `storage.schema.init_schema` passes its open connection in `config.attributes["connection"]` and
owns the transaction. The `alembic` command line (see alembic.ini, for writing new revisions) gets none and
connects to the ini's `sqlalchemy.url` itself.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.db import make_engine
from storage.types import UTCDateTime

config = context.config


def render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Write column types into new revisions so that the revision file imports what it needs."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import storage.types")
        return "storage.types.UTCDateTime()"
    if kind == "type" and isinstance(obj, AutoString):
        # SQLModel's str column is a plain VARCHAR on SQLite and PostgreSQL; sa.String keeps revisions
        # independent of sqlmodel's internal module layout.
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False  # Alembic's default rendering


FOREIGN_TABLES = frozenset({"apscheduler_jobs"})
"""Tables in the ledger's database that others own (APScheduler's job store creates its own)."""


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave foreign tables out of comparisons, so autogenerate never proposes dropping them."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        compare_type=True,
        render_item=render_item,
        include_object=include_object,
        # Every revision must run on SQLite too, whatever database it was generated against, so batch
        # operations (which SQLite needs for most ALTERs and PostgreSQL runs as plain ALTERs) always.
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")

connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            run_migrations(connection)
            connection.commit()
    finally:
        engine.dispose()
