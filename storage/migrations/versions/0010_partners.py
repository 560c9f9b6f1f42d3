"""Partner units' own time limits, and patrol findings (主动发现).

Revision ID: 0010_partners
Revises: 0009_units
Create Date: 2026-12-05

On `ticket`: the unit's first-response and resolution deadlines and its first answer (nullable: no existing
ticket was dispatched with them), `source` (every existing ticket was reported by a resident: server default
`resident`) and `published_at` for a patrol finding made public (nullable).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0010_partners"
down_revision: str | Sequence[str] | None = "0009_units"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket") as batch_op:
        batch_op.add_column(sa.Column("unit_response_due_at", storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("unit_resolution_due_at", storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("unit_first_response_at", storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="resident")
        )
        batch_op.add_column(sa.Column("published_at", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ticket") as batch_op:
        batch_op.drop_column("published_at")
        batch_op.drop_column("source")
        batch_op.drop_column("unit_first_response_at")
        batch_op.drop_column("unit_resolution_due_at")
        batch_op.drop_column("unit_response_due_at")
