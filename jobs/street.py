"""The 街道's own job: every day at `daily_overdue` (the 街道 file), each staff member gets the overdue list of
every community (督办), the same text a staff member's `督办` gets in private (ledger/supervision.py).

Its runs are kept in `job_run` under the 街道's own id (`street:<id>`), so they never collide with a community's,
and each day's list is sent once whatever restarts or leaders come and go.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Engine

from jobs import calendar
from jobs.common import private
from jobs.model import Occurrence
from jobs.scheduler import JobSpec
from jobs.store import carry_out, job_run
from ledger.supervision import names_in, overdue_text
from settings.street import Street
from storage.db import new_session
from storage.street_queries import overdue_by_community, overdue_tickets

log = logging.getLogger(__name__)

JOB = "overdue"
LISTED = 10
"""Overdue tickets read for one list (ledger.supervision.SHOWN are shown)."""


def street_community(street: Street) -> str:
    """Whose the 街道's own job runs are (`job_run.community_id`): no community's."""
    return f"street:{street.info.id}"


def overdue_trigger(street: Street) -> CronTrigger:
    at = street.daily_overdue
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=street.tz)


@dataclass
class StreetRunner:
    street: Street
    engine: Engine

    @property
    def prefix(self) -> str:
        return street_community(self.street)

    def specs(self) -> list[JobSpec]:
        return [JobSpec(JOB, overdue_trigger(self.street), calendar.DAILY_GRACE)]

    def run(self, now: dt.datetime, jobs: Iterable[str] = (JOB,), *, since: dt.datetime | None = None) -> int:
        """Send the latest daily list due by `now` (within its grace, after `since`) if it was not sent."""
        if JOB not in jobs:
            return 0
        start = now - calendar.DAILY_GRACE if since is None else max(now - calendar.DAILY_GRACE, since)
        fires = calendar.fires_between(overdue_trigger(self.street), start, now)
        if not fires:
            return 0
        at = fires[-1]
        period = at.astimezone(self.street.tz).date().isoformat()
        with new_session(self.engine, self.prefix) as session:
            if job_run(session, JOB, period) is not None:
                return 0
            done = carry_out(session, self.occurrence(at, period), now=now)
            session.commit()
        return int(done)

    def occurrence(self, at: dt.datetime, period: str) -> Occurrence:
        """The day's list to every staff member."""
        text = overdue_message(self.street, self.engine, at)
        return Occurrence(JOB, period, at, replies=tuple(private(member, text) for member in self.street.staff))


def overdue_message(street: Street, engine: Engine, now: dt.datetime) -> str:
    """The 督办 text at `now`, read across the communities (a session of no community)."""
    with new_session(engine) as session:
        listed, counts = overdue_tickets(session, now, limit=LISTED), overdue_by_community(session, now)
    return overdue_text(
        street.info.name, listed, counts, names_in(street), now=now, tz=street.tz, board_url=street.board.url
    )
