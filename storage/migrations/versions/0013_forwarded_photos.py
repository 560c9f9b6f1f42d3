"""Residents' photos go to the partner unit with a dispatch: which ticket an attachment belongs to, and forwards.

Revision ID: 0013_forwarded_photos
Revises: 0012_place_index
Create Date: 2026-11-30

On `inbound_message`: `ticket_id`, the ticket a photo (voice note, file, link) was attached to, indexed for the
dispatch that forwards a ticket's photos (nullable: messages recorded before kept no link, so photos attached before
the upgrade are not forwarded). On `outbox`: `forward_message_id`, a row that forwards a received message instead of
sending its text (nullable: every row already queued is a text).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_forwarded_photos"
down_revision: str | Sequence[str] | None = "0012_place_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_inbound_message_ticket_id"


def upgrade() -> None:
    with op.batch_alter_table("inbound_message") as batch_op:
        batch_op.add_column(sa.Column("ticket_id", sa.Integer(), nullable=True))
        batch_op.create_index(INDEX, ["ticket_id"], unique=False)
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("forward_message_id", sa.String(length=191), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("forward_message_id")
    with op.batch_alter_table("inbound_message") as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.drop_column("ticket_id")
