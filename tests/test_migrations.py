"""Migrations: the models and the migrated database agree, and an upgrade keeps every row it finds.

Each test runs on a SQLite file and on a throw-away PostgreSQL schema (conftest's `engine`; skipped with the
reason when HUIYIN_TEST_DATABASE_URL is not set).
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, select

from ledger.messages import Outgoing
from storage.db import new_session
from storage.messages import attach, attachments, enqueue
from storage.models import CadreRecord, InboundMessage, JobRun, OutboxMessage, Ticket
from storage.schema import HEAD_REVISION, INITIAL_REVISION, alembic_config, init_schema

CREATED = dt.datetime(2026, 11, 20, 1, 30)  # naive UTC, as UTCDateTime stores it
AWARE = CREATED.replace(tzinfo=dt.UTC)


def _head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def _migrate(engine: Engine, step, revision: str) -> None:
    with engine.connect() as connection:
        step(alembic_config(connection), revision)
        connection.commit()


def _assert_matches_models(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), SQLModel.metadata
        )
    assert differences == [], (
        "storage/models.py and storage/migrations disagree: add a revision (see storage/migrations/alembic.ini)"
    )


def test_a_new_database_is_migrated_to_exactly_the_models(engine: Engine) -> None:
    init_schema(engine)
    assert _revision(engine) == _head()
    _assert_matches_models(engine)


def test_the_version_table_lands_in_the_connections_schema(engine: Engine) -> None:
    init_schema(engine)
    if engine.dialect.name != "postgresql":
        assert "alembic_version" in _tables(engine)
        return
    with engine.connect() as connection:
        schema = connection.scalar(text("select current_schema()"))
        where = connection.scalars(
            text("select table_schema from information_schema.tables where table_name = 'alembic_version'")
        ).all()
    assert schema.startswith("huiyin_test_")
    assert schema in where


def test_init_schema_twice_is_a_no_op(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    init_schema(engine)
    tables = _tables(engine)
    with caplog.at_level(logging.INFO, logger="storage.schema"):
        init_schema(engine)
    assert "database schema is up to date" in caplog.text
    assert "upgraded" not in caplog.text
    assert _tables(engine) == tables
    assert _revision(engine) == _head()
    if engine.dialect.name == "sqlite":  # migrating turns foreign keys off for its connection, and back on
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _pre_migration_database(engine: Engine) -> None:
    """A database as the app made it before migrations, holding one ticket.

    The initial revision reproduces that create_all exactly (checked table by table when it was written), so
    running it and removing Alembic's table is that database.
    """
    _migrate(engine, command.upgrade, INITIAL_REVISION)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(
            text(
                "INSERT INTO ticket (id, status, category, description, chat_id, chat_name, chat_is_private, urgent,"
                " confidence, created_at, updated_at) VALUES (7, 'open', 'plumbing', '3号楼下水道堵了', 'room-1',"
                " '1-3号楼业主群', false, true, 0.9, :at, :at)"
            ),
            {"at": CREATED},
        )


def test_a_database_from_before_migrations_is_adopted_and_keeps_its_rows(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    _pre_migration_database(engine)
    with caplog.at_level(logging.INFO, logger="storage.schema"):
        init_schema(engine)
    assert f"stamping it at {INITIAL_REVISION}" in caplog.text
    assert _revision(engine) == _head()
    _assert_matches_models(engine)
    with new_session(engine) as session:
        ticket = session.get(Ticket, 7)
    assert ticket is not None
    assert (ticket.description, ticket.urgent, ticket.agenda) == ("3号楼下水道堵了", True, False)
    assert ticket.created_at == CREATED.replace(tzinfo=dt.UTC)


def test_a_database_with_only_some_of_the_old_tables_is_left_alone(engine: Engine) -> None:
    _pre_migration_database(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE rota_swap"))
    with pytest.raises(RuntimeError, match="not rota_swap"):
        init_schema(engine)
    assert "alembic_version" not in _tables(engine)
    with engine.connect() as connection:
        assert connection.scalar(text("select count(*) from ticket")) == 1


def test_a_database_from_a_newer_version_is_left_alone(engine: Engine) -> None:
    init_schema(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    with pytest.raises(RuntimeError, match="does not know"):
        init_schema(engine)
    assert _revision(engine) == "9999_from_the_future"


def test_downgrade_to_base_and_upgrade_again(engine: Engine) -> None:
    init_schema(engine)
    _migrate(engine, command.downgrade, "base")
    assert _tables(engine) == {"alembic_version"}
    assert _revision(engine) is None
    init_schema(engine)
    assert _revision(engine) == _head()
    _assert_matches_models(engine)


def test_upgrading_from_0007_adds_the_incident_tables_and_keeps_the_tickets(engine: Engine) -> None:
    _pre_migration_database(engine)
    init_schema(engine)
    _migrate(engine, command.downgrade, "0007_multiprocess")
    assert not {"incident", "incident_reporter", "incident_event"} & _tables(engine)
    init_schema(engine)
    assert _revision(engine) == _head()
    assert {"incident", "incident_reporter", "incident_event"} <= _tables(engine)
    _assert_matches_models(engine)
    with new_session(engine) as session:
        ticket = session.get(Ticket, 7)
    assert ticket is not None and ticket.description == "3号楼下水道堵了"


def test_upgrading_from_0008_adds_the_unit_columns_and_keeps_the_tickets(engine: Engine) -> None:
    """0009_units adds `ticket.unit_id` and `ticket.dispatched_at` (partner units, 派单): a ledger made by 0008 keeps
    every ticket, with every value, and its tickets are dispatched to nobody."""
    _pre_migration_database(engine)
    init_schema(engine)
    _migrate(engine, command.downgrade, "0008_incidents")
    assert _revision(engine) == "0008_incidents"
    assert not {"unit_id", "dispatched_at"} & _columns(engine, "ticket")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO ticket (id, status, category, description, location, grid_id, chat_id, chat_name,"
                " chat_is_private, assignee_id, urgent, confidence, created_at, updated_at, agenda, rating)"
                " VALUES (8, 'accepted', 'drainage', '5号楼水管漏水', '5号楼', 'g2', 'room-2', '4-6号楼业主群', false,"
                " 'lijun', false, 0.8, :at, :at, true, null)"
            ),
            {"at": CREATED},
        )
    init_schema(engine)
    assert _revision(engine) == _head()
    _assert_matches_models(engine)
    with new_session(engine) as session:
        old, accepted = session.get(Ticket, 7), session.get(Ticket, 8)
    assert old is not None and old.description == "3号楼下水道堵了" and old.urgent
    assert accepted is not None
    assert (accepted.status, accepted.location, accepted.grid_id, accepted.assignee_id, accepted.agenda) == (
        "accepted", "5号楼", "g2", "lijun", True,
    )  # fmt: skip
    assert accepted.created_at == CREATED.replace(tzinfo=dt.UTC)
    assert (old.unit_id, old.dispatched_at, accepted.unit_id, accepted.dispatched_at) == (None, None, None, None)


def test_the_head_constant_names_the_newest_revision() -> None:
    """init_schema skips Alembic when the database is at HEAD_REVISION: it must be the real head."""
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def test_upgrading_from_0009_adds_unit_deadlines_and_the_source_and_keeps_the_tickets(engine: Engine) -> None:
    """0010_partners adds the unit's deadlines, `source` and `published_at`: a ledger made by 0009 keeps every
    ticket with every value, and its tickets count as residents' reports (`source` = resident)."""
    _pre_migration_database(engine)
    init_schema(engine)
    _migrate(engine, command.downgrade, "0009_units")
    assert _revision(engine) == "0009_units"
    assert "source" not in _columns(engine, "ticket")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO ticket (id, status, category, description, location, grid_id, chat_id, chat_name,"
                " chat_is_private, assignee_id, urgent, confidence, created_at, updated_at, agenda, rating, unit_id,"
                " dispatched_at)"
                " VALUES (9, 'accepted', 'drainage', '5号楼水管漏水', '5号楼', 'g2', 'room-2', '4-6号楼业主群', false,"
                " 'lijun', false, 0.8, :at, :at, false, null, 'wuye', :at)"
            ),
            {"at": CREATED},
        )
    init_schema(engine)
    assert _revision(engine) == _head()
    _assert_matches_models(engine)
    with new_session(engine) as session:
        old, dispatched = session.get(Ticket, 7), session.get(Ticket, 9)
    assert old is not None and old.description == "3号楼下水道堵了" and old.source == "resident"
    assert dispatched is not None
    assert (dispatched.unit_id, dispatched.dispatched_at) == ("wuye", CREATED.replace(tzinfo=dt.UTC))
    assert (dispatched.source, dispatched.published_at, dispatched.unit_response_due_at) == ("resident", None, None)


