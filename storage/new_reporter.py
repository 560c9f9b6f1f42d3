"""A neighbour joining a ticket, in one statement on PostgreSQL: the ticket's reporters counted, and the `join`
event and the new reporter written.

After opening tickets, joining them is the commonest write a busy group makes (a second resident reports the same
problem). Read and written one statement at a time, a join is four round trips to the server: the ticket, the
reporters' state, the event, the reporter. On PostgreSQL one statement reads the ticket's state and the reporters'
and, in data-modifying CTEs, writes the event and the reporter only when the member has no row among the ticket's
reporters yet and the ticket is still in the state the caller read it in (the event records that state; another
bot process may have changed it since). It returns both states either way, so a member who is a reporter already,
one who withdrew and comes back (rare, and kept on the ORM path that reactivates the row), and a ticket changed
meanwhile are handled by the caller (`storage.tickets`). SQLite, without data-modifying CTEs, reads the reporters'
state alone (`reporter_state`) and writes in turn.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, insert, select, true

from storage.db import in_community
from storage.models import Ticket, TicketEvent, TicketReporter
from storage.new_ticket import EVENT_COLUMNS, REPORTER_COLUMNS


def join_params(event: dict[str, Any], reporter: dict[str, Any]) -> dict[str, Any]:
    """`join_statement`'s parameters for `event` and `reporter` (rows of their tables, `ticket_id` included)."""
    params = {f"e_{name}": event[name] for name in EVENT_COLUMNS}
    params.update({f"r_{name}": reporter[name] for name in REPORTER_COLUMNS})
    return params | {"ticket_id": reporter["ticket_id"], "member_id": reporter["member_id"]}


@cache
def reporter_state(scoped: bool) -> Select:
    """Of ticket `:ticket_id`'s reporters (of community `:community_id` when `scoped`), in one row: how many are
    active, the row of member `:member_id` and whether it is active (a Core statement built once: every joining
    report runs it, on its own or in `join_statement`)."""
    table = TicketReporter.__table__
    mine = table.c.member_id == bindparam("member_id")
    query = select(
        func.sum(case((table.c.active, 1), else_=0)).label("active"),
        func.max(case((mine, table.c.id))).label("row_id"),
        func.max(case((and_(mine, table.c.active), 1), else_=0)).label("was_active"),
    ).where(table.c.ticket_id == bindparam("ticket_id"))
    return query.where(in_community(table)) if scoped else query


@cache
def join_statement(scoped: bool) -> Select:
    """Ticket `:ticket_id`'s status, category, place and assignee (none: no such ticket of the community), and its
    `reporter_state`; when member `:member_id` has no row among the reporters and the ticket's status is still the
    event's (`:e_to_status`), the `join` event (`e_<column>` parameters) and the reporter (`r_<column>`) written in
    the same statement."""
    table = Ticket.__table__
    target = select(table.c.status, table.c.category, table.c.location, table.c.assignee_id).where(
        table.c.id == bindparam("ticket_id")
    )
    target = (target.where(in_community(table)) if scoped else target).cte("target")
    state = reporter_state(scoped).cte("state")
    writes = and_(state.c.row_id.is_(None), target.c.status == bindparam("e_to_status"))
    event = _written(TicketEvent.__table__, EVENT_COLUMNS, "e_", state, target, writes).cte("join_event")
    reporter = _written(TicketReporter.__table__, REPORTER_COLUMNS, "r_", state, target, writes).cte("new_reporter")
    found = state.outerjoin(target, true())
    columns = (target.c.status, target.c.category, target.c.location, target.c.assignee_id)
    return select(state.c.active, state.c.row_id, state.c.was_active, *columns).select_from(found).add_cte(
        event, reporter
    )


def _written(table: Any, columns: tuple[str, ...], prefix: str, state: Any, target: Any, when: Any) -> Any:
    """An insert of one row of `table` for ticket `:ticket_id`, its `columns` from `<prefix><column>`, if `when`."""
    values = [bindparam("ticket_id", type_=table.c.ticket_id.type)]
    values += [bindparam(f"{prefix}{name}", type_=table.c[name].type) for name in columns]
    row = select(*values).select_from(state.join(target, true())).where(when)
    return insert(table).from_select(["ticket_id", *columns], row)
