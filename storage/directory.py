"""Members, the configured directory (cadres, grids, groups) and rota swaps made in chat."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from settings.models import RotaOverride, Settings
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


def remember_member(session: Session, member_id: str, name: str, *, now: dt.datetime) -> None:
    member = session.get(Member, member_id)
    if member is None:
        session.add(Member(id=member_id, name=name, first_seen_at=now))
    elif member.name != name:
        member.name = name
        session.add(member)


def add_swap(session: Session, *, date: dt.date, cadre_id: str, replacement_id: str, by: str, now: dt.datetime) -> None:
    session.add(RotaSwap(date=date, cadre_id=cadre_id, replacement_id=replacement_id, created_by=by, created_at=now))


def swaps(session: Session, since: dt.date | None = None) -> list[RotaOverride]:
    """Chat-made swaps as rota overrides, oldest first so later swaps win."""
    query = select(RotaSwap).order_by(col(RotaSwap.id))
    if since is not None:
        query = query.where(col(RotaSwap.date) >= since)
    return [
        RotaOverride(date=s.date, cadre=s.cadre_id, replacement=s.replacement_id, reason="换班")
        for s in session.exec(query)
    ]
