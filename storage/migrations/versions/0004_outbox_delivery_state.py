"""Outbox delivery state: attempts, sending (claimed_at), retry back-off, failed rows and mention names.

Revision ID: 0004_outbox_delivery_state
Revises: 0003_inbound_duplicate_index
Create Date: 2026-11-29

Rows already in the outbox get no attempts, no mention names (their text's @-prefix is then split on spaces,
as before) and stay waiting or sent as they were.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0004_outbox_delivery_state"
down_revision: str | Sequence[str] | None = "0003_inbound_duplicate_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_outbox_failed_at"


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("mention_names", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch_op.add_column(sa.Column("claimed_at", storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("retry_at", storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("failed_at", storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.String(length=500), nullable=True))
        batch_op.create_index(INDEX, ["failed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_index(INDEX)
        for column in ("last_error", "failed_at", "retry_at", "claimed_at", "attempts", "mention_names"):
            batch_op.drop_column(column)
