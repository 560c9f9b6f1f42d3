"""Indexes for the board's queries: tickets ended since a day, deadlines in a period, ratings in a period.

Revision ID: 0006_board_indexes
Revises: 0005_triage
Create Date: 2026-11-30

The board, Open311 and the 台账 ask the database for what they show (storage/board_queries.py) instead of
reading the whole ledger; these are the access paths that were missing. Only indexes: no row changes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_board_indexes"
down_revision: str | Sequence[str] | None = "0005_triage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_ticket_resolved_at_resolution_due_at", "ticket", ["resolved_at", "resolution_due_at"]),
    ("ix_ticket_closed_at", "ticket", ["closed_at"]),
    ("ix_ticket_resolution_due_at", "ticket", ["resolution_due_at"]),
    ("ix_ticket_event_action_at", "ticket_event", ["action", "at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
