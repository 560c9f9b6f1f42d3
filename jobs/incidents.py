"""Known incidents (`通知`) in the jobs: the author asked when the expected end passes, and the incidents as the
digest and the daily report read them.

When an incident that is not ended (`恢复`) reaches its expected end (`至 15:00`), its author — the cadre who
posted it — is asked once, privately, to confirm: `恢复 3 说明` if it is back, a new `通知` with a new expected
time if not. Reports after the expected end already open tickets again (`ledger.incidents.lasts_at`); the
question makes sure the residents who joined it still hear that it ended. One occurrence per incident and
expected end (`通知3 2026-11-24T07:00Z`, the end in UTC), recorded as an `ask` event of the incident through
`storage.incidents.change_incident`. An incident ended meanwhile is left alone when the occurrence is carried
out (marked done, nothing sent). The check is state-based, run every minute like the triage timeouts: an
expected end that passed while the bot was down is asked about at the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlmodel import Session

from jobs import texts
from jobs.common import private
from jobs.model import Occurrence
from settings.models import Settings
from storage.incidents import (
    IncidentAction,
    IncidentStatus,
    change_incident,
    get_incident,
    incidents_past_expected_end,
    reporter_counts,
)
from storage.models import Incident
from storage.tickets import BOT

log = logging.getLogger(__name__)

JOB = "incident"
_PERIOD = re.compile(r"^通知(?P<number>[0-9]+) (?P<end>\S+)$")


@dataclass(frozen=True)
class IncidentFacts:
    """An incident as the pure job functions read it: its fields and how many residents reported it."""

    number: int
    scope_kind: str
    scope_value: str
    category: str
    text: str
    starts_at: dt.datetime
    expected_end_at: dt.datetime | None
    ended_at: dt.datetime | None
    author_id: str
    author_name: str
    status: str
    reporters: int = 0

    @property
    def id(self) -> int:  # `ledger.incidents.IncidentLike`
        return self.number

    @property
    def active(self) -> bool:
        return self.status == IncidentStatus.ACTIVE.value


def facts_of(session: Session, incidents: Sequence[Incident]) -> list[IncidentFacts]:
    """`incidents` with their reporter counts (one query)."""
    counts = reporter_counts(session, [i.id for i in incidents if i.id is not None])
    return [
        IncidentFacts(
            i.id, i.scope_kind, i.scope_value, i.category, i.text, i.starts_at, i.expected_end_at, i.ended_at,
            i.author_id, i.author_name, i.status, counts.get(i.id, 0),
        )
        for i in incidents
        if i.id is not None
    ]  # fmt: skip


# --- the question to the author ---------------------------------------------------------------------------------


def period_of(number: int, expected_end: dt.datetime) -> str:
    return f"通知{number} {expected_end.astimezone(dt.UTC):%Y-%m-%dT%H:%MZ}"


def due(settings: Settings, incidents: Sequence[IncidentFacts], now: dt.datetime) -> list[Occurrence]:
    """A question to its author for every incident not ended whose expected end passed at `now`."""
    return [_ask(settings, i, now) for i in incidents if _past_end(i, now)]


def next_at(incidents: Sequence[IncidentFacts], after: dt.datetime) -> dt.datetime | None:
    """The first expected end of an incident not ended strictly after `after` (the replay's next stop)."""
    ends = [i.expected_end_at for i in incidents if i.active and i.expected_end_at is not None]
    return min((end for end in ends if end > after), default=None)


def pending(session: Session, now: dt.datetime | None = None) -> list[IncidentFacts]:
    """The incidents not ended with an expected end (passed at `now`, when given): what `due` and `next_at` read."""
    return [
        IncidentFacts(
            i.id, i.scope_kind, i.scope_value, i.category, i.text, i.starts_at, i.expected_end_at, i.ended_at,
            i.author_id, i.author_name, i.status,
        )
        for i in incidents_past_expected_end(session, now)
        if i.id is not None
    ]  # fmt: skip


def _past_end(incident: IncidentFacts, now: dt.datetime) -> bool:
    return incident.active and incident.expected_end_at is not None and incident.expected_end_at <= now


def _ask(settings: Settings, incident: IncidentFacts, now: dt.datetime) -> Occurrence:
    end = incident.expected_end_at
    assert end is not None
    time = time_text(settings, end, now)
    author = settings.cadre(incident.author_id)
    replies = ()
    if author is None:
        log.warning("#通知%s: its author %s is no longer a cadre; nobody asked", incident.number, incident.author_id)
    else:
        replies = (private(author, texts.INCIDENT_ASK.format(number=incident.number, time=time)),)
    return Occurrence(JOB, period_of(incident.number, end), end, replies)


def still_due(session: Session, occurrence: Occurrence) -> Occurrence:
    """`occurrence` as it is to be carried out now: without its message when the incident was ended (or its
    expected end changed) since it was composed; it is still marked done, the moment it was for has passed."""
    incident = _incident_of(session, occurrence)
    if incident is not None and incident.status == IncidentStatus.ACTIVE.value and incident.expected_end_at:
        if period_of(incident.id or 0, incident.expected_end_at) == occurrence.period:
            return occurrence
    log.warning("%s %s no longer applies: the incident was ended or changed", occurrence.job, occurrence.period)
    return replace(occurrence, replies=())


def record(session: Session, occurrence: Occurrence, settings: Settings, now: dt.datetime) -> None:
    """The incident's `ask` event, in the occurrence's transaction (only when the question was sent)."""
    incident = _incident_of(session, occurrence)
    if incident is None or not occurrence.replies or incident.expected_end_at is None:
        return
    author = settings.cadre(incident.author_id)
    note = texts.EVENT_INCIDENT_ASK.format(
        time=time_text(settings, incident.expected_end_at, now), author=author.name if author else incident.author_name
    )
    change_incident(session, incident, IncidentAction.ASK, actor=BOT, now=now, note=note)


def _incident_of(session: Session, occurrence: Occurrence) -> Incident | None:
    found = _PERIOD.match(occurrence.period)
    return get_incident(session, int(found["number"])) if found else None


# --- wording ----------------------------------------------------------------------------------------------------


def time_text(settings: Settings, instant: dt.datetime, now: dt.datetime) -> str:
    """`15:00` on the day of `now`, else `11月24日15:00` (local time)."""
    local = instant.astimezone(settings.tz)
    clock = f"{local.hour}:{local.minute:02d}"
    if local.date() == now.astimezone(settings.tz).date():
        return clock
    return texts.INCIDENT_DAY.format(month=local.month, day=local.day) + clock


