"""Notices and known incidents (`通知` / `恢复` / `关联`): the incident, its reporters and its events.

Revision ID: 0008_incidents
Revises: 0007_multiprocess
Create Date: 2026-12-03

A cadre announces a known incident (a water cut for 3号楼); residents who report it while it lasts join it
instead of opening tickets, and are told when it ends. Only new tables: no row changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008_incidents"
down_revision: str | Sequence[str] | None = "0007_multiprocess"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope_kind", sa.String(length=16), nullable=False),
        sa.Column("scope_value", sa.String(length=128), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("starts_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("expected_end_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("ended_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("author_id", sa.String(length=128), nullable=False),
        sa.Column("author_name", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incident_status", "incident", ["status"], unique=False)
    op.create_table(
        "incident_reporter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("member_name", sa.String(length=128), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("chat_name", sa.String(length=128), nullable=False),
        sa.Column("joined_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "member_id"),
    )
    op.create_index("ix_incident_reporter_incident_id", "incident_reporter", ["incident_id"], unique=False)
    op.create_index("ix_incident_reporter_member_id", "incident_reporter", ["member_id"], unique=False)
    op.create_table(
        "incident_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.String(length=128), nullable=False),
        sa.Column("actor_name", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incident_event_incident_id", "incident_event", ["incident_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_incident_event_incident_id", table_name="incident_event")
    op.drop_table("incident_event")
    op.drop_index("ix_incident_reporter_member_id", table_name="incident_reporter")
    op.drop_index("ix_incident_reporter_incident_id", table_name="incident_reporter")
    op.drop_table("incident_reporter")
    op.drop_index("ix_incident_status", table_name="incident")
    op.drop_table("incident")
