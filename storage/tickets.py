"""Opening and changing tickets. `apply_action` is the only code that changes a ticket's fields.

It checks the transition table, records a `TicketEvent` carrying the exact values it set, and sets
them. `rebuild_ticket` folds those events back into a ticket, which proves the audit trail complete.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Row,
    RowMapping,
    Select,
    String,
    Update,
    bindparam,
    case,
    func,
    inspect,
    literal,
    or_,
    union_all,
    update,
)
from sqlalchemy.event import listens_for
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import SessionTransaction, configure_mappers, make_transient_to_detached
from sqlalchemy.orm.attributes import flag_modified, instance_dict, set_committed_value
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from ledger.lifecycle import CADRE_RESPONSES, CLOSED_STATES, OPEN_STATES, Action, IllegalTransition, Status, next_status
from ledger.rates import TicketFacts
from nlp.similarity import FEATURES_PREFIX, ReportFacts, facts, merge_features, needles
from storage.db import COMMUNITY, community_params, core_connection, in_community, session_community
from storage.models import Ticket, TicketEvent, TicketReporter, column_defaults
from storage.new_reporter import join_params, join_statement, reporter_state
from storage.new_ticket import insert_event, insert_reporter, write_new_ticket

_DATETIME_FIELDS = frozenset(
    {
        "created_at", "first_response_at", "resolved_at", "closed_at", "response_due_at", "resolution_due_at",
        "dispatched_at", "unit_response_due_at", "unit_resolution_due_at", "unit_first_response_at", "published_at",
    }
)
_DATE_FIELDS = frozenset({"commitment_date"})
LEDGER_FIELDS = (
    "status", "category", "description", "location", "grid_id", "chat_id", "chat_name", "chat_is_private",
    "assignee_id", "urgent", "confidence", "created_at", "first_response_at", "resolved_at", "closed_at",
    "response_due_at",
    "resolution_due_at", "commitment_date", "rating", "agenda", "unit_id", "dispatched_at",
    "unit_response_due_at", "unit_resolution_due_at", "unit_first_response_at", "source", "published_at",
)  # fmt: skip


@dataclass(frozen=True)
class Actor:
    id: str
    name: str


BOT = Actor("huiyin", "回音")


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _decode(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field in _DATETIME_FIELDS:
        return dt.datetime.fromisoformat(value)
    if field in _DATE_FIELDS:
        return dt.date.fromisoformat(value)
    return value


def _record(
    session: Session, ticket: Ticket, action: Action, actor: Actor, now: dt.datetime, changes: dict[str, Any],
    note: str, from_status: str | None, features: ReportFacts | None = None,
) -> None:
    """Set `changes` on `ticket` and write the event saying so. A new ticket is inserted at once (the event needs
    its number); a change to one already in the ledger is written at the next flush.

    The event is a Core insert on the session's connection (in its transaction), not an ORM object: events are only
    ever read back by queries, and every report writes one or two (an ORM object and its flush cost several times
    the insert)."""
    _change(ticket, changes, now, features)
    session.add(ticket)
    if ticket.id is None:
        session.flush()
    event = _event(session, ticket, action, actor, now, changes, note, from_status)
    session.connection().execute(insert_event(), event)


def _change(ticket: Ticket, changes: dict[str, Any], now: dt.datetime, features: ReportFacts | None) -> None:
    """Set `changes` on `ticket`. A new or changed description also (re)writes the ticket's `merge_features`
    (`features`: the description's facts when the caller has read them already), so duplicate detection never
    segments a stored ticket's text.

    The row is written even when no value differs (a 承诺 renewed for the same day at the instant of the last
    change): every action's event then comes with a new version of the row, which the SLA check relies on
    (`storage.job_queries.OpenViews`)."""
    for field, value in changes.items():
        setattr(ticket, field, value)
    ticket.updated_at = now
    flag_modified(ticket, "updated_at")
    if "description" in changes:
        read = features if features is not None else facts(ticket.description, ticket.category, ticket.location)
        ticket.merge_features = merge_features(read)


def _event(
    session: Session, ticket: Ticket, action: Action, actor: Actor, now: dt.datetime, changes: dict[str, Any],
    note: str, from_status: str | None, to_status: str | None = None,
) -> dict[str, Any]:
    """The event row of `action` on `ticket` (to the ticket's status unless `to_status` says otherwise)."""
    community = _community_of(session, ticket)
    row = _event_row(community, action, actor, now, changes, note, from_status, to_status or ticket.status)
    return {**row, "ticket_id": ticket.id}


def _event_row(
    community: str, action: Action, actor: Actor, now: dt.datetime, changes: dict[str, Any], note: str,
    from_status: str | None, to_status: str,
) -> dict[str, Any]:
    """An event row of a community's ticket, but for the ticket's number."""
    return {
        "community_id": community, "at": now, "actor_id": actor.id, "actor_name": actor.name, "action": action.value,
        "from_status": from_status, "to_status": to_status,
        "changes": {field: _encode(value) for field, value in changes.items()}, "note": note,
    }  # fmt: skip


def _community_of(session: Session, ticket: Ticket) -> str:
    """The community of a row written for `ticket` through Core: the session's (as `storage.db` gives every row a
    community's session adds), else the ticket's."""
    return session_community(session) or ticket.community_id


def open_ticket(
    session: Session, *, now: dt.datetime, reporter: Actor, fields: dict[str, Any], note: str = "",
    assignee_id: str | None = None, features: ReportFacts | None = None,
) -> Ticket:
    """Create a ticket in state `new` with `reporter` as its first reporter; with `assignee_id`, the bot assigns it
    at once (an `assign` event), as every report and opened triage item is. `features`: the facts of
    `fields["description"]` (`nlp.similarity.facts`) when the caller has them, else they are read here.

    Every report opens one, so it costs as few statements as it can: the row is worked out as it stands after both
    steps and written with its events and reporter by `storage.new_ticket` (one statement on PostgreSQL), and the
    object then joins the session as a row already there (`_as_loaded`)."""
    created = {"status": Status.NEW.value, "created_at": now, "source": "resident", **fields}
    row = {**_TICKET_DEFAULTS, **created, "updated_at": now}
    read = features if features is not None else facts(row["description"], row["category"], row["location"])
    row["merge_features"] = merge_features(read)
    row["community_id"] = session_community(session) or row["community_id"]
    steps = [(Action.CREATE, reporter, created, note, None, row["status"])]
    if assignee_id is not None:
        changes = {"assignee_id": assignee_id}
        assigned = _transition(row["status"], row["first_response_at"], Action.ASSIGN, now, changes, responding=False)
        from_status = row["status"]
        row.update(assigned)
        steps.append((Action.ASSIGN, BOT, assigned, "", from_status, row["status"]))
    community = row["community_id"]
    events = [_event_row(community, action, actor, now, *step) for action, actor, *step in steps]
    row["id"] = write_new_ticket(core_connection(session), row, events, _reporter_row(community, reporter, now))
    ticket = _as_loaded(row)
    session.add(ticket)
    return ticket


_TICKET_DEFAULTS: dict[str, Any] = {**column_defaults(Ticket), "description": "", "category": "", "chat_id": ""}
"""A new ticket's columns before its fields are set: the model's defaults."""


def _as_loaded(row: dict[str, Any]) -> Ticket:
    """The object of a ticket `row` just written or read through Core, as a query would load it: a row of the
    ledger with nothing to flush. Built without `Ticket(...)`, which sets each of its fields through both SQLModel's
    and SQLAlchemy's instrumentation, at several times the cost of writing the row. (Mappers are configured first,
    as the constructor and every query do.) The values go straight into the new object's state, as
    `set_committed_value` would put them one by one: a fresh state has no history, expired attribute or loader to
    clear."""
    configure_mappers()
    ticket = inspect(Ticket).class_manager.new_instance()
    instance_dict(ticket).update(row)
    make_transient_to_detached(ticket)
    return ticket


def apply_action(
    session: Session,
    ticket: Ticket,
    action: Action,
    *,
    actor: Actor,
    now: dt.datetime,
    note: str = "",
    changes: dict[str, Any] | None = None,
    responding: bool = False,
) -> None:
    """Move `ticket` by `action` (IllegalTransition if the table forbids it) and set `changes` with it.

    `responding` marks an action taken by a cadre, which stamps the first public response once.
    """
    all_changes = _transition(
        ticket.status, ticket.first_response_at, action, now, changes or {}, responding=responding
    )
    if all_changes:
        _record(session, ticket, action, actor, now, all_changes, note, ticket.status)
        return
    _touch_at_commit(session, ticket.id, now)
    event = _event(session, ticket, action, actor, now, all_changes, note, ticket.status)
    core_connection(session).execute(insert_event(), event)


_TOUCHED = "huiyin_touched_tickets"
"""`Session.info` key: {ticket id: time of its last change} of tickets whose row an action changed only in time."""


def _touch_at_commit(session: Session, number: int, now: dt.datetime) -> None:
    """Ticket `number` changed at `now` in nothing but its time (a co-reporter joined, a note was added): its row's
    `updated_at` is written when the transaction commits, with the other tickets touched so, in number order; the
    session's object of it, when it holds one or loads one before then, shows that time at once (`_touched_time`).

    A join is the commonest change a busy group makes, and it would lock the ticket's row from the join to the
    commit: two bot processes handling batches of messages (`bot.app.Huiyin.handle_batch`) that join the same
    tickets in different orders would wait for each other, or deadlock. Written last and in order, the rows are
    locked for the commit only, and always in the same order."""
    touched = session.info.setdefault(_TOUCHED, {})
    touched[number] = max(now, touched.get(number, now))
    present = session.identity_map.get(_identity(number))
    if present is not None:
        set_committed_value(present, "updated_at", touched[number])


def _touched_time(session: Session, ticket: Ticket) -> None:
    """Give `ticket`, just loaded in `session`, the time its row gets at commit when an action touched it
    (`_touch_at_commit`) before the session held it."""
    at = session.info.get(_TOUCHED, {}).get(ticket.id)
    if at is not None:
        set_committed_value(ticket, "updated_at", at)


@listens_for(Ticket, "load")
def _loaded(ticket: Ticket, context: Any) -> None:
    _touched_time(context.session, ticket)


@listens_for(Session, "before_commit")
def _write_touched(session: Session) -> None:
    touched = session.info.pop(_TOUCHED, None)
    if not touched:
        return
    community = session_community(session)
    rows = [{"ticket_id": number, "at": at, "community": community} for number, at in sorted(touched.items())]
    session.connection().execute(_touch(community is not None), rows)


@listens_for(Session, "after_transaction_end")
def _forget_touched(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_TOUCHED, None)


@cache
def _touch(scoped: bool) -> Update:
    """`updated_at` set to the touch's time unless a later change wrote a later one in the same transaction (the
    community's parameter is not `in_community`'s: an UPDATE keeps a column's name for its SET clause)."""
    table = Ticket.__table__
    at = bindparam("at", type_=table.c.updated_at.type)
    query = (
        update(table)
        .where(table.c.id == bindparam("ticket_id"))
        .values(updated_at=case((table.c.updated_at < at, at), else_=table.c.updated_at))
    )
    return query.where(table.c.community_id == bindparam("community")) if scoped else query


def _transition(
    status: str, first_response_at: dt.datetime | None, action: Action, now: dt.datetime, changes: dict[str, Any],
    *, responding: bool,
) -> dict[str, Any]:
    """`changes` with what `action` does to a ticket in `status` (first answered at `first_response_at`) and to its
    timestamps (IllegalTransition if forbidden)."""
    target = next_status(action, Status(status))
    all_changes: dict[str, Any] = dict(changes)
    if target != status:  # updates (rate, follow-up, …) keep the state and its timestamps
        all_changes["status"] = target.value
        if target is Status.RESOLVED:
            all_changes["resolved_at"] = now
        if target in CLOSED_STATES:
            all_changes["closed_at"] = now
        if target is Status.REOPENED:
            all_changes.update(resolved_at=None, closed_at=None, rating=None)
    if responding and action in CADRE_RESPONSES and first_response_at is None:
        all_changes["first_response_at"] = now
    return all_changes


def add_reporter(
    session: Session, ticket: Ticket, reporter: Actor, *, now: dt.datetime, record_event: bool = True, note: str = ""
) -> bool:
    """Add a co-reporter (or re-activate one who withdrew). False if already an active reporter.

    `note` is kept on the `join` event: the co-reporter's own words, which the cadre (`查`) and, masked, the
    ticket's public page show."""
    return _add_reporter(session, ticket, reporter, now, record_event, note) is not None


def join_ticket(session: Session, ticket: Ticket, reporter: Actor, *, now: dt.datetime, note: str = "") -> int | None:
    """`add_reporter` with its `join` event: how many active reporters the ticket has now (what the reply tells
    the neighbour), or None when `reporter` already was one."""
    return _add_reporter(session, ticket, reporter, now, True, note)


def _add_reporter(
    session: Session, ticket: Ticket, reporter: Actor, now: dt.datetime, record_event: bool, note: str
) -> int | None:
    connection = core_connection(session)
    scope = community_params(session)
    if record_event and connection.dialect.name == "postgresql" and _keeps_state(ticket.status, Action.JOIN):
        community = _community_of(session, ticket)
        found = _join_at_once(connection, scope, community, ticket.id, ticket.status, reporter, now, note)
        if _wrote(found, ticket.status):
            _touch_at_commit(session, ticket.id, now)
            return (found.active or 0) + 1
        active, row_id, was_active = found.active, found.row_id, found.was_active
    else:
        params = {"ticket_id": ticket.id, "member_id": reporter.id, **scope}
        active, row_id, was_active = connection.execute(reporter_state(bool(scope)), params).one()
    if was_active:
        return None
    if record_event:
        apply_action(session, ticket, Action.JOIN, actor=reporter, now=now, note=note)
    if row_id is None:
        _insert_reporter(session, ticket, reporter, now)
    else:
        withdrew = session.exec(select(TicketReporter).where(TicketReporter.id == row_id)).one()
        withdrew.active = True
        session.add(withdrew)
    return (active or 0) + 1


class Joined(NamedTuple):
    """A report joined to an open ticket (`join_found`): the ticket as the join left it, in what its reply tells,
    and how many active reporters it has now (None: the reporter already was one)."""

    id: int
    status: str
    category: str
    location: str | None
    assignee_id: str | None
    reporters: int | None


def join_found(
    session: Session, number: int, status: str, reporter: Actor, *, now: dt.datetime, note: str = ""
) -> Joined | None:
    """`join_ticket` of ticket `number`, found open in `status` by a candidate query (`merge_candidates`); None when
    it is no longer open (another bot process closed it since): the report is then a ticket of its own.

    A report that duplicates a ticket needs nothing of it but what the join returns: on PostgreSQL, in a community's
    session that does not hold the ticket already, the join is one statement (`storage.new_reporter`), without
    reading the ticket first. Every other case (SQLite, a reporter who withdrew and comes back, a ticket changed
    since the candidates were read) reads the ticket and joins it as `join_ticket` does."""
    connection = core_connection(session)
    scope = community_params(session)
    held = session.identity_map.get(_identity(number)) is not None
    if scope and not held and connection.dialect.name == "postgresql" and _keeps_state(status, Action.JOIN):
        found = _join_at_once(connection, scope, scope[COMMUNITY], number, status, reporter, now, note)
        if found.status == status and (found.row_id is None or found.was_active):
            count = None  # a reporter already: nothing written
            if found.row_id is None:  # a newcomer: the statement wrote the event and the reporter
                _touch_at_commit(session, number, now)
                count = (found.active or 0) + 1
            return Joined(number, found.status, found.category, found.location, found.assignee_id, count)
    ticket = get_ticket(session, number)
    if ticket is None:
        return None
    try:
        count = join_ticket(session, ticket, reporter, now=now, note=note)
    except IllegalTransition:
        return None
    return Joined(ticket.id, ticket.status, ticket.category, ticket.location, ticket.assignee_id, count)


def _keeps_state(status: str, action: Action) -> bool:
    """Whether `action` may be taken on a ticket in `status` and leaves its state as it is (an update such as a join,
    whose event is all it writes; a cadre's response stamping the first response is not asked about here)."""
    try:
        return next_status(action, Status(status)).value == status
    except IllegalTransition:
        return False


def _join_at_once(
    connection: Connection, scope: dict[str, str], community: str, number: int, status: str, reporter: Actor,
    now: dt.datetime, note: str,
) -> Row:  # fmt: skip
    """Ticket `number`'s state and its reporters' (how many are active, `reporter`'s row, whether it is active) read
    by one statement that also writes, when `reporter` has no row yet and the ticket is still in `status`, the
    `join` event `apply_action` would write and the new reporter (PostgreSQL: `storage.new_reporter`; `scope`: the
    session's `community_params`; `community`: the rows'). The ticket's time is the caller's to touch."""
    event = {**_event_row(community, Action.JOIN, reporter, now, {}, note, status, status), "ticket_id": number}
    row = {**_reporter_row(community, reporter, now), "ticket_id": number}
    return connection.execute(join_statement(bool(scope)), join_params(event, row) | scope).one()


def _wrote(found: Row, status: str) -> bool:
    """Whether `_join_at_once` wrote the join: a newcomer to a ticket still in `status`."""
    return found.row_id is None and found.status == status


def _insert_reporter(session: Session, ticket: Ticket, reporter: Actor, now: dt.datetime) -> None:
    """A new active reporter of `ticket` (a Core insert, as `_record`'s events)."""
    row = {**_reporter_row(_community_of(session, ticket), reporter, now), "ticket_id": ticket.id}
    session.connection().execute(insert_reporter(), row)


def _reporter_row(community: str, reporter: Actor, now: dt.datetime) -> dict[str, Any]:
    """An active reporter's row of a community's ticket, but for the ticket's number."""
    return {"community_id": community, "member_id": reporter.id, "member_name": reporter.name, "joined_at": now,
            "active": True}  # fmt: skip


def remove_reporter(session: Session, ticket: Ticket, reporter: Actor, *, now: dt.datetime) -> None:
    row = session.exec(
        select(TicketReporter).where(TicketReporter.ticket_id == ticket.id, TicketReporter.member_id == reporter.id)
    ).one()
    apply_action(session, ticket, Action.LEAVE, actor=reporter, now=now)
    row.active = False
    session.add(row)


def get_ticket(session: Session, number: int) -> Ticket | None:
    """Ticket `number` of the session's community (None: no such ticket there).

    The session's own object when it has one; else the row is read with a Core statement built once and joins
    the session as loaded (`_adopted`): a report that joins a ticket, and most follow-ups and commands, read one,
    and `Session.get` cost twice a join's writes."""
    present = session.identity_map.get(_identity(number))
    if present is not None:
        return present
    scope = community_params(session)
    row = core_connection(session).execute(_by_number(bool(scope)), {"id": number, **scope}).mappings().first()
    return None if row is None else _adopted(session, row)


def _identity(number: int) -> tuple:
    """The session's identity-map key of ticket `number`."""
    return inspect(Ticket).identity_key_from_primary_key((number,))


@cache
def _by_number(scoped: bool) -> Select:
    table = Ticket.__table__
    query = table.select().where(table.c.id == bindparam("id"))
    return query.where(in_community(table)) if scoped else query


def _adopted(session: Session, row: RowMapping) -> Ticket:
    """The ticket of a `row` read through Core, in `session`: the session's object of that number when it has one
    (as a query would give it), else one built from the row as loaded (`_as_loaded`) and added."""
    present = session.identity_map.get(_identity(row["id"]))
    if present is not None:
        return present
    ticket = _as_loaded(row)
    session.add(ticket)
    _touched_time(session, ticket)
    return ticket


def active_reporters(session: Session, ticket_id: int) -> list[TicketReporter]:
    return list(
        session.exec(
            select(TicketReporter)
            .where(TicketReporter.ticket_id == ticket_id, TicketReporter.active)
            .order_by(col(TicketReporter.id))
        )
    )


def is_reporter(session: Session, ticket_id: int, member_id: str) -> bool:
    return any(r.member_id == member_id for r in active_reporters(session, ticket_id))


class MergeCandidate(NamedTuple):
    """What duplicate detection compares of an open ticket: its stored `merge_features` (None for a ticket written
    before they were stored: its description is read instead); and its `status`, which a report joining it records
    (`join_found`). A named tuple: a report reads dozens."""

    id: int
    description: str
    category: str
    location: str | None
    grid_id: str | None
    status: str
    features: str | None = None


def _seen_by_residents() -> ColumnElement[bool]:
    """Not a patrol finding the residents have not been told of (`公开`): a resident's report never disappears
    into one (they would hear nothing more); a cadre can still `合并` it."""
    columns = Ticket.__table__.c
    return or_(columns.source != "patrol", columns.published_at.is_not(None))


def merge_candidates(
    session: Session, *, since: dt.datetime, grid_id: str | None, near: str | None, category: str | None = None,
    place: str | None = None, limit: int = 200,
) -> list[MergeCandidate]:
    """Open tickets created after `since` that a report of `grid_id` at `near` may duplicate, newest first: those of
    that grid or of none whose place agrees with `near` (`_nearby`). With `category`, only
    tickets of that category, or (with `place`) at exactly that place: a report's caller knows when no other ticket
    can reach the threshold (`nlp.similarity.other_category_may_match`). Reads only the compared columns, with a
    Core statement built once (every report runs it)."""
    scope = community_params(session)
    params = {"since": since, "grid_id": grid_id, "near": near, "category": category, "place": place, **scope}
    query = _merge_candidates(
        grid_id is not None, bool(near), category is not None, place is not None, bool(scope), limit
    )
    return _read_candidates(session, query, params)


def _read_candidates(session: Session, query: Select, params: dict[str, Any]) -> list[MergeCandidate]:
    """The rows of a candidate query, fetched at once."""
    return list(map(MergeCandidate._make, core_connection(session).execute(query, params).all()))


@cache
def _merge_candidates(grid: bool, near: bool, category: bool, place: bool, scoped: bool, limit: int) -> Select:
    """`merge_candidates`' query for its kind of call (which filters it has), built once.

    The tickets of the category and those of another category at the place are two selects joined by UNION ALL,
    each read through an index of its own (`ix_ticket_merge_candidates`, `ix_ticket_community_location`): written
    as one `category = … OR location = …`, no index serves it, and SQLite read every open ticket of the window."""
    c = Ticket.__table__.c
    where = [
        _status_in(OPEN_STATES), c.created_at >= bindparam("since"), _seen_by_residents(),
        *_nearby(grid, near),
    ]
    if not category:
        return _candidate_query(where, scoped, limit)
    same = [*where, c.category == bindparam("category")]
    if not place:
        return _candidate_query(same, scoped, limit)
    elsewhere = [*where, c.location == bindparam("place"), c.category != bindparam("category")]
    both = union_all(_candidate_query(same, scoped), _candidate_query(elsewhere, scoped)).subquery()
    return select(*both.c).order_by(_unindexed(both.c.id).desc()).limit(limit)


def _status_in(states: Iterable[Status], status: ColumnElement[str] | None = None) -> ColumnElement[bool]:
    """`status IN (…)` with one fixed parameter for each state, so the statement is rendered once: a list of values
    would be an expanding parameter, rendered again on every execution (a sixth of a candidate query's time).
    `status`: the column as the query names it (default the ticket's `status`)."""
    column = Ticket.__table__.c.status if status is None else status
    return column.in_([literal(state.value) for state in states])


def _nearby(grid: bool, near: bool) -> list[ColumnElement[bool]]:
    """Tickets a message of grid `:grid_id` at place `:near` may be about: of that grid or of none, and, when the
    message names a place (`near`), at a place that agrees with it as `nlp.similarity.place_agreement` has it (none,
    the same, or one of the two starting with the other); when the message's grid is unknown (`grid` false), only
    tickets without a place. Asked of the database, so that a ledger's other places cost a message nothing."""
    c = Ticket.__table__.c
    location = c.location
    placeless = or_(location.is_(None), location == "")
    where = [or_(c.grid_id == bindparam("grid_id"), c.grid_id.is_(None)) if grid else placeless]
    if near:
        place = bindparam("near", type_=String())
        where.append(or_(
            placeless, func.substr(place, 1, func.length(location)) == location,
            func.substr(location, 1, func.length(place)) == place,
        ))  # fmt: skip
    return where


def open_candidates(
    session: Session, *, since: dt.datetime, grid_id: str | None, near: str | None,
    sharing: ReportFacts | None = None, limit: int = 200,
) -> list[MergeCandidate]:
    """Open tickets created after `since` that residents know of and a message of `grid_id` at `near` may be about
    (`_nearby`; with `sharing`, only those that may share a word or a problem with it, `_sharing`), the newest
    `limit` of them: what a follow-up may be about (handlers/followup.py). Only the compared columns, with a Core
    statement built once."""
    return _candidates(session, _open_candidates, since, grid_id, near, sharing, limit)


def resolved_candidates(
    session: Session, *, since: dt.datetime, grid_id: str | None, near: str | None,
    sharing: ReportFacts | None = None, limit: int = 200,
) -> list[MergeCandidate]:
    """Tickets resolved (or since closed) at or after `since` that a message of `grid_id` at `near` may be about,
    newest first: what "still not fixed" may mean."""
    return _candidates(session, _resolved_candidates, since, grid_id, near, sharing, limit)


def _candidates(
    session: Session, query: Callable[[bool, bool, bool, int, int], Select], since: dt.datetime,
    grid_id: str | None, near: str | None, sharing: ReportFacts | None, limit: int,
) -> list[MergeCandidate]:  # fmt: skip
    found = None if sharing is None else needles(sharing)  # None: all of them, not only those sharing a term
    if found == ():
        return []
    scope = community_params(session)
    params = {"since": since, "grid_id": grid_id, "near": near, **scope}
    params |= {f"needle{n}": needle for n, needle in enumerate(found or ())}
    statement = query(grid_id is not None, bool(near), bool(scope), len(found or ()), limit)
    return _read_candidates(session, statement, params)


@cache
def _open_candidates(grid: bool, near: bool, scoped: bool, needle_count: int, limit: int) -> Select:
    c = Ticket.__table__.c
    where = [_status_in(OPEN_STATES), c.created_at >= bindparam("since"), _seen_by_residents()]
    return _candidate_query([*where, *_nearby(grid, near), *_sharing(needle_count)], scoped, limit)


@cache
def _resolved_candidates(grid: bool, near: bool, scoped: bool, needle_count: int, limit: int) -> Select:
    """Read through the time of resolution: on SQLite, the community and the states are kept off the planner's
    choices (`_unindexed`), which would otherwise read every closed ticket of the community's history."""
    c = Ticket.__table__.c
    where = [
        _status_in((Status.RESOLVED, Status.CLOSED), _unindexed(c.status)),
        c.resolved_at >= bindparam("since"), *_nearby(grid, near), *_sharing(needle_count),
    ]
    if scoped:
        where.append(_unindexed(c.community_id) == bindparam(COMMUNITY))
    return _candidate_query(where, False, limit)


class _position(FunctionElement):
    """Where a string first occurs in a text, from 1 (0: nowhere; NULL when either is NULL): SQLite's `instr`,
    PostgreSQL's `strpos`."""

    type = Integer()
    inherit_cache = True


@compiles(_position)
def _instr(element: _position, compiler: Any, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(_position, "postgresql")
def _strpos(element: _position, compiler: Any, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


def _sharing(needle_count: int) -> list[ColumnElement[bool]]:
    """Tickets whose stored features contain one of `needle_count` needles `:needle0`… (`nlp.similarity.needles`:
    those that share a word or a problem with the message), or have none of the current version (their text is
    read, as `nlp.similarity.stored_facts` does): the others cannot match, so the database keeps them back. Each
    count has a statement of its own (at most `nlp.similarity.MAX_NEEDLES`), rendered once."""
    if not needle_count:
        return []
    features = Ticket.__table__.c.merge_features
    current = func.substr(features, 1, len(FEATURES_PREFIX)) == literal(FEATURES_PREFIX)
    found = [_position(features, bindparam(f"needle{n}", type_=String())) > 0 for n in range(needle_count)]
    return [or_(features.is_(None), ~current, *found)]


def _candidate_query(where: list[ColumnElement[bool]], scoped: bool, limit: int | None = None) -> Select:
    """The columns of a `MergeCandidate` of the tickets `where` says (of the session's community when `scoped`),
    the newest `limit` of them (without `limit`: unordered, a part of a union)."""
    table = Ticket.__table__
    if scoped:
        where = [*where, in_community(table)]
    c = table.c
    query = select(c.id, c.description, c.category, c.location, c.grid_id, c.status, c.merge_features).where(*where)
    return query if limit is None else query.order_by(_unindexed(c.id).desc()).limit(limit)


class _unindexed(FunctionElement):
    """A column that SQLite must not read or sort through an index: a unary `+` (the column elsewhere).

    Without statistics, SQLite's planner prefers an index that hands rows over in the order asked
    (`ix_ticket_category` gives a category's tickets by id) or that matches more equalities (the community's
    states) to the one that selects the candidates: it then walks a category's or the community's whole history,
    every closed ticket included (2.4–7.6 ms a query beside 10,000 closed tickets, against 0.1–0.3 ms)."""

    inherit_cache = True

    def __init__(self, column: ColumnElement[Any]) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(_unindexed)
def _column(element: _unindexed, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_unindexed, "sqlite")
def _unary_plus(element: _unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


def open_tickets_assigned_to(session: Session, cadre_id: str) -> list[Ticket]:
    return list(
        session.exec(
            select(Ticket)
            .where(Ticket.assignee_id == cadre_id, col(Ticket.status).in_([s.value for s in OPEN_STATES]))
            .order_by(col(Ticket.id))
        )
    )


def tickets_reported_by(session: Session, member_id: str, limit: int = 10) -> list[Ticket]:
    """The newest `limit` tickets `member_id` is an active reporter of, newest first (every follow-up and
    attachment reads them: a Core statement built once, its rows adopted as `get_ticket`'s)."""
    scope = community_params(session)
    params = {"member_id": member_id, "limit": limit, **scope}
    rows = core_connection(session).execute(_reported_by(bool(scope)), params).mappings().all()
    return [_adopted(session, row) for row in rows]


@cache
def _reported_by(scoped: bool) -> Select:
    tickets, reporters = Ticket.__table__, TicketReporter.__table__
    query = (
        tickets.select()
        .join(reporters, reporters.c.ticket_id == tickets.c.id)
        .where(reporters.c.member_id == bindparam("member_id"), reporters.c.active)
        .order_by(tickets.c.id.desc())
        .limit(bindparam("limit"))
    )
    return query.where(in_community(tickets), in_community(reporters)) if scoped else query


def all_tickets(session: Session) -> list[Ticket]:
    return list(session.exec(select(Ticket).order_by(col(Ticket.id))))


def ticket_events(session: Session, ticket_id: int) -> list[TicketEvent]:
    return list(
        session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(col(TicketEvent.id)))
    )


def rebuild_ticket(events: Sequence[TicketEvent]) -> dict[str, Any]:
    """The ledger fields of a ticket as its events say they are."""
    state: dict[str, Any] = dict.fromkeys(LEDGER_FIELDS)
    state.update(urgent=False, confidence=1.0, chat_is_private=False, agenda=False)
    for event in events:
        for field, value in event.changes.items():
            state[field] = _decode(field, value)
    return state


def ledger_fields(ticket: Ticket) -> dict[str, Any]:
    return {field: getattr(ticket, field) for field in LEDGER_FIELDS}


def ticket_facts(session: Session, *, created_before: dt.datetime | None = None) -> list[TicketFacts]:
    """Every ticket as the rates see it, with all the ratings its events recorded."""
    query = select(Ticket).order_by(col(Ticket.id))
    if created_before is not None:
        query = query.where(col(Ticket.created_at) < created_before)
    ratings: dict[int, list[tuple[dt.datetime, str]]] = {}
    for event in session.exec(select(TicketEvent).where(TicketEvent.action == Action.RATE.value)):
        ratings.setdefault(event.ticket_id, []).append((event.at, event.changes["rating"]))
    return [
        TicketFacts(
            number=t.id, category=t.category, grid_id=t.grid_id, location=t.location, assignee_id=t.assignee_id,
            status=Status(t.status), created_at=t.created_at, response_due_at=t.response_due_at,
            first_response_at=t.first_response_at, resolution_due_at=t.resolution_due_at, resolved_at=t.resolved_at,
            ratings=tuple(sorted(ratings.get(t.id, []))), unit_id=t.unit_id, dispatched_at=t.dispatched_at,
            unit_response_due_at=t.unit_response_due_at, unit_first_response_at=t.unit_first_response_at,
            unit_resolution_due_at=t.unit_resolution_due_at, source=t.source,
        )
        for t in session.exec(query)
    ]
