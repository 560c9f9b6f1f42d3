"""Partner units (派单): the unit a ticket was dispatched to and when.

Revision ID: 0009_units
Revises: 0008_incidents
Create Date: 2026-12-04

Two nullable columns on `ticket`: existing tickets were dispatched to nobody, so no row changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0009_units"
down_revision: str | Sequence[str] | None = "0008_incidents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket") as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("dispatched_at", storage.types.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_ticket_unit_id", ["unit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket") as batch_op:
        batch_op.drop_index("ix_ticket_unit_id")
        batch_op.drop_column("dispatched_at")
        batch_op.drop_column("unit_id")
