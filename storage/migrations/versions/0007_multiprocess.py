"""Several bot processes on one ledger: the duplicate check on inbound messages keyed in the database.

Revision ID: 0007_multiprocess
Revises: 0006_board_indexes
Create Date: 2026-12-02

Two bot accounts in one group each receive a resident's message, under different ids. `inbound_fingerprint`
keeps the last time each (chat, sender, text) came in; its primary key makes the second process wait for the
first one's transaction and then find the row, so the message is handled once (storage/messages.repeat_of).
Only a new table: no row changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007_multiprocess"
down_revision: str | Sequence[str] | None = "0006_board_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_fingerprint",
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=191), nullable=False),
        sa.Column("seen_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "sender_id", "text_hash"),
    )


def downgrade() -> None:
    op.drop_table("inbound_fingerprint")
