"""The triage_item table: messages the classifier was unsure about, held for a cadre's 登记 or 忽略.

Revision ID: 0005_triage
Revises: 0004_outbox_delivery_state
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0005_triage"
down_revision: str | Sequence[str] | None = "0004_outbox_delivery_state"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "triage_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("chat_name", sa.String(length=128), nullable=False),
        sa.Column("chat_is_private", sa.Boolean(), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("sender_name", sa.String(length=128), nullable=False),
        sa.Column("intent", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("location", sa.String(length=128), nullable=True),
        sa.Column("grid_id", sa.String(length=64), nullable=True),
        sa.Column("asked_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("response_due_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("decided_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_triage_item_response_due_at", "triage_item", ["response_due_at"], unique=False)
    op.create_index("ix_triage_item_decision", "triage_item", ["decision"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_triage_item_decision", table_name="triage_item")
    op.drop_index("ix_triage_item_response_due_at", table_name="triage_item")
    op.drop_table("triage_item")
