"""How long the values that config.yaml gives the ledger may be: the widths of its columns.

`storage/models.py` declares its columns with these, and `settings/models.py` validates with them, so a
name too long for PostgreSQL is a line-numbered config error instead of a database error at start-up;
`ledger.messages.sanitised` clips what a transport hands in to them.
"""

ID_LENGTH = 64  # grid, cadre and category ids
NAME_LENGTH = 64  # cadre and grid names
CHAT_ID_LENGTH = 128  # WeChat contact and room ids, group names
MESSAGE_ID_LENGTH = 191  # a platform's message id
# A display name as a message carries it: shorter than its column, as it is repeated in every @-mention.
DISPLAY_NAME_LENGTH = 64
# The community a config file without `community.id` is, and the one an Alembic revision adopts a ledger made
# before there were several communities as (storage/migrations/versions/0011_communities.py).
DEFAULT_COMMUNITY_ID = "main"
