"""Ticket.agenda (立项) and the job_run table of scheduled jobs carried out.

Revision ID: 0002_agenda_job_run
Revises: 0001_initial
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0002_agenda_job_run"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing tickets need a value for the new NOT NULL column: the model's default, as a server default.
    with op.batch_alter_table("ticket") as batch_op:
        batch_op.add_column(sa.Column("agenda", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=160), nullable=False),
        sa.Column("due_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("ran_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("output", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job", "period"),
    )


def downgrade() -> None:
    op.drop_table("job_run")
    with op.batch_alter_table("ticket") as batch_op:
        batch_op.drop_column("agenda")
