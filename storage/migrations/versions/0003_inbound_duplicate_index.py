"""Index for the same-text duplicate check on inbound messages (one sender's recent messages in one chat).

Revision ID: 0003_inbound_duplicate_index
Revises: 0002_agenda_job_run
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_inbound_duplicate_index"
down_revision: str | Sequence[str] | None = "0002_agenda_job_run"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_inbound_message_sender_chat_received"


def upgrade() -> None:
    with op.batch_alter_table("inbound_message") as batch_op:
        batch_op.create_index(INDEX, ["sender_id", "chat_id", "received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbound_message") as batch_op:
        batch_op.drop_index(INDEX)
