"""The ledger as `SQLModel.metadata.create_all` made it before there were migrations.

Frozen history: a database from that time is stamped at this revision rather than run through it
(storage.schema), so this must stay exactly what create_all made then — constraints unnamed, as they were.
Later model changes go in later revisions.

Revision ID: 0001_initial
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("first_seen_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "cadre",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("grids", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chat_id"),
    )
    op.create_table(
        "grid",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("buildings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "chat_group",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("grids", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("location", sa.String(length=128), nullable=True),
        sa.Column("grid_id", sa.String(length=64), nullable=True),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("chat_name", sa.String(length=128), nullable=False),
        sa.Column("chat_is_private", sa.Boolean(), nullable=False),
        sa.Column("assignee_id", sa.String(length=64), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("first_response_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("resolved_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("response_due_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("resolution_due_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("commitment_date", sa.Date(), nullable=True),
        sa.Column("rating", sa.String(length=16), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_status", "ticket", ["status"])
    op.create_index("ix_ticket_category", "ticket", ["category"])
    op.create_index("ix_ticket_assignee_id", "ticket", ["assignee_id"])
    op.create_index("ix_ticket_created_at", "ticket", ["created_at"])
    op.create_table(
        "ticket_reporter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=128), nullable=False),
        sa.Column("member_name", sa.String(length=128), nullable=False),
        sa.Column("joined_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "member_id"),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
    )
    op.create_index("ix_ticket_reporter_ticket_id", "ticket_reporter", ["ticket_id"])
    op.create_index("ix_ticket_reporter_member_id", "ticket_reporter", ["member_id"])
    op.create_table(
        "ticket_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.String(length=128), nullable=False),
        sa.Column("actor_name", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
    )
    op.create_index("ix_ticket_event_ticket_id", "ticket_event", ["ticket_id"])
    op.create_table(
        "inbound_message",
        sa.Column("message_id", sa.String(length=191), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("chat_name", sa.String(length=128), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("mention_ids", sa.JSON(), nullable=False),
        sa.Column("is_private", sa.Boolean(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbox_ticket_id", "outbox", ["ticket_id"])
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"])
    op.create_table(
        "rota_swap",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("cadre_id", sa.String(length=64), nullable=False),
        sa.Column("replacement_id", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; ticket_event and ticket_reporter go before the ticket they point at.
    for table in ("ticket_event", "ticket_reporter", "ticket", "rota_swap", "outbox", "inbound_message"):
        op.drop_table(table)
    for table in ("chat_group", "grid", "cadre", "member"):
        op.drop_table(table)
