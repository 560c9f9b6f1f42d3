"""Residents are remembered with one statement at most per message, and none when nothing changed: what this process
committed is kept; what a rolled-back transaction wrote is written again. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.db import new_session
from storage.directory import remember_member
from storage.models import Member
from storage.schema import init_schema

NOW = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)


def _remember(engine: Engine, name: str, community: str | None, *, commit: bool = True) -> int:
    """How many statements remembering took."""
    statements = []
    event.listen(engine, "before_cursor_execute", listener := lambda *args: statements.append(args[2]))
    try:
        with new_session(engine, "main") as session:
            remember_member(session, "wx_a", name, now=NOW, community_id=community)
            if commit:
                session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len([s for s in statements if "member" in s])


def _stored(engine: Engine) -> tuple[str, str | None]:
    with new_session(engine) as session:
        member = session.exec(select(Member)).one()
    return member.name, member.community_id


def test_a_member_is_written_once_and_again_only_when_something_changed(engine: Engine) -> None:
    init_schema(engine)
    assert _remember(engine, "张阿姨", "main") == 1
    assert _remember(engine, "张阿姨", "main") == 0
    assert _remember(engine, "张阿姨", None) == 0  # a private message names no community
    assert _remember(engine, "张阿姨", "minzhu") == 1 and _stored(engine) == ("张阿姨", "minzhu")
    assert _remember(engine, "张阿姨🌸", None) == 1 and _stored(engine) == ("张阿姨🌸", "minzhu")


def test_what_a_rolled_back_transaction_wrote_is_written_again(engine: Engine) -> None:
    init_schema(engine)
    assert _remember(engine, "刘大爷", "main", commit=False) == 1
    assert _remember(engine, "刘大爷", "main") == 1 and _stored(engine) == ("刘大爷", "main")
