"""Writing a new ticket with its first events and reporter: in one statement on PostgreSQL, in three on SQLite.

Every report that is not a duplicate opens a ticket, so this is the costliest write a busy group makes. The
events and the reporter need the ticket's number, which the database assigns. On PostgreSQL one statement inserts
the ticket and, in data-modifying CTEs reading its `RETURNING id`, its events and its reporter: one round trip to
the server instead of three. SQLite has no data-modifying CTEs; there the three inserts run in turn, each a call
into the same process.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Insert, Select, Table, bindparam, insert, select, union_all

from storage.models import Ticket, TicketEvent, TicketReporter

TICKET_COLUMNS = tuple(column.name for column in Ticket.__table__.columns if column.name != "id")


def write_new_ticket(
    connection: Connection, ticket: dict[str, Any], events: Sequence[dict[str, Any]], reporter: dict[str, Any]
) -> int:
    """Insert `ticket` (a value for each of `TICKET_COLUMNS`), then `events` and `reporter` (rows of their tables
    without `ticket_id`) for it, in `connection`'s transaction; the new ticket's number."""
    if connection.dialect.name == "postgresql":
        given = tuple(name for name in TICKET_COLUMNS if ticket[name] is not None)  # the others are NULL
        params = {f"t_{name}": ticket[name] for name in given}
        for index, event in enumerate(events):
            params.update({f"e{index}_{name}": event[name] for name in EVENT_COLUMNS})
        params.update({f"r_{name}": reporter[name] for name in REPORTER_COLUMNS})
        return connection.execute(_all_in_one(given, len(events)), params).scalar_one()
    number = connection.execute(insert_ticket(), {name: ticket[name] for name in TICKET_COLUMNS}).scalar_one()
    connection.execute(insert_event(), [{**event, "ticket_id": number} for event in events])
    connection.execute(insert_reporter(), {**reporter, "ticket_id": number})
    return number


@cache
def insert_ticket() -> Insert:
    table = Ticket.__table__
    return insert(table).returning(table.c.id)


@cache
def insert_event() -> Insert:
    return insert(TicketEvent.__table__)


@cache
def insert_reporter() -> Insert:
    return insert(TicketReporter.__table__)


def _without_ticket(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.columns if column.name not in ("id", "ticket_id"))


EVENT_COLUMNS = _without_ticket(TicketEvent.__table__)
REPORTER_COLUMNS = _without_ticket(TicketReporter.__table__)


@cache
def _all_in_one(given: tuple[str, ...], events: int) -> Select:
    """PostgreSQL's statement for a ticket with values in the columns `given` (NULL in the others) and `events`
    events, built once for each kind: parameters `t_<column>` of the ticket, `e<i>_<column>` of event i,
    `r_<column>` of the reporter.

    Only the given columns are parameters, which keeps a report's under psycopg's 50 (`MAX_CACHED_STATEMENT_PARAMS`):
    a statement with more has its placeholders parsed again at every execution."""
    ticket, event, reporter = Ticket.__table__, TicketEvent.__table__, TicketReporter.__table__
    values = {name: bindparam(f"t_{name}", type_=ticket.c[name].type) for name in given}
    new = insert(ticket).values(values).returning(ticket.c.id).cte("new_ticket")
    rows = [_row_of(new, event, EVENT_COLUMNS, f"e{index}_") for index in range(events)]
    every_event = rows[0] if len(rows) == 1 else union_all(*rows)
    events_written = insert(event).from_select(["ticket_id", *EVENT_COLUMNS], every_event).cte("new_events")
    reporter_row = _row_of(new, reporter, REPORTER_COLUMNS, "r_")
    reporter_written = insert(reporter).from_select(["ticket_id", *REPORTER_COLUMNS], reporter_row).cte("new_reporter")
    return select(new.c.id).add_cte(events_written, reporter_written)


def _row_of(new: Any, table: Table, columns: tuple[str, ...], prefix: str) -> Select:
    """A row of `table` for the ticket `new` returns, its other columns from the parameters `<prefix><column>`."""
    return select(new.c.id, *(bindparam(f"{prefix}{name}", type_=table.c[name].type) for name in columns))
