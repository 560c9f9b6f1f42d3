"""Members, the configured directory (cadres, grids, groups) and rota swaps made in chat."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache

from sqlalchemy import Select, bindparam, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from settings.models import RotaOverride, Settings
from storage.db import community_params, core_connection, in_community, per_transaction
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


def remember_members(session: Session, members: Sequence[tuple[str, str, dt.datetime, str | None]]) -> None:
    """Record residents, each as (id, name, time first seen, community): from a group, the community they wrote in.

    One statement for all of them, as every batch of messages runs it: insert each member, or update their name and
    community when one of them changed (else nothing is written)."""
    if not members:
        return
    rows = [
        {"id": member_id, "name": name, "first_seen_at": now, "community_id": community_id}
        for member_id, name, now, community_id in members
    ]
    core_connection(session).execute(_remember_member(session.get_bind().dialect.name), rows)


@cache
def _remember_member(dialect: str) -> postgresql.Insert | sqlite.Insert:
    """`remember_members`' upsert, built once; the members come as its parameters."""
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
    one). A Core statement built once, asked once per transaction (a batch of messages shares it) until the
    session adds a swap: every report looks up who is on duty."""
    return list(per_transaction(session, ("rota swaps", since), (RotaSwap,), lambda: _read_swaps(session, since)))


def _read_swaps(session: Session, since: dt.date | None) -> list[RotaOverride]:
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
