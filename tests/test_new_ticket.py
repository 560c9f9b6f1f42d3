"""Opening a ticket: the row, its events and its first reporter in one statement on PostgreSQL (three on SQLite),
and an object that behaves as one a query loaded."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlmodel import select

from ledger.lifecycle import Action
from storage.db import new_session
from storage.models import Ticket, TicketReporter
from storage.schema import init_schema
from storage.tickets import Actor, apply_action, ledger_fields, open_ticket, rebuild_ticket, ticket_events
from tests.conftest import MONDAY_9AM

FIELDS = {
    "category": "drainage", "description": "3号楼2单元下水道堵了", "location": "3号楼2单元", "grid_id": "g1",
    "chat_id": "1-3号楼业主群", "chat_name": "1-3号楼业主群", "urgent": False, "confidence": 0.91,
    "response_due_at": MONDAY_9AM + dt.timedelta(hours=1), "resolution_due_at": MONDAY_9AM + dt.timedelta(days=2),
}  # fmt: skip
RESIDENT = Actor("zhang", "张阿姨")


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_: seen.append(statement))
    return seen


def test_a_new_ticket_is_written_in_one_statement_on_postgresql_and_read_back_whole(engine: Engine) -> None:
    init_schema(engine, "c1")
    with new_session(engine, "c1") as session:
        session.connection()  # the transaction's own statements are not the ticket's
        seen = _statements(engine)
        ticket = open_ticket(session, now=MONDAY_9AM, reporter=RESIDENT, fields=FIELDS, assignee_id="wangfang")
        written = list(seen)
        assert not session.dirty and not session.new and inspect(ticket).persistent
        opened = ledger_fields(ticket)
        session.commit()
    assert len(written) == (1 if engine.dialect.name == "postgresql" else 3)

    with new_session(engine, "c1") as session:
        stored = session.get(Ticket, ticket.id)
        assert ledger_fields(stored) == opened
        assert (stored.community_id, stored.status, stored.assignee_id) == ("c1", "assigned", "wangfang")
        assert stored.merge_features and "下水道" in stored.merge_features
        events = ticket_events(session, ticket.id)
        assert [(e.action, e.from_status, e.to_status, e.community_id) for e in events] == [
            ("create", None, "new", "c1"), ("assign", "new", "assigned", "c1"),
        ]  # fmt: skip
        assert rebuild_ticket(events) == ledger_fields(stored)
        [reporter] = session.exec(select(TicketReporter).where(TicketReporter.ticket_id == ticket.id)).all()
        assert (reporter.member_id, reporter.member_name, reporter.active) == ("zhang", "张阿姨", True)


def test_a_ticket_changed_after_opening_writes_the_change(engine: Engine) -> None:
    """The opened object tracks changes as a loaded one does: a later action in the same session is flushed."""
    init_schema(engine, "c1")
    later = MONDAY_9AM + dt.timedelta(minutes=5)
    with new_session(engine, "c1") as session:
        ticket = open_ticket(session, now=MONDAY_9AM, reporter=RESIDENT, fields=FIELDS, assignee_id="wangfang")
        apply_action(session, ticket, Action.ACCEPT, actor=Actor("wangfang", "王芳"), now=later, responding=True)
        session.commit()
    with new_session(engine, "c1") as session:
        stored = session.get(Ticket, ticket.id)
        assert (stored.status, stored.first_response_at, stored.updated_at) == ("accepted", later, later)
        assert [e.action for e in ticket_events(session, ticket.id)] == ["create", "assign", "accept"]
