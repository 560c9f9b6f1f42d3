"""Whether a report has any incident to be checked against, in one cheap query (every report asks)."""

from __future__ import annotations

import datetime as dt
from functools import cache

from sqlalchemy import Select, bindparam, or_, select
from sqlmodel import Session

from storage.db import community_params, core_connection, in_community
from storage.incidents import IncidentStatus
from storage.models import Incident


def incident_since(session: Session, *, since: dt.datetime) -> bool:
    """Whether an incident of the session's community is not ended (恢复), or ended at or after `since`.

    Without one, no report can be about a known incident: `handlers.notices.answer` reads only incidents going on
    and those ended within its `RECHECK_WINDOW`, so the report flow need not ask it (two ORM queries)."""
    scope = community_params(session)
    return core_connection(session).execute(_incident_since(bool(scope)), {"since": since, **scope}).first() is not None


@cache
def _incident_since(scoped: bool) -> Select:
    table = Incident.__table__
    query = (
        select(table.c.id)
        .where(or_(table.c.status == IncidentStatus.ACTIVE.value, table.c.ended_at >= bindparam("since")))
        .limit(1)
    )
    return query.where(in_community(table)) if scoped else query
