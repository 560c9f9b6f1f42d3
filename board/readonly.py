"""An engine the board cannot write through: the wall runs beside the bot and must never change the ledger."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

from storage.db import make_engine


def read_only_engine(url: str, *, search_path: str | None = None) -> Engine:
    """`make_engine(url)` whose connections refuse writes (SQLite `query_only`, PostgreSQL read-only sessions)."""
    engine = make_engine(url, search_path=search_path)
    statement = (
        "PRAGMA query_only=ON"
        if engine.dialect.name == "sqlite"
        else "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"
    )

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()
        if engine.dialect.name != "sqlite":
            dbapi_connection.commit()

    return engine
