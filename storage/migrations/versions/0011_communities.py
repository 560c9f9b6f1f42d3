"""Several communities in one ledger (a 街道): `community_id` on every table that belongs to one community.

Revision ID: 0011_communities
Revises: 0010_partners
Create Date: 2026-12-06

The ledger being upgraded held one community: every existing row is adopted as that community, the one the
upgrading process runs for (`storage.schema.init_schema(engine, community_id)`; `main` when none is given),
through the new columns' server default. The configured directory (cadre, grid, chat_group) is a mirror of the
config files, rewritten at every start: those three tables are recreated keyed by (community_id, id), their rows
copied; a cadre's chat id is no longer unique (the 街道's staff may also be a community's). `job_run`'s key
becomes (community_id, job, period). Also `ticket.merge_features`: what merging compares, stored with the
ticket (NULL for existing tickets, which are read from their text); `member.community_id`, the community a
resident last wrote in (NULL until they write again).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0011_communities"
down_revision: str | Sequence[str] | None = "0010_partners"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID_LENGTH = 64
SCOPED_TABLES = (
    ("ticket", False),
    ("ticket_reporter", False),
    ("ticket_event", False),
    ("triage_item", True),
    ("rota_swap", True),
    ("job_run", False),
    ("incident", True),
    ("incident_reporter", False),
    ("incident_event", False),
)
DIRECTORY_KEYS = {"cadre": "id", "grid": "id", "chat_group": "name"}


def _adopted_community() -> str:
    return context.config.attributes.get("community_id") or "main"


def upgrade() -> None:
    community = _adopted_community()
    for table, indexed in SCOPED_TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(
                sa.Column("community_id", sa.String(length=ID_LENGTH), nullable=False, server_default=community)
            )
        if indexed:
            op.create_index(f"ix_{table}_community_id", table, ["community_id"], unique=False)
    op.create_index("ix_ticket_community_status", "ticket", ["community_id", "status"], unique=False)
    op.create_index("ix_ticket_community_created_at", "ticket", ["community_id", "created_at"], unique=False)
    op.create_index(
        "ix_ticket_merge_candidates", "ticket", ["community_id", "category", "status", "created_at"], unique=False
    )
    with op.batch_alter_table("ticket") as batch_op:
        batch_op.add_column(sa.Column("merge_features", sa.String(), nullable=True))
    with op.batch_alter_table("member") as batch_op:
        batch_op.add_column(sa.Column("community_id", sa.String(length=ID_LENGTH), nullable=True))
    _replace_unique("job_run", ["job", "period"], ["community_id", "job", "period"])
    _replace_unique("cadre", ["chat_id"], None)
    for table, key in DIRECTORY_KEYS.items():
        _key_by_community(table, key, community)


def _replace_unique(table: str, old: list[str], new: list[str] | None) -> None:
    """Drop the unnamed unique constraint on `old` (PostgreSQL named it; SQLite's gets the batch convention's
    name) and create one on `new`."""
    found = sa.inspect(op.get_bind()).get_unique_constraints(table)
    name = next((c["name"] for c in found if c["column_names"] == old and c["name"]), None)
    convention = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}
    with op.batch_alter_table(table, naming_convention=convention) as batch_op:
        batch_op.drop_constraint(name or f"uq_{table}_{'_'.join(old)}", type_="unique")
        if new:
            batch_op.create_unique_constraint(f"uq_{table}_{'_'.join(new)}", new)


def _key_by_community(table: str, key: str, community: str) -> None:
    """Give a directory table a `community_id` and (community_id, key) as its primary key, keeping its rows:
    a new table, the rows copied, the old one dropped and the new one renamed."""
    old = sa.Table(table, sa.MetaData(), autoload_with=op.get_bind())
    columns = [sa.Column("community_id", sa.String(length=ID_LENGTH), nullable=False, server_default=community)]
    columns += [sa.Column(c.name, c.type, nullable=c.nullable) for c in old.columns]
    op.create_table(f"{table}_new", *columns, sa.PrimaryKeyConstraint("community_id", key))
    names = ", ".join(c.name for c in old.columns)
    op.execute(f"INSERT INTO {table}_new ({names}) SELECT {names} FROM {table}")
    op.drop_table(table)
    op.rename_table(f"{table}_new", table)


def downgrade() -> None:
    """Back to one community: refused when the ledger holds several (they cannot be told apart afterwards)."""
    counted = op.get_bind().execute(sa.text("SELECT COUNT(DISTINCT community_id) FROM ticket")).scalar()
    if counted and counted > 1:
        raise RuntimeError("the ledger holds several communities; it cannot go back to a revision of one")
    for table, key in DIRECTORY_KEYS.items():
        _key_without_community(table, key)
    _replace_unique("job_run", ["community_id", "job", "period"], ["job", "period"])
    with op.batch_alter_table("member") as batch_op:
        batch_op.drop_column("community_id")
    op.drop_index("ix_ticket_merge_candidates", table_name="ticket")
    op.drop_index("ix_ticket_community_created_at", table_name="ticket")
    op.drop_index("ix_ticket_community_status", table_name="ticket")
    with op.batch_alter_table("ticket") as batch_op:
        batch_op.drop_column("merge_features")
    for table, indexed in reversed(SCOPED_TABLES):
        if indexed:
            op.drop_index(f"ix_{table}_community_id", table_name=table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("community_id")


def _key_without_community(table: str, key: str) -> None:
    old = sa.Table(table, sa.MetaData(), autoload_with=op.get_bind())
    kept = [c for c in old.columns if c.name != "community_id"]
    constraints: list[sa.Constraint] = [sa.PrimaryKeyConstraint(key)]
    if table == "cadre":
        constraints.append(sa.UniqueConstraint("chat_id"))
    op.create_table(f"{table}_old", *(sa.Column(c.name, c.type, nullable=c.nullable) for c in kept), *constraints)
    names = ", ".join(c.name for c in kept)
    op.execute(f"INSERT INTO {table}_old ({names}) SELECT {names} FROM {table}")
    op.drop_table(table)
    op.rename_table(f"{table}_old", table)
