"""The hot paths' Core reads and writes of a ticket and a triage item (`get_ticket`, `tickets_reported_by`,
`storage.triage.hold`) give what the ORM gave: the same rows, of the session's community only, objects that track
changes as loaded ones do, and the session's own object where it has one. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from ledger.lifecycle import Action
from storage.db import new_session
from storage.models import Ticket, TicketReporter, TriageItem
from storage.schema import init_schema
from storage.tickets import (
    Actor,
    add_reporter,
    apply_action,
    get_ticket,
    ledger_fields,
    open_ticket,
    remove_reporter,
    tickets_reported_by,
)
from storage.triage import get_item, hold
from tests.conftest import MONDAY_9AM

RESIDENT, NEIGHBOUR, CADRE = Actor("zhang", "张阿姨"), Actor("li", "李叔"), Actor("wangfang", "王芳")


def _fields(text: str) -> dict:
    return {"category": "drainage", "description": text, "location": "3号楼", "grid_id": "g1", "chat_id": "群"}


def _open(engine: Engine, community: str, text: str, reporter: Actor = RESIDENT, minutes: int = 0) -> int:
    with new_session(engine, community) as session:
        now = MONDAY_9AM + dt.timedelta(minutes=minutes)
        ticket = open_ticket(session, now=now, reporter=reporter, fields=_fields(text), assignee_id="wangfang")
        session.commit()
        return ticket.id


def _orm_loaded(engine: Engine, number: int) -> dict:
    with new_session(engine) as session:
        return ledger_fields(session.exec(select(Ticket).where(Ticket.id == number)).one())


def test_get_ticket_reads_the_row_as_the_orm_does_and_only_of_the_sessions_community(engine: Engine) -> None:
    init_schema(engine)
    ours, theirs = _open(engine, "xingfuli", "下水道堵了"), _open(engine, "minzhu", "楼道灯不亮")
    with new_session(engine, "xingfuli") as session:
        ticket = get_ticket(session, ours)
        assert ledger_fields(ticket) == _orm_loaded(engine, ours)
        assert (ticket.id, ticket.community_id, ticket.merge_features) == (ours, "xingfuli", _features(engine, ours))
        assert inspect(ticket).persistent and not session.dirty and not session.new
        assert get_ticket(session, ours) is ticket  # the session's own object, not a second one
        assert session.get(Ticket, ours) is ticket
        assert get_ticket(session, theirs) is None and get_ticket(session, ours + theirs + 100) is None
    with new_session(engine) as session:  # the 街道's session reads every community's
        assert get_ticket(session, theirs).description == "楼道灯不亮"


def _features(engine: Engine, number: int) -> str:
    with new_session(engine) as session:
        return session.exec(select(Ticket.merge_features).where(Ticket.id == number)).one()


def test_a_ticket_get_ticket_read_writes_what_changes(engine: Engine) -> None:
    init_schema(engine)
    number = _open(engine, "xingfuli", "下水道堵了")
    later = MONDAY_9AM + dt.timedelta(minutes=7)
    with new_session(engine, "xingfuli") as session:
        ticket = get_ticket(session, number)
        apply_action(session, ticket, Action.ACCEPT, actor=CADRE, now=later, responding=True)
        assert add_reporter(session, ticket, NEIGHBOUR, now=later)
        session.commit()
        assert ticket.status == "accepted"  # expired at the commit, read again
    stored = _orm_loaded(engine, number)
    assert (stored["status"], stored["first_response_at"]) == ("accepted", later)


def test_get_ticket_gives_the_object_the_session_already_changed(engine: Engine) -> None:
    init_schema(engine)
    number = _open(engine, "xingfuli", "下水道堵了")
    with new_session(engine, "xingfuli") as session:
        ticket = session.exec(select(Ticket).where(Ticket.id == number)).one()
        ticket.description = "下水道堵了，一楼返水"
        session.add(ticket)
        assert get_ticket(session, number) is ticket
        assert get_ticket(session, number).description == "下水道堵了，一楼返水"


def test_tickets_reported_by_are_the_members_active_ones_of_the_community_newest_first(engine: Engine) -> None:
    init_schema(engine)
    first = _open(engine, "xingfuli", "下水道堵了")
    joined = _open(engine, "xingfuli", "楼道灯不亮", reporter=NEIGHBOUR, minutes=1)
    left = _open(engine, "xingfuli", "电梯坏了", minutes=2)
    elsewhere = _open(engine, "minzhu", "垃圾没人清运", minutes=3)
    newest = _open(engine, "xingfuli", "井盖松动", minutes=4)
    with new_session(engine, "xingfuli") as session:
        add_reporter(session, get_ticket(session, joined), RESIDENT, now=MONDAY_9AM)
        remove_reporter(session, get_ticket(session, left), RESIDENT, now=MONDAY_9AM)
        session.commit()
    with new_session(engine, "xingfuli") as session:
        found = tickets_reported_by(session, RESIDENT.id)
        assert [t.id for t in found] == [newest, joined, first]
        assert [t.id for t in tickets_reported_by(session, RESIDENT.id, limit=2)] == [newest, joined]
        assert [ledger_fields(t) for t in found] == [_orm_loaded(engine, t.id) for t in found]
        assert tickets_reported_by(session, RESIDENT.id)[0] is found[0]
    with new_session(engine) as session:
        everywhere = [t.id for t in tickets_reported_by(session, RESIDENT.id)]
        query = (
            select(TicketReporter.ticket_id)
            .where(TicketReporter.member_id == RESIDENT.id, TicketReporter.active)
            .order_by(col(TicketReporter.ticket_id).desc())
        )
        assert everywhere == session.exec(query).all() == [newest, elsewhere, joined, first]


def test_a_held_message_is_an_item_of_the_sessions_community(engine: Engine) -> None:
    init_schema(engine)
    fields = {
        "text": "楼下好像有股味道", "chat_id": "群", "chat_name": "1-3号楼业主群", "sender_id": "zhang",
        "sender_name": "张阿姨", "intent": "report", "category": "sanitation", "confidence": 0.42,
        "asked_id": "wangfang", "response_due_at": MONDAY_9AM + dt.timedelta(hours=1),
    }  # fmt: skip
    with new_session(engine, "minzhu") as session:
        other = hold(session, now=MONDAY_9AM, fields=fields)
        session.commit()
    with new_session(engine, "xingfuli") as session:
        number = hold(session, now=MONDAY_9AM, fields={**fields, "community_id": "minzhu"})
        session.commit()
    assert number != other
    with new_session(engine, "xingfuli") as session:
        item = get_item(session, number)
        assert (item.community_id, item.text, item.confidence, item.created_at) == (
            "xingfuli", "楼下好像有股味道", 0.42, MONDAY_9AM,
        )  # fmt: skip
        assert (item.chat_is_private, item.location, item.decision, item.ticket_id) == (False, None, None, None)
        assert get_item(session, other) is None
    with new_session(engine) as session:
        assert session.exec(select(TriageItem.community_id).order_by(col(TriageItem.id))).all() == [
            "minzhu", "xingfuli",
        ]  # fmt: skip
