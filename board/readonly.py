"""An engine the board cannot write through: the wall runs beside the bot and must never change the ledger."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from storage.db import make_engine


def read_only_engine(url: str, *, search_path: str | None = None) -> Engine:
    """`make_engine(url)` that refuses writes and never creates a database (SQLite URI mode `ro`, PostgreSQL
    read-only sessions). LedgerUnavailable for a SQLite file that is not there."""
    return make_engine(url, search_path=search_path, read_only=True)