def test_upgrading_from_0010_adopts_the_single_community_ledger_as_the_configured_community(engine: Engine) -> None:
    """0011_communities: every row of a one-community ledger becomes the upgrading community's, nothing is lost,
    the directory keeps its rows keyed by community, and another community's session sees none of it."""
    _pre_migration_database(engine)
    init_schema(engine)
    _migrate(engine, command.downgrade, "0010_partners")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO ticket_event (ticket_id, at, actor_id, actor_name, action, to_status, changes, note)"
                " VALUES (7, :at, 'u1', '张三', 'create', 'open', '{}', '')"
            ),
            {"at": CREATED},
        )
        connection.execute(
            text("INSERT INTO job_run (job, period, due_at, ran_at, sent) VALUES ('digest', '2026-W47', :at, :at, 3)"),
            {"at": CREATED},
        )
        connection.execute(
            text(
                "INSERT INTO cadre (id, name, chat_id, role, grids) VALUES ('wangfang', '王芳', 'wx_wf', 'cadre', '[]')"
            )
        )
    init_schema(engine, "xingfuli")
    assert _revision(engine) == _head()
    _assert_matches_models(engine)
    with engine.connect() as connection:
        for table in ("ticket", "ticket_event", "job_run", "cadre"):
            found = connection.execute(text(f"SELECT community_id FROM {table}")).scalars().all()
            assert found == ["xingfuli"], table
    with new_session(engine, "xingfuli") as session:
        ticket, digest = session.get(Ticket, 7), session.exec(select(JobRun)).one()
        cadre = session.exec(select(CadreRecord)).one()
    assert ticket is not None and ticket.description == "3号楼下水道堵了" and ticket.urgent
    assert (digest.job, digest.period, digest.sent) == ("digest", "2026-W47", 3)
    assert (cadre.id, cadre.name, cadre.chat_id) == ("wangfang", "王芳", "wx_wf")
    with new_session(engine, "minzhu") as session:
        assert session.get(Ticket, 7) is None
        assert session.exec(select(JobRun)).all() == []
        session.add(JobRun(job="digest", period="2026-W47", due_at=AWARE, ran_at=AWARE))
        session.commit()  # the same occurrence of another community's digest is its own
    with new_session(engine) as session:
        assert {(r.community_id, r.period) for r in session.exec(select(JobRun))} == {
            ("xingfuli", "2026-W47"), ("minzhu", "2026-W47"),
        }  # fmt: skip


