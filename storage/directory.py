"""Members, the configured directory (cadres, grids, groups) and rota swaps made in chat."""

from __future__ import annotations

import datetime as dt
from functools import cache
from weakref import WeakKeyDictionary

from sqlalchemy import Select, bindparam, event, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from settings.models import RotaOverride, Settings
from storage.db import community_params, core_connection, in_community
from storage.models import CadreRecord, GridRecord, GroupRecord, Member, RotaSwap


def sync_directory(session: Session, settings: Settings) -> None:
    """Mirror config.yaml's cadres, grids and groups into the database (for reports and the board)."""
    for grid in settings.grids:
        session.merge(GridRecord(id=grid.id, name=grid.name, buildings=list(grid.buildings)))
    for cadre in settings.cadres:
        session.merge(
            CadreRecord(id=cadre.id, name=cadre.name, chat_id=cadre.chat_id, role=cadre.role.value, grids=cadre.grids)
        )
    for group in settings.groups:
        session.merge(GroupRecord(name=group.name, chat_id=group.id, kind=group.kind.value, grids=list(group.grids)))


def remember_member(
    session: Session, member_id: str, name: str, *, now: dt.datetime, community_id: str | None = None
) -> None:
    """Record a resident (and, from a group, the community they wrote in: `community_id`).

    Every message from a resident runs it, so what this process wrote and saw committed is remembered
    (`_REMEMBERED`) and not written again: the same name (and community, or none given) costs no statement. Else one
    statement inserts the member, or updates their name and community when one of them changed. With several
    processes, one may skip writing back a community another process overwrote meanwhile: the member's community
    then says where they wrote one message ago, until their next message in another group."""
    engine = session.get_bind()
    known = _REMEMBERED.get(engine, {}).get(member_id)
    if known is not None and known[0] == name and community_id in (None, known[1]):
        return
    row = {"id": member_id, "name": name, "first_seen_at": now, "community_id": community_id}
    core_connection(session).execute(_remember_member(engine.dialect.name), row)
    kept = community_id if community_id is not None else (known[1] if known else None)
    session.info.setdefault(_WRITTEN, {})[member_id] = (name, kept)


_REMEMBERED: WeakKeyDictionary[Engine, dict[str, tuple[str, str | None]]] = WeakKeyDictionary()
"""Per ledger (engine): each member's name and community as this process last committed them."""
_WRITTEN = "members_written"
"""`Session.info` key of the members a transaction wrote, remembered once it commits."""
_REMEMBERED_AT_MOST = 200_000


@event.listens_for(Session, "after_commit")
def _remember_committed(session: Session) -> None:
    written = session.info.pop(_WRITTEN, None)
    if written:
        remembered = _REMEMBERED.setdefault(session.get_bind(), {})
        if len(remembered) > _REMEMBERED_AT_MOST:
            remembered.clear()
        remembered.update(written)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


@cache
def _remember_member(dialect: str) -> postgresql.Insert | sqlite.Insert:
    """`remember_member`'s upsert, built once; the member comes as its parameters."""
    table = Member.__table__
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    new = statement.excluded
    community = func.coalesce(new.community_id, table.c.community_id)
    return statement.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={"name": new.name, "community_id": community},
        where=or_(table.c.name != new.name, table.c.community_id.is_distinct_from(community)),
    )


def add_swap(session: Session, *, date: dt.date, cadre_id: str, replacement_id: str, by: str, now: dt.datetime) -> None:
    session.add(RotaSwap(date=date, cadre_id=cadre_id, replacement_id=replacement_id, created_by=by, created_at=now))


def swaps(session: Session, since: dt.date | None = None) -> list[RotaOverride]:
    """Chat-made swaps as rota overrides, oldest first so later swaps win (of the session's community, when it has
    one). A Core statement built once: every report looks up who is on duty."""
    params = community_params(session)
    query = _swaps(since is not None, bool(params))
    rows = core_connection(session).execute(query, {**params, "since": since} if since is not None else params)
    return [
        RotaOverride(date=date, cadre=cadre_id, replacement=replacement_id, reason="换班")
        for date, cadre_id, replacement_id in rows
    ]


@cache
def _swaps(since: bool, scoped: bool) -> Select:
    table = RotaSwap.__table__
    query = select(table.c.date, table.c.cadre_id, table.c.replacement_id).order_by(table.c.id)
    if since:
        query = query.where(table.c.date >= bindparam("since"))
    return query.where(in_community(table)) if scoped else query
