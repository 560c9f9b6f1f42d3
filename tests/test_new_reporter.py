"""A neighbour joining a ticket: the state read, the `join` event and the reporter in one statement on PostgreSQL
(three on SQLite), and every other case of a join (a reporter already, one who withdrew and comes back, a ticket
no longer open) as before, on both databases; a report joining the ticket a candidate query found, without reading
it first (`join_found`), including a ticket another process changed or closed since."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import select

from ledger.lifecycle import Action, IllegalTransition
from storage.db import new_session
from storage.models import Ticket, TicketReporter
from storage.schema import init_schema
from storage.tickets import (
    Actor,
    Joined,
    apply_action,
    join_found,
    join_ticket,
    ledger_fields,
    open_ticket,
    rebuild_ticket,
    remove_reporter,
    ticket_events,
)
from tests.conftest import MONDAY_9AM
from tests.test_new_ticket import FIELDS, RESIDENT

NEIGHBOUR = Actor("li", "李叔")
LATER = MONDAY_9AM + dt.timedelta(minutes=7)
CADRE = Actor("wangfang", "王芳")


def _opened(engine: Engine) -> int:
    """A ticket of community c1 reported by `RESIDENT`; its number."""
    init_schema(engine, "c1")
    with new_session(engine, "c1") as session:
        ticket = open_ticket(session, now=MONDAY_9AM, reporter=RESIDENT, fields=FIELDS, assignee_id="wangfang")
        session.commit()
        return ticket.id


@contextmanager
def _recording(engine: Engine) -> Iterator[list[str]]:
    """The statements run on `engine` within the block."""
    seen: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _joined(engine: Engine, number: int, who: Actor, at: dt.datetime) -> tuple[int | None, list[str]]:
    """`join_ticket` of `who` on ticket `number` in a session of its own: what it returned and the statements it
    ran (the ticket read before it is not counted)."""
    with new_session(engine, "c1") as session:
        ticket = session.get(Ticket, number)
        with _recording(engine) as seen:
            count = join_ticket(session, ticket, who, now=at, note="我家也是")
        session.commit()
    return count, seen


def _closed(engine: Engine, number: int) -> None:
    """Ticket `number` resolved and closed by its cadre."""
    with new_session(engine, "c1") as session:
        ticket = session.get(Ticket, number)
        apply_action(session, ticket, Action.RESOLVE, actor=CADRE, now=LATER, responding=True)
        apply_action(session, ticket, Action.CLOSE, actor=CADRE, now=LATER)
        session.commit()


def _reporters(engine: Engine, number: int) -> list[tuple[str, bool]]:
    with new_session(engine, "c1") as session:
        query = select(TicketReporter).where(TicketReporter.ticket_id == number).order_by(TicketReporter.id)
        return [(row.member_id, row.active) for row in session.exec(query)]


def _actions(engine: Engine, number: int) -> list[tuple[str, str, str]]:
    with new_session(engine, "c1") as session:
        return [(e.action, e.actor_id, e.note) for e in ticket_events(session, number)]


def test_a_newcomer_joins_in_one_statement_on_postgresql(engine: Engine) -> None:
    number = _opened(engine)
    count, statements = _joined(engine, number, NEIGHBOUR, LATER)
    assert count == 2
    assert len(statements) == (1 if engine.dialect.name == "postgresql" else 3)
    assert _reporters(engine, number) == [("zhang", True), ("li", True)]
    assert _actions(engine, number)[-1] == ("join", "li", "我家也是")
    with new_session(engine, "c1") as session:
        stored = session.get(Ticket, number)
        assert stored.updated_at == LATER  # the ticket's time is touched at commit
        assert stored.status == "assigned"
        events = ticket_events(session, number)
        assert (events[-1].from_status, events[-1].to_status, events[-1].community_id) == ("assigned", "assigned", "c1")
        assert rebuild_ticket(events) == ledger_fields(stored)


def test_a_reporter_joining_again_writes_nothing(engine: Engine) -> None:
    number = _opened(engine)
    _joined(engine, number, NEIGHBOUR, LATER)
    before = _actions(engine, number)
    count, _ = _joined(engine, number, NEIGHBOUR, LATER + dt.timedelta(minutes=1))
    assert count is None
    assert _actions(engine, number) == before
    assert _reporters(engine, number) == [("zhang", True), ("li", True)]
    with new_session(engine, "c1") as session:
        assert session.get(Ticket, number).updated_at == LATER


def test_a_reporter_who_withdrew_comes_back_on_the_same_row(engine: Engine) -> None:
    number = _opened(engine)
    _joined(engine, number, NEIGHBOUR, LATER)
    with new_session(engine, "c1") as session:
        remove_reporter(session, session.get(Ticket, number), NEIGHBOUR, now=LATER + dt.timedelta(minutes=1))
        session.commit()
    count, _ = _joined(engine, number, NEIGHBOUR, LATER + dt.timedelta(minutes=2))
    assert count == 2
    assert _reporters(engine, number) == [("zhang", True), ("li", True)]
    assert [action for action, _, _ in _actions(engine, number)][-3:] == ["join", "leave", "join"]


def test_joining_a_ticket_no_longer_open_is_refused_and_writes_nothing(engine: Engine) -> None:
    number = _opened(engine)
    _closed(engine, number)
    before = _actions(engine, number)
    with pytest.raises(IllegalTransition):
        _joined(engine, number, NEIGHBOUR, LATER + dt.timedelta(minutes=1))
    assert _actions(engine, number) == before
    assert _reporters(engine, number) == [("zhang", True)]


def test_a_join_counts_only_its_own_tickets_reporters(engine: Engine) -> None:
    number = _opened(engine)
    with new_session(engine, "c1") as session:
        other = open_ticket(session, now=MONDAY_9AM, reporter=Actor("wu", "吴"), fields=FIELDS)
        session.commit()
    _joined(engine, other.id, Actor("zhao", "赵"), LATER)
    count, _ = _joined(engine, number, NEIGHBOUR, LATER)
    assert count == 2


def _found(engine: Engine, number: int, status: str, who: Actor, at: dt.datetime) -> tuple[Joined | None, list[str]]:
    """`join_found` of `who` on ticket `number`, read by a candidate query in `status`, in a session of its own:
    what it returned and the statements it ran."""
    with new_session(engine, "c1") as session:
        with _recording(engine) as seen:
            joined = join_found(session, number, status, who, now=at, note="我家也是")
        session.commit()
    return joined, seen


def test_a_report_joins_the_ticket_it_found_in_one_statement_on_postgresql(engine: Engine) -> None:
    number = _opened(engine)
    joined, statements = _found(engine, number, "assigned", NEIGHBOUR, LATER)
    assert joined == Joined(number, "assigned", FIELDS["category"], FIELDS["location"], "wangfang", 2)
    assert len(statements) == (1 if engine.dialect.name == "postgresql" else 4)  # SQLite reads the ticket first
    assert _reporters(engine, number) == [("zhang", True), ("li", True)]
    with new_session(engine, "c1") as session:
        stored = session.get(Ticket, number)
        assert stored.updated_at == LATER
        assert rebuild_ticket(ticket_events(session, number)) == ledger_fields(stored)
    again, _ = _found(engine, number, "assigned", NEIGHBOUR, LATER + dt.timedelta(minutes=1))
    assert again == joined._replace(reporters=None)
    assert [action for action, _, _ in _actions(engine, number)].count("join") == 1


def test_a_ticket_changed_since_it_was_found_is_joined_in_its_new_state(engine: Engine) -> None:
    number = _opened(engine)
    with new_session(engine, "c1") as session:  # another bot process: the cadre accepts it after the candidates
        apply_action(session, session.get(Ticket, number), Action.ACCEPT, actor=CADRE, now=LATER, responding=True)
        session.commit()
    joined, _ = _found(engine, number, "assigned", NEIGHBOUR, LATER)
    assert joined is not None and (joined.status, joined.reporters) == ("accepted", 2)
    with new_session(engine, "c1") as session:
        events = ticket_events(session, number)
        assert (events[-1].action, events[-1].from_status, events[-1].to_status) == ("join", "accepted", "accepted")
        assert rebuild_ticket(events) == ledger_fields(session.get(Ticket, number))


def test_a_ticket_closed_since_it_was_found_is_not_joined(engine: Engine) -> None:
    number = _opened(engine)
    _closed(engine, number)
    before = _actions(engine, number)
    joined, _ = _found(engine, number, "assigned", NEIGHBOUR, LATER + dt.timedelta(minutes=1))
    assert joined is None
    assert _actions(engine, number) == before
    assert _reporters(engine, number) == [("zhang", True)]


def test_a_ticket_loaded_after_a_join_shows_the_joins_time_before_commit(engine: Engine) -> None:
    number = _opened(engine)
    with new_session(engine, "c1") as session:
        join_found(session, number, "assigned", NEIGHBOUR, now=LATER)
        assert session.get(Ticket, number).updated_at == LATER
        session.rollback()
    with new_session(engine, "c1") as session:
        assert session.get(Ticket, number).updated_at == MONDAY_9AM
        assert _reporters(engine, number) == [("zhang", True)]
