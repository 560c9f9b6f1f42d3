"""The SLA check's open tickets kept between its runs (`storage.job_queries.OpenViews`) are what a fresh read gives
after every kind of change, even changes at the very instant of the last read; on PostgreSQL a run after no
change reads no ticket whole."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event
from sqlalchemy.engine import Engine

from ledger.lifecycle import Action
from storage.db import new_session
from storage.job_queries import OpenViews, is_open, views
from storage.models import Ticket
from storage.schema import init_schema
from storage.tickets import Actor, apply_action, join_ticket, open_ticket
from tests.conftest import MONDAY_9AM

CADRE = Actor("wangfang", "王芳")
LATER = MONDAY_9AM + dt.timedelta(hours=2)


def _fields(place: str) -> dict:
    return {
        "category": "drainage", "description": f"{place}下水道堵了", "location": place, "grid_id": "g1",
        "chat_id": "1-3号楼业主群", "chat_name": "1-3号楼业主群",
        "response_due_at": MONDAY_9AM + dt.timedelta(hours=1), "resolution_due_at": MONDAY_9AM + dt.timedelta(days=2),
    }  # fmt: skip


class Ledger:
    """Community c1's tickets, changed one action at a time, each in its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        init_schema(engine, "c1")

    def open(self, place: str, community: str = "c1") -> int:
        with new_session(self.engine, community) as session:
            number = open_ticket(
                session, now=MONDAY_9AM, reporter=Actor(f"r-{place}", "居民"), fields=_fields(place),
                assignee_id="wangfang",
            ).id  # fmt: skip
            session.commit()
        return number

    def act(self, number: int, action: Action, at: dt.datetime, **changes: object) -> None:
        with new_session(self.engine, "c1") as session:
            ticket = session.get(Ticket, number)
            apply_action(session, ticket, action, actor=CADRE, now=at, changes=changes, responding=True)
            session.commit()

    def join(self, number: int, at: dt.datetime) -> None:
        with new_session(self.engine, "c1") as session:
            join_ticket(session, session.get(Ticket, number), Actor("neighbour", "邻居"), now=at)
            session.commit()


def _read(engine: Engine, kept: OpenViews) -> tuple[list, list, int]:
    """What the kept reader gives, what a fresh read gives, and how many statements the kept one ran."""
    statements: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with new_session(engine, "c1") as session:
        event.listen(engine, "before_cursor_execute", record)
        try:
            found = kept.read(session)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        fresh = views(session, is_open, reporters=False, deadlines=True)
    return found, fresh, len(statements)


def test_kept_open_views_equal_a_fresh_read_after_every_change(engine: Engine) -> None:
    ledger, kept = Ledger(engine), OpenViews()
    first, second, third = (ledger.open(place) for place in ("1号楼", "2号楼", "3号楼"))
    ledger.open("5号楼", community="c2")  # another community's ticket is never c1's

    def same() -> list:
        found, fresh, _ = _read(engine, kept)
        assert found == fresh
        return found

    assert [v.number for v in same()] == [first, second, third]
    # Each change at the instant of the read before it (a test's clock that does not move).
    ledger.act(first, Action.ACCEPT, MONDAY_9AM)
    assert same()[0].first_response_at == MONDAY_9AM
    ledger.act(second, Action.COMMIT, MONDAY_9AM, commitment_date=dt.date(2026, 11, 24))
    assert same()[1].committed_at == MONDAY_9AM
    ledger.act(second, Action.PROGRESS, LATER)
    same()
    # The same 承诺 again, at the instant of the last change: no value differs, yet its time is the new start.
    ledger.act(second, Action.COMMIT, LATER, commitment_date=dt.date(2026, 11, 24))
    assert same()[1].committed_at == LATER
    ledger.join(third, LATER)
    same()
    ledger.act(third, Action.DISPATCH, LATER, unit_id="wuye", dispatched_at=LATER)
    assert same()[2].unit_id == "wuye"
    ledger.act(first, Action.RESOLVE, LATER)
    assert [v.number for v in same()] == [second, third]
    reopened_due = LATER + dt.timedelta(days=2)
    ledger.act(first, Action.REOPEN, LATER, resolution_due_at=reopened_due)
    reopened = same()[0]
    assert (reopened.number, reopened.resolution_since, reopened.resolution_due_at) == (first, LATER, reopened_due)


def test_a_run_after_no_change_reads_only_the_versions_on_postgresql(engine: Engine) -> None:
    ledger, kept = Ledger(engine), OpenViews()
    first = ledger.open("1号楼")
    ledger.open("2号楼")
    whole = 2  # the rows and their deadlines' starts
    postgresql = engine.dialect.name == "postgresql"
    assert _read(engine, kept)[2] == (1 + whole if postgresql else whole)
    assert _read(engine, kept)[2] == (1 if postgresql else whole)
    ledger.act(first, Action.ACCEPT, MONDAY_9AM)
    found, fresh, statements = _read(engine, kept)
    assert found == fresh and statements == (1 + whole if postgresql else whole)
    assert _read(engine, kept)[2] == (1 if postgresql else whole)
