"""A session made for a community reads and writes that community's rows only, whatever the query's shape; a
session of no community (the 街道's views) reads them all. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from storage.db import new_session
from storage.models import Incident, JobRun, Ticket, TicketEvent, TicketReporter
from storage.schema import init_schema

NOW = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)


def _ticket(engine: Engine, community: str, text: str) -> int:
    with new_session(engine, community) as session:
        ticket = Ticket(status="open", category="power", description=text, chat_id="g", created_at=NOW, updated_at=NOW)
        session.add(ticket)
        session.flush()
        session.add(TicketReporter(ticket_id=ticket.id, member_id=f"wx_{community}", member_name="张三", joined_at=NOW))
        session.add(
            TicketEvent(ticket_id=ticket.id, at=NOW, actor_id="u", actor_name="u", action="create", to_status="open")
        )
        session.commit()
        return ticket.id


def test_a_communitys_session_sees_and_changes_only_its_own_rows(engine: Engine) -> None:
    init_schema(engine)
    ours, theirs = _ticket(engine, "xingfuli", "楼道灯不亮"), _ticket(engine, "minzhu", "下水道堵了")
    with new_session(engine, "xingfuli") as session:
        assert session.get(Ticket, ours) is not None and session.get(Ticket, theirs) is None
        assert session.exec(select(Ticket.id)).all() == [ours]
        assert session.exec(select(func.count()).select_from(Ticket)).one() == 1
        assert session.exec(select(func.count()).select_from(TicketEvent)).one() == 1
        in_subquery = select(TicketReporter.member_id).where(col(TicketReporter.ticket_id).in_(select(Ticket.id)))
        assert session.exec(in_subquery).all() == ["wx_xingfuli"]
        joined = select(Ticket.description).join(TicketEvent, col(TicketEvent.ticket_id) == col(Ticket.id))
        assert session.exec(joined).all() == ["楼道灯不亮"]
        by_number = select(TicketEvent.id).where(TicketEvent.ticket_id == theirs)
        assert session.exec(by_number).all() == []  # naming another community's number finds nothing
        session.exec(update(Ticket).values(status="closed"))
        session.exec(delete(TicketReporter))
        session.commit()
    with new_session(engine) as session:  # the 街道's view: every community
        rows = {t.id: (t.community_id, t.status) for t in session.exec(select(Ticket))}
        reporters = session.exec(select(TicketReporter.ticket_id)).all()
    assert rows == {ours: ("xingfuli", "closed"), theirs: ("minzhu", "open")}
    assert reporters == [theirs]


def test_rows_a_communitys_session_adds_are_that_communitys(engine: Engine) -> None:
    init_schema(engine)
    with new_session(engine, "minzhu") as session:
        session.add(Incident(scope_kind="all", category="power", text="停电", starts_at=NOW, author_id="a",
                             author_name="王芳", status="active", community_id="xingfuli"))  # fmt: skip
        session.add(JobRun(job="digest", period="2026-W48", due_at=NOW, ran_at=NOW))
        session.commit()
    with new_session(engine) as session:
        assert session.exec(select(Incident.community_id)).all() == ["minzhu"]  # not the one it claimed
        assert session.exec(select(JobRun.community_id)).all() == ["minzhu"]
    with new_session(engine, "xingfuli") as session:
        assert session.exec(select(Incident)).all() == [] and session.exec(select(JobRun)).all() == []