def test_a_ledger_of_several_communities_refuses_to_go_back_to_one(engine: Engine) -> None:
    init_schema(engine)
    for community in ("xingfuli", "minzhu"):
        with new_session(engine, community) as session:
            session.add(
                Ticket(status="open", category="x", description="d", chat_id="g", created_at=AWARE, updated_at=AWARE)
            )
            session.commit()
    with pytest.raises(RuntimeError, match="several communities"):
        _migrate(engine, command.downgrade, "0010_partners")
    # PostgreSQL undoes the whole downgrade; SQLite (no transactional DDL in Alembic) keeps the steps done before
    # the refusal: the revisions after 0011, which add an index and two nullable columns.
    assert _revision(engine) in {_head(), "0011_communities"}
    with new_session(engine) as session:
        assert {t.community_id for t in session.exec(select(Ticket))} == {"xingfuli", "minzhu"}


def test_upgrading_from_0012_links_no_old_attachment_and_keeps_the_messages_and_the_outbox(engine: Engine) -> None:
    """0013_forwarded_photos adds `inbound_message.ticket_id` and `outbox.forward_message_id`: a ledger made by 0012
    keeps every received message and queued reply, none linked to a ticket or forwarding anything, and the new
    columns take values afterwards."""
    init_schema(engine)
    _migrate(engine, command.downgrade, "0012_place_index")
    assert _revision(engine) == "0012_place_index"
    assert "ticket_id" not in _columns(engine, "inbound_message")
    assert "forward_message_id" not in _columns(engine, "outbox")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO inbound_message (message_id, chat_id, sender_id, kind, text, received_at)"
                " VALUES ('photo-1', 'room-1', 'wx_zhang', 'image', '', :at)"
            ),
            {"at": CREATED},
        )
        connection.execute(
            text(
                "INSERT INTO outbox (chat_id, chat_name, text, mention_ids, mention_names, is_private, ticket_id,"
                " created_at, attempts) VALUES ('room-1', '1-3号楼业主群', '收到', '[]', '[]', false, 7, :at, 0)"
            ),
            {"at": CREATED},
        )
    init_schema(engine)
    assert _revision(engine) == _head()
    _assert_matches_models(engine)
    with new_session(engine) as session:
        photo = session.get(InboundMessage, "photo-1")
        [reply] = session.exec(select(OutboxMessage)).all()
        assert photo is not None and (photo.kind, photo.received_at, photo.ticket_id) == ("image", AWARE, None)
        assert (reply.text, reply.ticket_id, reply.forward_message_id) == ("收到", 7, None)
        attach(session, ["photo-1"], 7)
        enqueue(session, Outgoing("room-1", "已过期", ticket_id=7, forward_message_id="photo-1"), now=AWARE)
        session.commit()
        assert attachments(session, 7, ["image"]) == ["photo-1"]
        assert [r.forward_message_id for r in session.exec(select(OutboxMessage).order_by(OutboxMessage.id))] == [
            None, "photo-1",
        ]  # fmt: skip
