"""Whether a report has any incident to be checked against, in one cheap query per transaction (every report asks)."""

from __future__ import annotations

import datetime as dt
from functools import cache

from sqlalchemy import Select, case, func, select
from sqlmodel import Session

from storage.db import community_params, core_connection, in_community, per_transaction
from storage.incidents import IncidentStatus
from storage.models import Incident


def incident_since(session: Session, *, since: dt.datetime) -> bool:
    """Whether an incident of the session's community is not ended (恢复), or ended at or after `since`.

    Without one, no report can be about a known incident: `handlers.notices.answer` reads only incidents going on
    and those ended within its `RECHECK_WINDOW`, so the report flow need not ask it (two ORM queries). The ledger
    is asked once per transaction (a batch of messages shares it) and again after the session writes an incident."""
    going_on, last_end = per_transaction(session, "incident presence", (Incident,), lambda: _read(session))
    return going_on or (last_end is not None and last_end >= since)


def _read(session: Session) -> tuple[bool, dt.datetime | None]:
    scope = community_params(session)
    going_on, last_end = core_connection(session).execute(_presence(bool(scope)), scope).one()
    return bool(going_on), last_end


@cache
def _presence(scoped: bool) -> Select:
    """Whether any incident is going on, and the latest end of those ended (incidents are few: tens a year)."""
    table = Incident.__table__
    going_on = func.max(case((table.c.status == IncidentStatus.ACTIVE.value, 1), else_=0))
    query = select(going_on, func.max(table.c.ended_at))
    return query.where(in_community(table)) if scoped else query
