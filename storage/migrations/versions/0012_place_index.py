"""An index of a community's tickets by place: a report's candidates of another category at its place.

Revision ID: 0012_place_index
Revises: 0011_communities
Create Date: 2026-11-30

A report is compared with the open tickets of its category and with those of another category at exactly its
place (storage/tickets.py: `merge_candidates`). The two halves are read as a union, each through its own index;
this is the second half's. Only an index: no row changes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_place_index"
down_revision: str | Sequence[str] | None = "0011_communities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_ticket_community_location", "ticket", ["community_id", "location"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ticket_community_location", table_name="ticket")
